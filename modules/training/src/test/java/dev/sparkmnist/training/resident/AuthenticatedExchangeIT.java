package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.runtime.TaskSetup;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * With {@code spark.authenticate} (and network encryption) on, the executors' exchange transports authenticate each
 * other with Spark's own bootstraps: two executor JVMs of a real standalone cluster train and average.
 */
@Timeout(600)
class AuthenticatedExchangeIT {
    @Test
    void workersAverageAcrossJvmsWithSparkAuthenticationAndEncryption() throws Exception {
        String sparkHome = System.getenv("SPARK_HOME");
        assertTrue(sparkHome != null, "surefire must set SPARK_HOME for local-cluster tests");
        Files.createDirectories(Path.of(sparkHome, "jars"));
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("AuthenticatedExchangeIT")
            .set("spark.ui.enabled", "false")
            .set("spark.authenticate", "true")
            .set("spark.authenticate.secret", "test-secret-" + System.nanoTime())
            .set("spark.network.crypto.enabled", "true")
            .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
            .set("spark.executorEnv.SPARK_SCALA_VERSION", "2.12")
            .set("spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1")
            .set("spark.cores.max", "2")
            .set("spark.scheduler.minRegisteredResourcesRatio", "1.0")
            .set("spark.scheduler.maxRegisteredResourcesWaitingTime", "120s");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            MnistSet set = MnistSet.trainFrom(TestData.sliceDir(), new Configuration()).limit(64);
            ResidentEngine.Settings settings = new ResidentEngine.Settings(2, 8, 1, 0, Normalization.STANDARDIZE,
                42L, new TaskSetup(1, GpuBinding.Policy.OPTIONAL), 60, 30);
            try (ResidentEngine engine = new ResidentEngine(sc, set, settings)) {
                ResidentEngine.EpochFit fit = engine.fitEpoch(Models.network(ModelOptions.mlp()), 0);
                assertEquals(2, fit.jvms().size(), "two executor JVMs: " + fit.jvms());
                assertEquals(64, fit.examples());
                assertEquals(4, fit.rounds());
                assertTrue(fit.bytesPerRound() > 0, "parcels crossed JVMs");
            }
        }
    }
}
