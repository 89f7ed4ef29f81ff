package dev.sparkmnist.app;

import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** Creates the job's Spark context. The master comes from spark-submit or --master, never from code. */
final class SparkContexts {
    /** Used only when neither spark-submit nor --master names a master: the embedded local mode. */
    static final String EMBEDDED_MASTER = "local[*]";
    private static final String LOOPBACK = "127.0.0.1";
    /** Executor heartbeat interval unless set: how often progress within an epoch reaches the driver. */
    static final String HEARTBEAT_INTERVAL = "2s";

    private SparkContexts() {
    }

    static JavaSparkContext create(String appName, String master, List<String> confPairs) {
        SparkConf conf = new SparkConf().setAppName(appName);
        for (String pair : confPairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--conf (" + pair + ") must have the form key=value");
            }
            conf.set(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        if (master != null && !master.isBlank()) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster(EMBEDDED_MASTER);
        }
        // Local mode needs no network: keep the driver on the loopback interface instead of the machine's address.
        String resolved = conf.get("spark.master");
        if (resolved.startsWith("local") && !resolved.startsWith("local-cluster")) {
            conf.setIfMissing("spark.driver.host", LOOPBACK);
            conf.setIfMissing("spark.driver.bindAddress", LOOPBACK);
        }
        // Progress within an epoch travels with executor heartbeats (running tasks' accumulator values): every 2 s
        // instead of Spark's 10 s, a few small RPCs per executor, unless the user chose.
        conf.setIfMissing("spark.executor.heartbeatInterval", HEARTBEAT_INTERVAL);
        // Executor JVMs (cluster modes) start ND4J with one OpenMP thread per task core.
        conf.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", conf.get("spark.task.cpus", "1"));
        return new JavaSparkContext(conf);
    }
}
