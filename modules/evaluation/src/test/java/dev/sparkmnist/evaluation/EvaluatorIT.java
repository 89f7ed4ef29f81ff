package dev.sparkmnist.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.MnistBatches;
import dev.sparkmnist.data.MnistRdds;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.testing.ClosureCleaning;
import dev.sparkmnist.data.testing.SparkTestContext;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SerializableWritable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/** Distributed evaluation on real Spark and the real MNIST test slice equals single-machine evaluation. */
@Timeout(300)
class EvaluatorIT {
    private static final dev.sparkmnist.runtime.TaskSetup SETUP =
        new dev.sparkmnist.runtime.TaskSetup(1, dev.sparkmnist.runtime.GpuBinding.Policy.OPTIONAL);
    private static final Configuration CONF = new Configuration();
    private static JavaSparkContext sc;
    private static MnistSet test;
    private static MultiLayerNetwork net;

    @BeforeAll
    static void start() {
        sc = SparkTestContext.local2("EvaluatorIT");
        test = MnistSet.testFrom(TestData.sliceDir(), CONF);
        // A briefly trained MLP, so that predictions are neither uniform nor perfect.
        net = Models.network(ModelOptions.mlp());
        MnistSet train = MnistSet.trainFrom(TestData.sliceDir(), CONF);
        for (DataSet batch : MnistBatches.read(train, MnistBatches.positions(null, 0, 640), 64,
            Normalization.STANDARDIZE, CONF)) {
            net.fit(batch);
        }
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    private static EvaluationReport single(int batchSize) {
        List<DataSet> batches = MnistBatches.read(test, MnistBatches.positions(null, 0, test.size()), batchSize,
            Normalization.STANDARDIZE, CONF);
        return Evaluator.local(net, batches);
    }

    @Test
    void distributedEqualsSingleMachineExactly() {
        EvaluationReport local = single(100);
        for (int partitions : new int[] {1, 2, 3}) {
            EvaluationReport dist = Evaluator.distributed(sc, net, test, partitions, 64, Normalization.STANDARDIZE, SETUP);
            assertEquals(TestData.SLICE_TEST, dist.examples());
            assertArrayEquals(local.confusion(), dist.confusion(), "confusion with " + partitions + " partitions");
            assertEquals(local.accuracy(), dist.accuracy(), 0.0);
            assertEquals(local.loss(), dist.loss(), 1e-6);
            assertArrayEquals(local.f1(), dist.f1(), 0.0);
        }
        assertTrue(local.accuracy() > 0.5 && local.accuracy() < 1.0, "a briefly trained MLP: " + local.accuracy());
    }

    /**
     * dl4j-spark's own evaluate() broadcasts the live parameter INDArray; Spark 3.2+ closes AutoCloseable broadcast
     * values when the broadcast is cleaned up, which breaks the driver's network after a GC. Ours must not.
     */
    @Test
    void driverNetworkSurvivesBroadcastCleanupAfterEvaluation() throws InterruptedException {
        INDArray before = net.params().dup();
        EvaluationReport first = Evaluator.distributed(sc, net, test, 2, 100, Normalization.STANDARDIZE, SETUP);
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(300);
        }
        assertEquals(before, net.params(), "parameters changed or were closed");
        EvaluationReport local = single(100); // uses the driver's network directly
        EvaluationReport second = Evaluator.distributed(sc, net, test, 2, 100, Normalization.STANDARDIZE, SETUP);
        assertArrayEquals(first.confusion(), second.confusion());
        assertArrayEquals(first.confusion(), local.confusion());
    }

    /**
     * The evaluation after every epoch gives Spark's closure cleaner nothing to parse with ASM (on a driver that
     * shares its cores with training that was the JIT's largest job while the workers trained).
     */
    @Test
    void evaluationGivesTheClosureCleanerNothingToParse() {
        assertFalse(ClosureCleaning.selfCheck(sc).isEmpty(), "the watch sees the cleaner parse Spark's own closures");
        try (ClosureCleaning watch = ClosureCleaning.watch()) {
            EvaluationReport report = Evaluator.distributed(sc, net, test, 2, 100, Normalization.STANDARDIZE, SETUP);
            assertEquals(TestData.SLICE_TEST, report.examples());
            assertEquals(List.of(), watch.parsed());
        }
    }

    /**
     * A run evaluates after every epoch with one broadcast of the Hadoop configuration ({@link MnistRdds#hadoopConf}):
     * such an evaluation broadcasts one thing fewer than one that broadcasts the configuration itself, and gives the
     * same report. Spark numbers broadcasts in order (its own for each stage's tasks included), so the ids of two
     * probe broadcasts count what the evaluations between them broadcast.
     */
    @Test
    void evaluationsWithTheRunsHadoopConfigurationDoNotBroadcastItAgain() {
        EvaluationReport alone = Evaluator.distributed(sc, net, test, 2, 100, Normalization.STANDARDIZE, SETUP);
        Broadcast<SerializableWritable<Configuration>> hadoop = MnistRdds.hadoopConf(sc);
        try {
            long probe = sc.broadcast(0).id();
            Evaluator.distributed(sc, net, test, 2, 100, Normalization.STANDARDIZE, SETUP);
            long ownConfiguration = sc.broadcast(0).id() - probe - 1;
            probe = sc.broadcast(0).id();
            for (int i = 0; i < 3; i++) {
                EvaluationReport shared =
                    Evaluator.distributed(sc, net, test, 2, 100, Normalization.STANDARDIZE, SETUP, hadoop);
                assertArrayEquals(alone.confusion(), shared.confusion());
                assertEquals(alone.loss(), shared.loss(), 0.0);
            }
            long sharedConfiguration = sc.broadcast(0).id() - probe - 1;
            assertTrue(ownConfiguration >= 2, "the network and the configuration at least: " + ownConfiguration);
            assertEquals(3 * (ownConfiguration - 1), sharedConfiguration,
                "three evaluations with the run's configuration broadcast one thing fewer each");
        } finally {
            hadoop.destroy();
        }
    }

    @Test
    void trainingSplitCannotBeEvaluated() {
        MnistSet train = MnistSet.trainFrom(TestData.sliceDir(), CONF);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Evaluator.distributed(sc, net, train, 2, 100, Normalization.STANDARDIZE, SETUP));
        assertTrue(e.getMessage().startsWith("evaluation runs on a test split only"), e.getMessage());
    }
}
