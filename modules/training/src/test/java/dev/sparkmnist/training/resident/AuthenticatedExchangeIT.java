package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.testing.SparkTestContext;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.runtime.TaskSetup;
import org.apache.hadoop.conf.Configuration;
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
    void workersAverageAcrossJvmsWithSparkAuthenticationAndEncryption() {
        try (JavaSparkContext sc = SparkTestContext.localCluster("AuthenticatedExchangeIT", 2,
                "spark.authenticate", "true",
                "spark.authenticate.secret", "test-secret-" + System.nanoTime(),
                "spark.network.crypto.enabled", "true")) {
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
