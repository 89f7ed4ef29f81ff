package dev.sparkmnist.data.testing;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The ways tests start Spark: local[2] (two concurrent tasks, like the 2-core CI machine), or a local-cluster of
 * one-core executor JVMs; no UI.
 */
public final class SparkTestContext {
    private SparkTestContext() {
    }

    /** A new local[2] context; the caller stops it (in {@code @AfterAll}). */
    public static JavaSparkContext local2(String name) {
        return local2(name, new String[0]);
    }

    /** A new local[2] context with extra settings (key, value, ...); the caller stops it (in {@code @AfterAll}). */
    public static JavaSparkContext local2(String name, String... keyValuePairs) {
        SparkConf conf = new SparkConf()
            .setMaster("local[2]")
            .setAppName(name)
            .set("spark.ui.enabled", "false")
            .set("spark.driver.host", "127.0.0.1")
            .set("spark.sql.shuffle.partitions", "2");
        for (int i = 0; i + 1 < keyValuePairs.length; i += 2) {
            conf.set(keyValuePairs[i], keyValuePairs[i + 1]);
        }
        return new JavaSparkContext(conf);
    }

    /**
     * A new context on Spark's local-cluster master: a real standalone Master and {@code executors} Workers of one
     * core each, every executor its own JVM, on 127.0.0.1, waiting for all executors before jobs run. Needs
     * {@code SPARK_HOME} (the test plugins set it; its empty {@code jars/} is made here); executors get this JVM's class
     * path. Extra settings (key, value, ...) win. The caller stops it.
     */
    public static JavaSparkContext localCluster(String name, int executors, String... keyValuePairs) {
        return localCluster(name, executors, 1, keyValuePairs);
    }

    /** As {@link #localCluster(String, int, String...)}, with {@code cores} cores (task slots) per executor. */
    public static JavaSparkContext localCluster(String name, int executors, int cores, String... keyValuePairs) {
        String sparkHome = System.getenv("SPARK_HOME");
        if (sparkHome == null) {
            throw new IllegalStateException("the test plugins (pom.xml) must set SPARK_HOME for local-cluster tests");
        }
        try {
            java.nio.file.Files.createDirectories(java.nio.file.Path.of(sparkHome, "jars"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        SparkConf conf = new SparkConf().setMaster("local-cluster[" + executors + "," + cores + ",1024]")
            .setAppName(name)
            .set("spark.ui.enabled", "false")
            .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
            .set("spark.executorEnv.SPARK_SCALA_VERSION", "2.12")
            .set("spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1")
            .set("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE")
            .set("spark.executor.extraJavaOptions", "-Dorg.bytedeco.javacpp.maxbytes=1G"
                + " -Dorg.bytedeco.javacpp.maxphysicalbytes=2G")
            .set("spark.cores.max", String.valueOf(executors * cores))
            .set("spark.scheduler.minRegisteredResourcesRatio", "1.0")
            .set("spark.scheduler.maxRegisteredResourcesWaitingTime", "120s");
        for (int i = 0; i + 1 < keyValuePairs.length; i += 2) {
            conf.set(keyValuePairs[i], keyValuePairs[i + 1]);
        }
        return new JavaSparkContext(conf);
    }
}
