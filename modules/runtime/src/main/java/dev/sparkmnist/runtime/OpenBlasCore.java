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
 * <p>OpenBLAS reads {@value #ENV} from the process's environment when it loads and then uses the kernels it names,
 * without checking that the CPU has their instructions (a wrong choice stops the JVM with an illegal instruction).
 * {@link #chooseBeforeLoad} sets it to {@value #CORE} in this JVM's own environment (glibc's {@code setenv} through
 * JNA, which ND4J already ships through OSHI), before ND4J loads OpenBLAS, only where all of these hold: the switch
 * {@value #PROPERTY} is not {@code false}, {@value #ENV} is not set already (a user's choice wins), OpenBLAS is not
 * loaded yet, the CPU is AMD's and {@code /proc/cpuinfo} lists every instruction set the SkylakeX kernels are built
 * for ({@link #SKYLAKEX_FLAGS}). Intel CPUs with AVX-512 get those kernels from OpenBLAS's own choice. Each JVM decides
 * for its own CPU (executors of one cluster may differ); the log says what OpenBLAS runs ({@link #describe}).
 */
public final class OpenBlasCore {
    /** The switch: {@code -Dsparkmnist.openblasAvx512=false} (or {@code --conf spark.sparkmnist.openblasAvx512}). */
    public static final String PROPERTY = "sparkmnist.openblasAvx512";
    /** The environment variable OpenBLAS reads as it loads. */
    public static final String ENV = "OPENBLAS_CORETYPE";
    /** OpenBLAS's name for its AVX-512 kernels (Skylake-SP and later). */
    public static final String CORE = "SkylakeX";
    /** The CPU flags (as {@code /proc/cpuinfo} names them) OpenBLAS's SkylakeX kernels are compiled for. */
    static final Set<String> SKYLAKEX_FLAGS = Set.of("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd");
    private static final Logger LOG = LoggerFactory.getLogger(OpenBlasCore.class);
    private static Decision decision;

    /** What {@link #chooseBeforeLoad} did, and why. */
    public enum Decision {
        /** {@value #ENV} set to {@value #CORE} in this JVM's environment before OpenBLAS loaded. */
        SET("set to " + CORE + " before OpenBLAS loaded: an AMD CPU with AVX-512, where 0.3.19 picks its AVX2 kernels"),
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
        if (d != Decision.SET) {
            return d;
        }
        try {
            LibC libc = Native.loadLibrary("c", LibC.class);
            return libc.setenv(ENV, CORE, 0) == 0 ? Decision.SET : Decision.FAILED;
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
        if (switchValue != null && switchValue.strip().equalsIgnoreCase("false")) {
            return Decision.SWITCHED_OFF;
        }
        if (envValue != null && !envValue.isBlank()) {
            return Decision.ALREADY_SET;
        }
        if (loaded) {
            return Decision.TOO_LATE;
        }
        String vendor = field(cpuinfo, "vendor_id");
        Set<String> flags = Arrays.stream(field(cpuinfo, "flags").split("\\s+")).collect(Collectors.toSet());
        return vendor.equals("AuthenticAMD") && flags.containsAll(SKYLAKEX_FLAGS) ? Decision.SET
            : Decision.NOT_NEEDED;
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
