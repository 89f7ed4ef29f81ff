package dev.sparkmnist.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Whether the GPUs this process sees can run the device code compiled into ND4J's CUDA backend, checked before ND4J
 * starts so that an unsupported GPU fails with a message instead of CUDA error 209 ("no kernel image is available")
 * in the middle of training.
 *
 * <p>A GPU of compute capability X.Y runs SASS built for {@code sm_XZ} with Z &lt;= Y (same major version) and JIT-compiles
 * PTX built for any architecture up to X.Y. ND4J's only CUDA builds for DL4J 1.0.0-M2.x ({@code nd4j-cuda-11.6} and
 * {@code nd4j-cuda-11.4}, 1.0.0-M2.1) carry SASS for sm_37 to sm_86 and no PTX: they run on Kepler (3.7) to Ada
 * (8.9) GPUs and cannot run on Hopper (9.0, H100/H200) or newer.
 *
 * <p>Uses only java.base so that {@link #main} runs on a GPU node with nothing but a JRE and the jar.
 */
public final class CudaCompatibility {
    /** A class only ND4J's CUDA backend has. */
    static final String CUDA_BACKEND_CLASS = "org.nd4j.linalg.jcublas.JCublasBackend";
    /** Where nd4j-cuda keeps its native library, one folder per classifier. */
    static final List<String> LIBRARY_RESOURCES = List.of(
        "org/nd4j/linalg/jcublas/bindings/linux-x86_64/libnd4jcuda.so",
        "org/nd4j/linalg/jcublas/bindings/linux-x86_64-cudnn/libnd4jcuda.so");

    /**
     * The device code in {@code libnd4jcuda.so} of org.nd4j:nd4j-cuda-11.6:1.0.0-M2.1 (classifiers linux-x86_64
     * and linux-x86_64-cudnn), read with {@link FatbinScanner}; Nd4jCudaJarTest re-reads it from the jar.
     */
    public static final KernelArchitectures ND4J_CUDA_11_6 = new KernelArchitectures(
        new TreeSet<>(List.of(37, 50, 52, 60, 61, 70, 75, 80, 86)), new TreeSet<>());

    /** Known builds of the library by (jar entry size, CRC-32), so that a run need not scan 900 MB. */
    static final Map<List<Long>, KernelArchitectures> KNOWN_LIBRARIES = Map.of(
        List.of(905_138_248L, 0x79F1D80DL), ND4J_CUDA_11_6,
        List.of(905_685_968L, 0xC474AC2BL), ND4J_CUDA_11_6);

    private static final Pattern CC = Pattern.compile("(\\d+)\\.(\\d+)");
    /** Device ordinals (-1: all) already found runnable in this JVM: nvidia-smi runs once per ordinal. */
    private static final java.util.Set<Integer> SUPPORTED = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The classpath's library, looked up (or scanned) once per JVM. */
    private static final java.util.concurrent.atomic.AtomicReference<Optional<Library>> LOADED =
        new java.util.concurrent.atomic.AtomicReference<>();

    private CudaCompatibility() {
    }

    /** A GPU's compute capability, e.g. 9.0. */
    public record ComputeCapability(int major, int minor) {
        static ComputeCapability parse(String text) {
            Matcher m = CC.matcher(text.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException("compute capability '" + text + "' is not of the form X.Y");
            }
            return new ComputeCapability(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        }

        @Override
        public String toString() {
            return major + "." + minor;
        }
    }

    /**
     * The architectures a library carries device code for, as {@code sm_XY} = XY.
     *
     * @param sass architectures with machine code (runs on the same major version, equal or higher minor)
     * @param ptx architectures with PTX (JIT-compiled by the driver for any equal or newer GPU)
     */
    public record KernelArchitectures(SortedSet<Integer> sass, SortedSet<Integer> ptx) {
        /** Whether a GPU of this compute capability can run the code. */
        public boolean runsOn(ComputeCapability cc) {
            int target = cc.major() * 10 + cc.minor();
            return sass.stream().anyMatch(a -> a / 10 == cc.major() && a % 10 <= cc.minor())
                || ptx.stream().anyMatch(a -> a <= target);
        }

        /** E.g. "SASS for sm_37, sm_50 and no PTX". */
        public String describe() {
            String s = sass.isEmpty() ? "no SASS" : "SASS for " + names(sass);
            String p = ptx.isEmpty() ? "no PTX" : "PTX for " + names(ptx);
            return s + " and " + p;
        }

        private static String names(SortedSet<Integer> archs) {
            return archs.stream().map(a -> "sm_" + a).collect(Collectors.joining(", "));
        }
    }

    /** The failure message for a GPU the code cannot run on, or empty when it can. */
    static Optional<String> problem(NvidiaSmi.Gpu gpu, KernelArchitectures code, String build) {
        if (code.runsOn(gpu.capability())) {
            return Optional.empty();
        }
        return Optional.of(gpu.label() + " has compute capability " + gpu.capability() + ", but " + build
            + " carries " + code.describe() + ", so none of its kernels can run there (CUDA would fail with error"
            + " 209, no kernel image is available). A GPU of compute capability X.Y needs SASS for sm_X0..sm_XY or"
            + " PTX for sm_XY or older; use GPUs this build supports, or the CPU build (spark-mnist-submit.jar).");
    }

    /** Whether ND4J's CUDA backend is on the classpath (without starting ND4J). */
    public static boolean cudaBackendPresent() {
        try {
            Class.forName(CUDA_BACKEND_CLASS, false, CudaCompatibility.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /**
     * The device code of the libnd4jcuda.so on the classpath and where it came from: looked up by its jar entry's
     * size and CRC among known builds, else read with {@link FatbinScanner} (seconds for a 900 MB library).
     */
    public static Optional<Library> loadedLibrary() throws IOException {
        ClassLoader cl = CudaCompatibility.class.getClassLoader();
        for (String resource : LIBRARY_RESOURCES) {
            URL url = cl.getResource(resource);
            if (url == null) {
                continue;
            }
            URLConnection c = url.openConnection();
            if (c instanceof JarURLConnection jar) {
                JarEntry e = jar.getJarEntry();
                KernelArchitectures known = KNOWN_LIBRARIES.get(List.of(e.getSize(), e.getCrc()));
                if (known != null) {
                    return Optional.of(new Library(url.toString(), known, "nd4j-cuda-11.6 1.0.0-M2.1"));
                }
            }
            try (InputStream in = url.openStream()) {
                return Optional.of(new Library(url.toString(), FatbinScanner.scan(in), "the ND4J CUDA library at "
                    + url));
            }
        }
        return Optional.empty();
    }

    /**
     * ND4J's CUDA library on the classpath.
     *
     * @param location its URL
     * @param code the architectures it carries code for
     * @param build how messages name it
     */
    public record Library(String location, KernelArchitectures code, String build) {
    }

    /**
     * Fails with a message naming the GPU, its compute capability and the library's architectures when the GPU
     * with this CUDA ordinal (or, with {@code ordinal} &lt; 0, any GPU this process sees) cannot run the library's
     * kernels. Does nothing when the GPUs cannot be identified (no nvidia-smi, MIG devices).
     */
    public static void require(int ordinal, Library library, Optional<List<NvidiaSmi.Gpu>> gpus) {
        if (gpus.isEmpty()) {
            return;
        }
        for (NvidiaSmi.Gpu g : gpus.get()) {
            if (ordinal < 0 || g.ordinal() == ordinal) {
                Optional<String> p = problem(g, library.code(), library.build());
                if (p.isPresent()) {
                    throw new UnsupportedGpuException(p.get());
                }
            }
        }
    }

    /**
     * {@link #require} against this process's GPUs (nvidia-smi on PATH) when the CUDA backend is present; once per
     * ordinal and JVM when it passes (every task calls this).
     */
    public static void requireSupported(int ordinal) {
        if (SUPPORTED.contains(ordinal)) {
            return;
        }
        if (cudaBackendPresent()) {
            Optional<Library> lib = LOADED.get();
            if (lib == null) {
                try {
                    lib = loadedLibrary();
                } catch (IOException e) {
                    lib = Optional.empty(); // unreadable library: nothing can be checked
                }
                LOADED.set(lib);
            }
            if (lib.isPresent()) {
                require(ordinal, lib.get(), NvidiaSmi.query("nvidia-smi", System.getenv("CUDA_VISIBLE_DEVICES")));
            }
        }
        SUPPORTED.add(ordinal);
    }

    /** A GPU the loaded CUDA code cannot run on. */
    public static final class UnsupportedGpuException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        public UnsupportedGpuException(String message) {
            super(message);
        }
    }

    /**
     * Prints, for every GPU this process sees, whether the ND4J CUDA library on the classpath can run on it.
     * Exit 0: all can; 1: at least one cannot; 2: no CUDA library, no nvidia-smi or no GPU.
     * {@code java -cp spark-mnist-submit-cuda.jar dev.sparkmnist.runtime.CudaCompatibility}
     */
    public static void main(String[] args) throws IOException {
        System.exit(report(System.out, "nvidia-smi", System.getenv("CUDA_VISIBLE_DEVICES"), loadedLibrary()));
    }

    public static int report(java.io.PrintStream out, String nvidiaSmi, String visible, Optional<Library> library) {
        if (library.isEmpty()) {
            out.println("no ND4J CUDA library (libnd4jcuda.so) on the classpath: this is the CPU build");
            return 2;
        }
        out.println(library.get().build() + ": " + library.get().code().describe());
        Optional<List<NvidiaSmi.Gpu>> gpus = NvidiaSmi.query(nvidiaSmi, visible);
        if (gpus.isEmpty() || gpus.get().isEmpty()) {
            out.println("no GPU found (nvidia-smi " + String.join(" ", NvidiaSmi.QUERY) + " failed or listed none)");
            return 2;
        }
        int unsupported = 0;
        for (NvidiaSmi.Gpu g : gpus.get()) {
            Optional<String> p = problem(g, library.get().code(), library.get().build());
            out.println(p.orElse(g.label() + " has compute capability " + g.capability() + ": supported"));
            unsupported += p.isPresent() ? 1 : 0;
        }
        return unsupported == 0 ? 0 : 1;
    }
}
