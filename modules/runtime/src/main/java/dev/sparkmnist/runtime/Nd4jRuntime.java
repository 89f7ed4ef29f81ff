package dev.sparkmnist.runtime;

import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-JVM ND4J settings that DL4J does not make for us: enables DL4J's layer helpers (oneDNN on CPU, cuDNN on GPU;
 * DL4J 1.0.0-M2 disables them unless a system property says otherwise) and caps ND4J's OpenMP and BLAS threads.
 * With two Spark tasks on two cores, ND4J's default of one thread per core per task oversubscribes the CPU; one
 * thread per task took a LeNet epoch from about 98 s to 66 s on a 2-core machine.
 */
public final class Nd4jRuntime {
    /** DL4J's switch for layer helpers; its default ("true") disables them. */
    public static final String HELPERS_DISABLE_PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";
    /** Set to "false" to leave ND4J's shape buffers uncached ({@link ShapeInfoCache}), for a comparison. */
    public static final String SHAPE_CACHE_PROPERTY = "sparkmnist.shapeInfoCache";
    private static final Logger LOG = LoggerFactory.getLogger(Nd4jRuntime.class);
    private static final AtomicInteger CONFIGURED_THREADS = new AtomicInteger(0);

    private Nd4jRuntime() {
    }

    /**
     * Enables layer helpers unless the user set the property explicitly, and chooses OpenBLAS's kernels where
     * {@link OpenBlasCore} says so. Must run before networks are built and before ND4J loads.
     */
    public static void enableHelpers() {
        OpenBlasCore.chooseBeforeLoad();
        if (System.getProperty(HELPERS_DISABLE_PROPERTY) == null) {
            System.setProperty(HELPERS_DISABLE_PROPERTY, "false");
        }
    }

    /**
     * Enables helpers and sets ND4J's thread counts in this JVM to {@code threads}; does nothing when the JVM is
     * already set to that number. Safe to call from every task.
     */
    public static void configure(int threads) {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads (" + threads + ") must be > 0");
        }
        enableHelpers();
        OpenBlasCore.logEnvironmentHint();
        MallocPad.apply(); // before the steps allocate: glibc keeps what each step frees for the next
        Nd4j.getEnvironment(); // loads the backend: ND4J's native ops cannot initialise before it (executors)
        ompThreads(threads);
        if (!"false".equals(System.getProperty(SHAPE_CACHE_PROPERTY))) {
            ShapeInfoCache.install();
        }
        if (CONFIGURED_THREADS.getAndSet(threads) == threads) {
            return;
        }
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
        LOG.info("ND4J threads per task set to {} (BLAS and OpenMP); layer helpers {}; flush-to-zero while fitting {};"
            + " shape buffers {}; {}", threads,
            "false".equals(System.getProperty(HELPERS_DISABLE_PROPERTY)) ? "enabled" : "disabled",
            FlushToZero.available() ? "on" : "off",
            Nd4j.getShapeInfoProvider() instanceof ShapeInfoCache ? "cached" : "ND4J's", OpenBlasCore.describe());
    }

    /**
     * Sets OpenMP's thread count for the calling thread (an OpenMP setting is per thread: each task thread needs its
     * own call), which oneDNN's kernels read; without it they ran on more threads than the task's share (measured:
     * LeNet at one ND4J thread kept three extra native threads busy, about 1.6 cores).
     */
    static void ompThreads(int threads) {
        org.nd4j.nativeblas.NativeOps ops = org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps();
        if (ops.ompGetMaxThreads() != threads) {
            ops.setOmpNumThreads(threads);
        }
    }

    /** ND4J's current OpenMP thread limit in this JVM. */
    public static int currentThreads() {
        return Nd4j.getEnvironment().maxThreads();
    }

    /**
     * Threads each training task should use: the cores of this machine divided among the concurrent tasks in local
     * mode ({@code local[N]}; a single task gets {@link #singleTaskThreads}), else {@code spark.task.cpus}.
     */
    public static int threadsPerTask(String master, int taskCpus, int availableCores) {
        if (master != null && master.startsWith("local")) {
            int tasks = localParallelism(master, availableCores);
            return tasks == 1 ? singleTaskThreads(availableCores) : Math.max(1, availableCores / tasks);
        }
        return Math.max(1, taskCpus);
    }

    /**
     * Threads for the one network of a JVM that trains alone ({@code --mode local}, {@code local[1]}): all cores but
     * one, which the JVM's own threads need (the JIT compiler, the garbage collector, the data read ahead). Measured
     * on 2 cores (BENCHMARKS.md, "Per-core speed"): with both cores ND4J's OpenMP team waits for its thread that
     * those preempt, and epochs took 1.3-1.6x as long as with one thread (LeNet-5 and the MLP).
     */
    public static int singleTaskThreads(int availableCores) {
        return Math.max(1, availableCores - 1);
    }

    /** {@link #threadsPerTask(String, int, int)} for a running context and this machine's cores. */
    public static int threadsPerTask(org.apache.spark.SparkContext sc) {
        return threadsPerTask(sc.master(), sc.getConf().getInt("spark.task.cpus", 1),
            Runtime.getRuntime().availableProcessors());
    }

    /** The number of concurrent tasks of a local master URL: local = 1, local[N], local[*] = cores. */
    static int localParallelism(String master, int availableCores) {
        if (master.equals("local")) {
            return 1;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("local\\[(\\*|\\d+)(?:,\\s*\\d+)?]")
            .matcher(master);
        if (m.matches()) {
            return m.group(1).equals("*") ? availableCores : Math.max(1, Integer.parseInt(m.group(1)));
        }
        // local-cluster[N,C,M]: tasks run in executor JVMs, each with C cores
        java.util.regex.Matcher cluster = java.util.regex.Pattern.compile("local-cluster\\[(\\d+),\\s*(\\d+),.*]")
            .matcher(master);
        if (cluster.matches()) {
            return Math.max(1, Integer.parseInt(cluster.group(1)) * Integer.parseInt(cluster.group(2)));
        }
        return availableCores;
    }
}
