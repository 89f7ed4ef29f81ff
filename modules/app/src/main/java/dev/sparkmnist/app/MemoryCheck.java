package dev.sparkmnist.app;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.bytedeco.javacpp.Pointer;

/**
 * Compares a {@link MemoryPlan} with what the run's JVMs allow outside their heap: JavaCPP's
 * {@code org.bytedeco.javacpp.maxbytes} (default: the JVM's -Xmx) everywhere, and on YARN and Kubernetes the
 * container's allowance beyond the heap, {@code spark.executor.memoryOverhead}. Refuses with the numbers and the
 * setting to raise, or warns when close.
 *
 * @param need estimated off-heap bytes per JVM that trains
 * @param limit the smallest applicable limit
 * @param setting the setting behind that limit
 * @param shape how the need was counted (tasks per JVM, whose JVM)
 * @param tasks training tasks per JVM
 * @param withDriver whether that JVM is also the driver
 */
record MemoryCheck(long need, long limit, String setting, String shape, int tasks, boolean withDriver) {
    /** Need above this share of the limit gets a warning. */
    static final double WARN_SHARE = 0.8;
    /** Headroom of the recommended settings over the estimate. */
    static final double HEADROOM = 1.25;
    private static final Pattern MAXBYTES = Pattern.compile("-Dorg\\.bytedeco\\.javacpp\\.maxbytes=(\\S+)");
    private static final long MIN_OVERHEAD = 384 * MemoryPlan.MIB;
    private static final double DEFAULT_OVERHEAD_FACTOR = 0.10;

    /** Whether the run trains in this JVM: one JVM, or Spark's local mode. */
    static boolean inThisJvm(SparkConf conf, boolean singleJvm) {
        return singleJvm || conf.get("spark.master", SparkContexts.EMBEDDED_MASTER).startsWith("local");
    }

    /** The maximum heap of a JVM that trains: this one ({@link #inThisJvm}), else an executor's. */
    static long trainingHeap(SparkConf conf, boolean singleJvm) {
        return inThisJvm(conf, singleJvm) ? Runtime.getRuntime().maxMemory() : executorHeap(conf);
    }

    private static long executorHeap(SparkConf conf) {
        return conf.getSizeAsBytes("spark.executor.memory", "1g");
    }

    /** The check for a run: single JVM ({@code local} true, this JVM) or a Spark master. */
    static MemoryCheck of(MemoryPlan plan, SparkConf conf, boolean singleJvm, int localTasks) {
        String master = conf.get("spark.master", SparkContexts.EMBEDDED_MASTER);
        if (inThisJvm(conf, singleJvm)) {
            int tasks = singleJvm ? 1 : localTasks;
            return new MemoryCheck(plan.jvmBytes(tasks, !singleJvm), Pointer.maxBytes(),
                "org.bytedeco.javacpp.maxbytes of this JVM (default: its -Xmx; raise -Xmx or"
                    + " -Dorg.bytedeco.javacpp.maxbytes)",
                singleJvm ? "1 JVM, all cores on one network" : "this JVM: " + tasks + " task(s) + the driver", tasks,
                !singleJvm);
        }
        int tasks = Math.max(1, conf.getInt("spark.executor.cores", 1) / Math.max(1, conf.getInt("spark.task.cpus",
            1)));
        long need = plan.jvmBytes(tasks, false);
        long heap = executorHeap(conf);
        Matcher m = MAXBYTES.matcher(conf.get("spark.executor.extraJavaOptions", ""));
        long maxBytes = m.find() ? Pointer.parseBytes(m.group(1), heap) : heap;
        String shape = "per executor: " + tasks + " task(s) (spark.executor.cores / spark.task.cpus)";
        MemoryCheck javacpp = new MemoryCheck(need, maxBytes, m.find(0)
            ? "-Dorg.bytedeco.javacpp.maxbytes in spark.executor.extraJavaOptions"
            : "spark.executor.memory (JavaCPP's default maxbytes is the executor heap; or set"
                + " -Dorg.bytedeco.javacpp.maxbytes in spark.executor.extraJavaOptions)", shape, tasks, false);
        if (master.startsWith("yarn") || master.startsWith("k8s")) {
            long overhead = conf.contains("spark.executor.memoryOverhead")
                ? conf.getSizeAsBytes("spark.executor.memoryOverhead")
                : Math.max(MIN_OVERHEAD, (long) (conf.getDouble("spark.executor.memoryOverheadFactor",
                    DEFAULT_OVERHEAD_FACTOR) * heap));
            if (overhead < maxBytes) {
                return new MemoryCheck(need, overhead, "spark.executor.memoryOverhead (the container's off-heap"
                    + " allowance)", shape, tasks, false);
            }
        }
        return javacpp;
    }

    /** The recommended value of the limiting setting. */
    long recommended() {
        long r = (long) Math.ceil(need * HEADROOM / (128.0 * MemoryPlan.MIB));
        return r * 128 * MemoryPlan.MIB;
    }

    boolean refused() {
        return need > limit;
    }

    boolean close() {
        return !refused() && need > WARN_SHARE * limit;
    }

    /** The one line for the user. */
    String message() {
        return String.format(Locale.ROOT, "ND4J needs about %d MiB off-heap (%s; train --dry-run lists the items) and"
                + " the limit is %d MiB, %s: %s", need / MemoryPlan.MIB, shape, limit / MemoryPlan.MIB, setting,
            refused() ? "raise it to at least " + recommended() / MemoryPlan.MIB + "m"
                : close() ? "close; " + recommended() / MemoryPlan.MIB + "m would leave headroom" : "fits");
    }
}
