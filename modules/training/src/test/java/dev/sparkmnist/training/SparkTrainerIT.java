package dev.sparkmnist.training;

import dev.sparkmnist.training.dl4j.CompleteSplitTrainingMaster;
import dev.sparkmnist.training.dl4j.Dl4jTraining;
import dev.sparkmnist.training.dl4j.EpochStatsHook;
import dev.sparkmnist.runtime.GpuBinding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.testing.SparkSlice;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.models.LrSchedule;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Optimizer;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * DL4J's parameter-averaging master ({@code --engine dl4j}) on Spark local[2] with the real MNIST slice (2,000 train
 * / 500 test). The resident engine has its own tests ({@code ResidentEngineIT}).
 */
@Timeout(600)
class SparkTrainerIT {
    @RegisterExtension
    static final SparkSlice SLICE = new SparkSlice("SparkTrainerIT");

    private static final TrainingOptions DL4J = TrainingOptions.defaults().withEngine(TrainingOptions.Engine.DL4J);
    private static final Configuration CONF = new Configuration();

    @Test
    void lenetLearnsAndFitsEveryExampleEachEpoch(@TempDir Path exportDir) throws Exception {
        List<EpochResult> seen = new ArrayList<>();
        TrainingResult r = SparkTrainer.train(SLICE.sc(), SLICE.train(), SLICE.test(), ModelOptions.lenet(),
            DL4J.withEpochs(2).withExportDir(exportDir.toString()),
            List.of((res, net) -> seen.add(res)));
        try (var left = Files.list(exportDir)) {
            assertEquals(List.of(), left.toList(), "exported minibatches must be removed");
        }
        assertEquals(2, r.epochs().size());
        assertEquals(r.epochs(), seen, "the listener saw every epoch");
        assertEquals(2, r.partitions());
        assertEquals(1, r.threadsPerTask(), "local[2] on this machine kind: one ND4J thread per task");
        assertEquals(java.util.Set.of(EpochEngine.thisJvm()), r.trainerJvms(), "local mode: the driver's JVM");
        for (EpochResult e : r.epochs()) {
            assertEquals(TestData.SLICE_TRAIN, e.examplesTrained(), "every example fitted in epoch " + e.epoch());
            assertEquals(64, e.minibatches(), "2 partitions x ceil(1000/32) minibatches");
            assertEquals(TestData.SLICE_TEST, e.test().examples());
            assertTrue(Double.isFinite(e.trainLoss()) && e.trainLoss() > 0);
        }
        assertTrue(r.epochs().get(1).trainLoss() < r.epochs().get(0).trainLoss(), "training loss falls");
        // Floor for 2 epochs on 2,000 examples; measured 0.88-0.92 here.
        assertTrue(r.last().test().accuracy() >= 0.80, "test accuracy " + r.last().test().accuracy());
        assertEquals(2, r.network().getLayerWiseConfigurations().getEpochCount());
    }

    @Test
    void scheduleAdvancesWithEpochsAndLimitsApply() {
        ModelOptions mlp = ModelOptions.mlp().withOptimizer(Optimizer.SGD, 0.1)
            .withSchedule(new LrSchedule(LrSchedule.Kind.STEP, 0.5, 1, null));
        TrainingResult r = SparkTrainer.train(SLICE.sc(), SLICE.train(), SLICE.test(), mlp,
            DL4J.withEpochs(2).withLimits(600, 200), List.of());
        assertEquals(0.1, r.epochs().get(0).learningRate(), 1e-12);
        assertEquals(0.05, r.epochs().get(1).learningRate(), 1e-12);
        assertEquals(600, r.epochs().get(0).examplesTrained());
        assertEquals(200, r.last().test().examples());
        // DL4J's own updater on the driver network agrees that the next epoch runs at 0.025
        double next = r.network().getLayer(0).conf().getLayer().getUpdaterByParam("W").getLearningRate(0, 2);
        assertEquals(0.025, next, 1e-12);
    }

    @Test
    void directApproachFitsEveryExampleToo() {
        TrainingOptions.Dl4jMaster d = TrainingOptions.Dl4jMaster.defaults();
        TrainingOptions direct = DL4J.withEpochs(1).withLimits(640, 200)
            .with(new TrainingOptions.Workers(2, 0, GpuBinding.Policy.OPTIONAL))
            .with(new TrainingOptions.Dl4jMaster(d.workerPrefetch(),
                org.deeplearning4j.spark.api.RDDTrainingApproach.Direct, "MEMORY_ONLY", d.repartition(),
                d.repartitionStrategy(), null, false));
        TrainingResult r = SparkTrainer.train(SLICE.sc(), SLICE.train(), SLICE.test(), ModelOptions.mlp(), direct,
            List.of());
        assertEquals(640, r.last().examplesTrained());
        assertEquals(20, r.last().minibatches());
        // against DL4J's Export approach on the same examples, workers and averaging frequency (its averaging is
        // checked against the single-machine oracle below): the same minibatches reach the same workers, so the two
        // train the same network (measured: equal losses); a broken averaging in either would not
        TrainingOptions export = direct.with(new TrainingOptions.Dl4jMaster(d.workerPrefetch(),
            org.deeplearning4j.spark.api.RDDTrainingApproach.Export, "MEMORY_ONLY", d.repartition(),
            d.repartitionStrategy(), null, false));
        var reference = SparkTrainer.train(SLICE.sc(), SLICE.train(), SLICE.test(), ModelOptions.mlp(), export,
            List.of()).last().test();
        var test = r.last().test();
        assertEquals(1.0, test.loss() / reference.loss(), 1e-4,
            "test loss " + test.loss() + " vs the Export approach's " + reference.loss());
        assertEquals(reference.accuracy(), test.accuracy(), 1e-9,
            "test accuracy " + test.accuracy() + " vs the Export approach's " + reference.accuracy());
    }

    @Test
    void averagingEveryStepEqualsSingleMachineOnJoinedMinibatches(@TempDir Path exportDir) {
        // DL4J's own oracle for its master: each fit is one round in which each of 2 workers fits one minibatch
        MnistSet set = SLICE.train().limit(64);
        ModelOptions sgd = ModelOptions.mlp().withOptimizer(Optimizer.SGD, 0.05);
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork single = dev.sparkmnist.models.Models.network(sgd);
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork start = dev.sparkmnist.models.Models.network(sgd);
        TrainingOptions options = DL4J.withBatching(8, 1).withExportDir(exportDir.toString())
            .with(new TrainingOptions.Workers(2, 1, GpuBinding.Policy.OPTIONAL));
        EpochStatsHook hook = new EpochStatsHook(SLICE.sc().sc(),
            new dev.sparkmnist.runtime.TaskSetup(1, GpuBinding.Policy.OPTIONAL));
        CompleteSplitTrainingMaster master = Dl4jTraining.trainingMaster(options, hook,
            Dl4jTraining.exportDirectory(SLICE.sc(), options));
        org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer sparkNet =
            new org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer(SLICE.sc(), start, master);
        List<List<org.nd4j.linalg.dataset.DataSet>> steps = AveragingOracle.workerBatches(set, 2, 8, 42L, 0, CONF);
        try {
            for (List<org.nd4j.linalg.dataset.DataSet> step : steps) {
                sparkNet.fit(SLICE.sc().parallelize(step, 2));
            }
        } finally {
            master.deleteExportRoot(SLICE.sc());
        }
        AveragingOracle.fitJoined(single, steps);
        assertEquals(steps.size() * 2L, hook.stats(2, 1).minibatches(), "each worker fitted one minibatch a round");
        double diff = AveragingOracle.maxDifference(sparkNet.getNetwork(), single);
        assertTrue(diff < 1e-5, "max parameter difference " + diff);
        assertTrue(AveragingOracle.maxDifference(single, dev.sparkmnist.models.Models.network(sgd)) > 1e-3);
    }

    @Test
    void divergenceStopsWithAdvice() {
        ModelOptions wild = ModelOptions.mlp().withOptimizer(Optimizer.SGD, 1e6);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
            () -> SparkTrainer.train(SLICE.sc(), SLICE.train(), SLICE.test(), wild, DL4J.withEpochs(2)
                .withLimits(320, 100), List.of(Listeners.stopOnDivergence())));
        assertTrue(e.getMessage().matches("loss became (NaN|infinite) at epoch 1 .*: lower --learning-rate"
            + " \\(now 1\\.00000e\\+06\\) or use --updater adam"), e.getMessage());
    }
}
