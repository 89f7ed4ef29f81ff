package dev.sparkmnist.runtime;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flush-to-zero and denormals-are-zero on the calling thread while a training loop runs, as PyTorch's
 * {@code torch.set_flush_denormal(True)} does: the CPU then treats subnormal operands as zero and writes zero for
 * subnormal results instead of taking its slow path (microcode assists) for each.
 *
 * <p>Why: as a network learns, its gradients for confidently classified examples shrink below 1e-19, whose squares
 * in Adam's second moment underflow into the subnormal range; with the MLP's state after 20 epochs ND4J's Adam op took
 * 1.41 ms instead of 0.74 ms, and the MLP's epochs grew from 2.6 to 4.6 s over 20 epochs (BENCHMARKS.md, "Round 5").
 * Neither the JVM nor ND4J sets the mode. It is set through glibc's {@code fegetenv}/{@code fesetenv} (JNA, which
 * ND4J already ships through OSHI) on x86-64 Linux, where the SSE control register (MXCSR) holds it per thread; on
 * other systems {@link #enable} does nothing. ND4J runs its operations on the calling thread at one thread per task
 * (this project's default where tasks share the cores); with more, the mode of ND4J's other threads is the one they
 * started with (a new thread inherits its creator's), which was not examined on these 2 cores.
 *
 * <p>What it changes: only values below the smallest normal float (1.2e-38) or double, which become zero; Java code
 * on the thread is affected the same way while the scope is open (the training loop only: {@link Scope#close}
 * restores the thread's previous mode, so Spark's task threads go back to the pool as they came). Training ran to the
 * same losses and accuracies to every printed digit with and without it (BENCHMARKS.md). Switched off with the system
 * property {@value #PROPERTY}{@code =false} (for executors: {@code spark.executor.extraJavaOptions}).
 */
public final class FlushToZero {
    /** System property that switches the mode off when {@code false}. */
    public static final String PROPERTY = "sparkmnist.flushToZero";
    private static final Logger LOG = LoggerFactory.getLogger(FlushToZero.class);
    /** glibc's x86-64 {@code fenv_t}: the 28-byte x87 environment, then the SSE control register (MXCSR). */
    private static final int FENV_BYTES = 32;
    private static final int MXCSR_OFFSET = 28;
    /** MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6) bits. */
    static final int FTZ_DAZ = 0x8040;
    private static final LibM LIBM = load();
    private static final Scope NOTHING = new Scope(null);

    /** The two glibc functions used, through JNA. */
    public interface LibM extends Library {
        /** Stores the thread's floating-point environment. */
        int fegetenv(Pointer env);

        /** Installs a floating-point environment on the thread. */
        int fesetenv(Pointer env);
    }

    private FlushToZero() {
    }

    /** Whether this JVM can set the mode (x86-64 Linux with glibc, and not switched off). */
    public static boolean available() {
        return LIBM != null;
    }

    /**
     * Sets flush-to-zero and denormals-are-zero on the calling thread until the returned scope is closed (which
     * restores the thread's previous environment); a scope that does nothing where the mode is not available.
     */
    public static Scope enable() {
        if (LIBM == null) {
            return NOTHING;
        }
        Memory saved = new Memory(FENV_BYTES);
        if (LIBM.fegetenv(saved) != 0) {
            return NOTHING;
        }
        Memory env = new Memory(FENV_BYTES);
        env.write(0, saved.getByteArray(0, FENV_BYTES), 0, FENV_BYTES);
        env.setInt(MXCSR_OFFSET, saved.getInt(MXCSR_OFFSET) | FTZ_DAZ);
        LIBM.fesetenv(env);
        return new Scope(saved);
    }

    /** The calling thread's MXCSR, or -1 where the mode is not available. */
    static int mxcsr() {
        if (LIBM == null) {
            return -1;
        }
        Memory env = new Memory(FENV_BYTES);
        return LIBM.fegetenv(env) == 0 ? env.getInt(MXCSR_OFFSET) : -1;
    }

    private static LibM load() {
        if (!wanted(System.getProperty(PROPERTY))) {
            return null;
        }
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return null;
        }
        try {
            return Native.loadLibrary("m", LibM.class);
        } catch (LinkageError | RuntimeException e) { // no libm, no JNA native stub for this system
            LOG.warn("flush-to-zero not available ({}): subnormal numbers may slow training", e.toString());
            return null;
        }
    }

    /**
     * Whether the property's value asks for the mode: absent or {@code true} yes, {@code false} no (either case,
     * blanks around ignored); any other value keeps the mode on with one warning naming the value and the rule.
     */
    static boolean wanted(String value) {
        String v = value == null ? "true" : value.trim();
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        if (!v.equalsIgnoreCase("true")) {
            LOG.warn("-D{} ({}) must be true or false; flush-to-zero stays on", PROPERTY, value);
        }
        return true;
    }

    /** The thread's environment before {@link #enable}, put back by {@link #close}. */
    public static final class Scope implements AutoCloseable {
        private final Memory saved;

        private Scope(Memory saved) {
            this.saved = saved;
        }

        /** Whether this scope set the mode. */
        public boolean active() {
            return saved != null;
        }

        @Override
        public void close() {
            if (saved != null) {
                LIBM.fesetenv(saved);
            }
        }
    }
}
