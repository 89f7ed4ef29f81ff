package dev.sparkmnist.runtime;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * glibc's malloc set to keep the native memory a training step frees for the next step, instead of giving it back to
 * the kernel and faulting it in again, page by page, at the next step.
 *
 * <p>Why: ND4J, libnd4j and oneDNN allocate and free megabytes of native memory at every step (outputs, gradients,
 * oneDNN's scratch buffers). With glibc's defaults a thread's arena whose 64 MiB heap is nearly full puts such a buffer
 * in a new heap, which it deletes again when the buffer is freed: measured on a one-JVM LeNet-5 run (BENCHMARKS.md,
 * round 34), the training thread mapped a new heap ({@code mmap} of 128 MiB, two {@code munmap}s to align it) and
 * unmapped it (64 MiB) at every step, and took 30,000-60,000 page faults a second writing into the fresh pages; its
 * epoch 1 ran 6-17 s instead of 4-5 s, in 9 of 87 runs on this project's machines, depending on where the heap's
 * boundary happened to fall (the layout depends on what else was allocated before). With {@code M_TOP_PAD} at
 * {@value #TOP_PAD_MIB} MiB glibc keeps such a heap (it deletes a heap only when the heap before it has that much
 * room), with {@code M_TRIM_THRESHOLD} at {@value #TRIM_THRESHOLD_MIB} MiB it does not hand a heap's free top back
 * ({@code madvise}) after each step, and since setting either turns off glibc's self-adjusting threshold for
 * {@code mmap} (which had risen past these buffers' sizes), {@code M_MMAP_THRESHOLD} is set to that adjustment's own
 * ceiling, {@value #MMAP_THRESHOLD_MIB} MiB. The cost is memory kept mapped after a
 * peak: only pages once touched count, at most the peak the process already reached.
 *
 * <p>Set once per JVM, through JNA, where ND4J is set up ({@link Nd4jRuntime#configure}); glibc only (on other C
 * libraries, or where {@code mallopt} refuses a value, nothing changes). {@code -D}{@value #PROPERTY}{@code =false}
 * (or {@code --conf spark.sparkmnist.mallocPad=false}) keeps glibc's defaults.
 */
public final class MallocPad {
    /** System property that keeps glibc's defaults when {@code false}. */
    public static final String PROPERTY = "sparkmnist.mallocPad";
    static final int TOP_PAD_MIB = 64;
    static final int TRIM_THRESHOLD_MIB = 128;
    static final int MMAP_THRESHOLD_MIB = 32;
    /** glibc's {@code mallopt} parameters ({@code malloc.h}). */
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_TOP_PAD = -2;
    private static final int M_MMAP_THRESHOLD = -3;
    private static final Logger LOG = LoggerFactory.getLogger(MallocPad.class);
    /** What {@link #apply} did in this JVM, once decided. */
    private static final AtomicReference<String> OUTCOME = new AtomicReference<>();

    /** The glibc functions used, through JNA. */
    public interface LibC extends Library {
        /** Sets a malloc parameter; 1 on success, 0 where the value is refused. */
        int mallopt(int param, int value);

        /** glibc's version: only glibc has it. */
        String gnu_get_libc_version();
    }

    private MallocPad() {
    }

    /**
     * Sets the three parameters in this JVM, once (later calls return what the first did): "set" where glibc took
     * them, else why not (the switch off, not glibc, a refused value). Logs the outcome once.
     */
    public static String apply() {
        String done = OUTCOME.get();
        if (done != null) {
            return done;
        }
        synchronized (OUTCOME) {
            if (OUTCOME.get() == null) {
                String outcome = set();
                OUTCOME.set(outcome);
                if (outcome.equals("set")) {
                    LOG.info("glibc's malloc keeps freed native memory for the next step: M_TOP_PAD {} MiB,"
                        + " M_TRIM_THRESHOLD {} MiB, M_MMAP_THRESHOLD {} MiB (-D{}=false for glibc's defaults)",
                        TOP_PAD_MIB, TRIM_THRESHOLD_MIB, MMAP_THRESHOLD_MIB, PROPERTY);
                } else {
                    LOG.info("glibc's malloc keeps its defaults: {}", outcome);
                }
            }
            return OUTCOME.get();
        }
    }

    static String set() {
        if (!Switches.enabled(PROPERTY)) {
            return "-D" + PROPERTY + "=false";
        }
        LibC libc;
        try {
            libc = Native.loadLibrary("c", LibC.class);
            libc.gnu_get_libc_version();
        } catch (LinkageError | RuntimeException e) {
            return "not glibc (" + e.getClass().getSimpleName() + ")";
        }
        // the mmap threshold first: the other two turn off its self-adjustment wherever it stands
        if (libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MIB << 20) != 1
            || libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_MIB << 20) != 1
            || libc.mallopt(M_TOP_PAD, TOP_PAD_MIB << 20) != 1) {
            return "mallopt refused a value";
        }
        return "set";
    }
}
