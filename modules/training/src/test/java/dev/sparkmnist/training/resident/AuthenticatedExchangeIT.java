package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.testing.SparkTestContext;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.models.Optimizer;
import dev.sparkmnist.training.AveragingOracle;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.runtime.TaskSetup;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two executor JVMs of two cores each (a real standalone cluster): four workers, two per JVM, so every round mixes
 * parcels handed over in memory with parcels sent over the network, and with {@code spark.authenticate} (and network
 * encryption) on, the executors' exchange transports authenticate each other with Spark's own bootstraps.
 */
@Timeout(600)
class AuthenticatedExchangeIT {
    @Test
    void workersInAndAcrossJvmsAverageExactlyWithSparkAuthenticationAndEncryption() {
        String[] auth = {"spark.authenticate", "true",
            "spark.authenticate.secret", "test-secret-" + System.nanoTime(),
            "spark.network.crypto.enabled", "true"};
        String[] blas = AveragingOracle.blasOfThisJvm(); // the reference's kernels on the executors too
        String[] sparkSettings = java.util.Arrays.copyOf(auth, auth.length + blas.length);
        System.arraycopy(blas, 0, sparkSettings, auth.length, blas.length);
        try (JavaSparkContext sc = SparkTestContext.localCluster("AuthenticatedExchangeIT", 2, 2, sparkSettings)) {
            Configuration conf = new Configuration();
            MnistSet set = MnistSet.trainFrom(TestData.sliceDir(), conf).limit(65);
            ResidentSettings settings = new ResidentSettings(4, 8, 1, 0, Normalization.STANDARDIZE,
                42L, new TaskSetup(1, GpuBinding.Policy.OPTIONAL), 60, 30, false,
                dev.sparkmnist.training.TrainingOptions.UpdaterAveraging.ROUND);
            ModelOptions model = ModelOptions.mlp().withOptimizer(Optimizer.NESTEROV, 0.05);
            MultiLayerNetwork net = Models.network(model);
            try (ResidentEngine engine = new ResidentEngine(sc, set, settings)) {
                ResidentEngine.EpochFit fit = engine.fitEpoch(net, 0);
                assertEquals(2, fit.jvms().size(), "four workers in two executor JVMs: " + fit.jvms());
                assertEquals(65, fit.examples());
                assertEquals(3, fit.rounds());
                assertTrue(fit.bytesPerRound() > 0, "parcels crossed JVMs");
            }
            // the reference of ClusterExchangeIT: the same averaging in one JVM, updater state included
            dev.sparkmnist.runtime.Nd4jRuntime.configure(1);
            MultiLayerNetwork reference = AveragingOracle.simulate(() -> Models.network(model), set, 4, 8, 42L, 0,
                conf, true);
            double diff = AveragingOracle.maxDifference(AveragingOracle.stateVector(net),
                AveragingOracle.stateVector(reference));
            assertTrue(diff < 1e-5, "max difference to the reference " + diff);
        }
    }
}
