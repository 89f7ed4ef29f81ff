package dev.sparkmnist.data.testing;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** The one way tests start Spark: local[2] (two concurrent tasks, like the 2-core CI machine), no UI. */
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
}
