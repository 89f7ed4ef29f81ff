package dev.sparkmnist.runtime;

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenBLAS's AVX-512 kernels on AMD CPUs that have AVX-512 (Zen 4 and later). ND4J 1.0.0-M2 bundles OpenBLAS 0.3.19
 * (javacpp 1.5.7), built with the kernels of every x86-64 core and choosing one set as the library loads. Release
 * 0.3.19 predates AMD's AVX-512: on an AMD family 0x19 CPU it picks its Zen kernels (AVX2) even where the CPU has
 * AVX-512, where later releases pick their AVX-512 ones. Measured on a Zen 4 (BENCHMARKS.md, round 22): the MLP's
 * step at 128 took 1.91 ms with the SkylakeX kernels against 2.09 ms with the Zen ones.
 *
 * <p>0.3.19 does not know AMD's families after 0x19 either (Zen 5 is 0x1a): on those it falls back to its Barcelona
 * kernels (AMD's K10 of 2007, before AVX), which took the MLP's step at 64 from 0.82-0.94 ms (SkylakeX) or 1.09-1.12
 * ms (Haswell) to 1.9 ms on a Zen 5 (BENCHMARKS.md, round 28). There, where the SkylakeX kernels do not apply (AVX-512
 * hidden, as some virtual machines do, or the switch off), it gets the Zen kernels ({@value #AVX2_CORE}: AVX2 and FMA).
 *
 * <p>OpenBLAS reads {@value #ENV} from the process's environment when it loads and then uses the kernels it names,
 * without checking that the CPU has their instructions (a wrong choice stops the JVM with an illegal instruction).
 * {@link #chooseBeforeLoad} sets it in this JVM's own environment (glibc's {@code setenv} through JNA, which ND4J
 * already ships through OSHI), before ND4J loads OpenBLAS, only where {@value #ENV} is not set already (a user's
 * choice wins), OpenBLAS is not loaded yet and the CPU is AMD's; to {@value #CORE} where the switch {@value #PROPERTY}
 * is not {@code false} and {@code /proc/cpuinfo} lists every instruction set the SkylakeX kernels are built for
 * ({@link #SKYLAKEX_FLAGS}), else to {@value #AVX2_CORE} on a family after 0x19 that lists {@link #ZEN_FLAGS}. Intel
 * CPUs with AVX-512 get those kernels from OpenBLAS's own choice. Each JVM decides for its own CPU (executors of one
 * cluster may differ); the log says what OpenBLAS runs ({@link #describe}), and where the environment names older
 * kernels than the CPU could run, says so ({@link #environmentHint}).
 */
public final class OpenBlasCore {
    /** The switch: {@code -Dsparkmnist.openblasAvx512=false} (or {@code --conf spark.sparkmnist.openblasAvx512}). */
    public static final String PROPERTY = "sparkmnist.openblasAvx512";
    /** The environment variable OpenBLAS reads as it loads. */
    public static final String ENV = "OPENBLAS_CORETYPE";
    /** OpenBLAS's name for its AVX-512 kernels (Skylake-SP and later). */
    public static final String CORE = "SkylakeX";
    /** OpenBLAS's name for its AVX2 kernels for AMD's Zen cores. */
    public static final String AVX2_CORE = "Zen";
    /** The CPU flags (as {@code /proc/cpuinfo} names them) OpenBLAS's SkylakeX kernels are compiled for. */
    static final Set<String> SKYLAKEX_FLAGS = Set.of("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd");
    /** The CPU flags OpenBLAS's Zen kernels are compiled for. */
    static final Set<String> ZEN_FLAGS = Set.of("avx", "avx2", "fma");
    /** The last AMD CPU family OpenBLAS 0.3.19 knows (0x19: Zen 3 and 4); later ones get its Barcelona kernels. */
    static final int LAST_KNOWN_AMD_FAMILY = 0x19;
    /** OpenBLAS's names of kernels that use AVX-512 (lower case). */
    private static final Set<String> AVX512_CORES = Set.of("skylakex", "cooperlake", "sapphirerapids");
    private static final Logger LOG = LoggerFactory.getLogger(OpenBlasCore.class);
    private static Decision decision;
    /**
     * {@link #environmentHint} for this JVM once {@link #chooseBeforeLoad} has decided, until
     * {@link #logEnvironmentHint} has logged it; null when there is none (or no longer one to log).
     */
    private static String hint;

    /** What {@link #chooseBeforeLoad} did, and why. */
    public enum Decision {
        /** {@value #ENV} set to {@value #CORE} in this JVM's environment before OpenBLAS loaded. */
        SET("set to " + CORE + " before OpenBLAS loaded: an AMD CPU with AVX-512, where 0.3.19 picks its AVX2 kernels"),
        /** {@value #ENV} set to {@value #AVX2_CORE}: an AMD family 0.3.19 does not know, without AVX-512 to use. */
        SET_AVX2("set to " + AVX2_CORE + " before OpenBLAS loaded: an AMD CPU family after 0x19, where 0.3.19 picks its"
            + " pre-AVX Barcelona kernels"),
        /** The switch is off. */
        SWITCHED_OFF("left to OpenBLAS (-D" + PROPERTY + "=false)"),
        /** The environment already names a core type. */
        ALREADY_SET("set by the environment"),
        /** OpenBLAS was loaded before this JVM asked. */
        TOO_LATE("left to OpenBLAS: it was loaded before the choice"),
        /** Not an AMD CPU with every AVX-512 set needed, or no {@code /proc/cpuinfo}. */
        NOT_NEEDED("left to OpenBLAS: not an AMD CPU with AVX-512"),
        /** glibc's {@code setenv} could not be called. */
        FAILED("left to OpenBLAS: setenv failed");

        private final String text;

        Decision(String text) {
            this.text = text;
        }

        /** One phrase for the log. */
        public String text() {
            return text;
        }

        /** The value this decision gives {@value #ENV}, or null where it leaves it alone. */
        String core() {
            return this == SET ? CORE : this == SET_AVX2 ? AVX2_CORE : null;
        }
    }

    /** glibc's {@code setenv}, through JNA. */
    interface LibC extends Library {
        int setenv(String name, String value, int overwrite);
    }

    private OpenBlasCore() {
    }

    /**
     * Sets {@value #ENV} for OpenBLAS where this class's rules say so; must run before ND4J's backend loads
     * ({@link Nd4jRuntime#enableHelpers} calls it). Decides once per JVM; returns the decision.
     */
    public static synchronized Decision chooseBeforeLoad() {
        if (decision == null) {
            decision = choose();
        }
        return decision;
    }

    /**
     * Logs this JVM's {@link #environmentHint} once, if there is one ({@link Nd4jRuntime#configure} calls it as ND4J
     * starts for training): an advice for a run that trains, which a command stopped by a bad input before that does
     * not print.
     */
    public static synchronized void logEnvironmentHint() {
        chooseBeforeLoad();
        if (hint != null) {
            LOG.info(hint);
            hint = null;
        }
    }

    private static Decision choose() {
        String cpuinfo;
        try {
            cpuinfo = Files.readString(Path.of("/proc/cpuinfo"), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            cpuinfo = "";
        }
        String value = System.getProperty(PROPERTY);
        String warning = switchWarning(value);
        if (warning != null) {
            LOG.warn(warning);
        }
        Decision d = decide(value, System.getenv(ENV), openBlasLoaded(), cpuinfo);
        // logged where ND4J starts (logEnvironmentHint), not here: a command that stops at a bad input before any
        // training prints its one line alone
        hint = environmentHint(System.getenv(ENV), cpuinfo);
        if (d.core() == null) {
            return d;
        }
        try {
            LibC libc = Native.loadLibrary("c", LibC.class);
            return libc.setenv(ENV, d.core(), 0) == 0 ? d : Decision.FAILED;
        } catch (LinkageError | RuntimeException e) {
            return Decision.FAILED;
        }
    }

    /**
     * The warning for a {@code -D} value of the switch other than true or false (which {@link #decide} reads as on),
     * or null: as the other switches read a {@code -D} (FlushToZero, SimdAdam); {@code --conf} values are refused
     * before this ({@link Switches#check}).
     */
    static String switchWarning(String value) {
        if (value == null || value.strip().equalsIgnoreCase("true") || value.strip().equalsIgnoreCase("false")) {
            return null;
        }
        return "-D" + PROPERTY + " (" + value + ") must be true or false; OpenBLAS's AVX-512 kernels stay on where"
            + " they apply";
    }

    /**
     * The rules, on their inputs: the switch's value, {@value #ENV}'s value, whether OpenBLAS is loaded, and the
     * text of {@code /proc/cpuinfo} (its first processor's vendor and flags).
     */
    static Decision decide(String switchValue, String envValue, boolean loaded, String cpuinfo) {
        boolean off = switchValue != null && switchValue.strip().equalsIgnoreCase("false");
        if (envValue != null && !envValue.isBlank()) {
            return off ? Decision.SWITCHED_OFF : Decision.ALREADY_SET;
        }
        if (loaded) {
            return off ? Decision.SWITCHED_OFF : Decision.TOO_LATE;
        }
        Set<String> flags = flags(cpuinfo);
        if (field(cpuinfo, "vendor_id").equals("AuthenticAMD")) {
            if (!off && flags.containsAll(SKYLAKEX_FLAGS)) {
                return Decision.SET;
            }
            if (family(cpuinfo) > LAST_KNOWN_AMD_FAMILY && flags.containsAll(ZEN_FLAGS)) {
                return Decision.SET_AVX2;
            }
        }
        return off ? Decision.SWITCHED_OFF : Decision.NOT_NEEDED;
    }

    /**
     * One line for the log where {@value #ENV} ({@code envValue}) names kernels without AVX-512 on a CPU that has
     * every AVX-512 set OpenBLAS's SkylakeX kernels use (the user's choice stands: OpenBLAS runs what it names), or
     * null. On a Zen 5 with {@code OPENBLAS_CORETYPE=Haswell} in the environment the MLP's step took 1.09-1.12 ms
     * against 0.82-0.94 ms with SkylakeX (BENCHMARKS.md, round 28).
     */
    static String environmentHint(String envValue, String cpuinfo) {
        if (envValue == null || envValue.isBlank() || AVX512_CORES.contains(envValue.strip().toLowerCase(Locale.ROOT))
            || !flags(cpuinfo).containsAll(SKYLAKEX_FLAGS)) {
            return null;
        }
        return ENV + "=" + envValue.strip() + " from the environment holds ND4J's OpenBLAS to kernels without AVX-512"
            + " on a CPU that has it; unset it (or set " + ENV + "=" + CORE + ") for OpenBLAS's AVX-512 kernels";
    }

    private static Set<String> flags(String cpuinfo) {
        return Arrays.stream(field(cpuinfo, "flags").split("\\s+")).collect(Collectors.toSet());
    }

    /** The first processor's {@code cpu family} (decimal, as {@code /proc/cpuinfo} writes it), or -1. */
    private static int family(String cpuinfo) {
        try {
            return Integer.parseInt(field(cpuinfo, "cpu family"));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The value of the first line {@code name : value} of {@code cpuinfo}, or "". */
    private static String field(String cpuinfo, String name) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equals(name)) {
                return line.substring(colon + 1).strip();
            }
        }
        return "";
    }

    /** Whether JavaCPP has loaded an OpenBLAS library in this JVM. */
    static boolean openBlasLoaded() {
        return openBlasPath() != null;
    }

    /** The path of the OpenBLAS library JavaCPP loaded (ND4J's BLAS), or null. */
    private static String openBlasPath() {
        try {
            for (Map.Entry<String, String> e : org.bytedeco.javacpp.Loader.getLoadedLibraries().entrySet()) {
                String name = Path.of(e.getValue()).getFileName().toString().toLowerCase(Locale.ROOT);
                if (name.startsWith("libopenblas")) {
                    return e.getValue();
                }
            }
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
        return null;
    }

    /** The kernels the loaded OpenBLAS runs ({@code openblas_get_corename()}), or null before it loads. */
    public static String loadedCore() {
        String path = openBlasPath();
        if (path == null) {
            return null;
        }
        try {
            Function f = NativeLibrary.getInstance(path).getFunction("openblas_get_corename");
            return f.invokeString(new Object[0], false);
        } catch (LinkageError | RuntimeException e) {
            return null;
        }
    }

    /** One phrase for the log: OpenBLAS's kernels and how they were chosen. */
    public static String describe() {
        String core = loadedCore();
        Decision d = chooseBeforeLoad();
        return core == null ? "OpenBLAS not loaded" : "OpenBLAS kernels " + core + " (" + ENV + " " + d.text() + ")";
    }

    /**
     * Loads ND4J the way tasks do and prints the decision's name and the kernels OpenBLAS runs (for a test in a
     * fresh JVM).
     */
    public static void main(String[] args) {
        Nd4jRuntime.configure(1);
        System.out.println(chooseBeforeLoad().name() + " " + loadedCore());
    }
}
