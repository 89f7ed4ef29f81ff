package dev.sparkmnist.training;

import dev.sparkmnist.training.dl4j.CompleteSplitTrainingMaster;
import dev.sparkmnist.runtime.GpuBinding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.Normalization;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import org.junit.jupiter.api.Test;

class TrainingOptionsTest {
    private static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    private static TrainingOptions with(int epochs, int batch, int avg, int prefetch, String level, int partitions) {
        return new TrainingOptions(epochs, 1, new TrainingOptions.Input(Normalization.SCALE, 0, 0),
            new TrainingOptions.Batching(batch, 100),
            new TrainingOptions.Averaging(TrainingOptions.Engine.RESIDENT, avg, 0),
            new TrainingOptions.Workers(partitions, 0, GpuBinding.Policy.OPTIONAL),
            new TrainingOptions.Dl4jMaster(prefetch, RDDTrainingApproach.Export, level, Repartition.Always,
                RepartitionStrategy.Balanced, null, false));
    }

    @Test
    void invalidValuesNameTheOptionValueAndRule() {
        assertEquals("--epochs (0) must be > 0", message(() -> with(0, 32, 5, 0, "MEMORY_ONLY", 0)));
        assertEquals("--batch-size-per-worker (0) must be > 0", message(() -> with(1, 0, 5, 0, "MEMORY_ONLY", 0)));
        assertEquals("--averaging-frequency (-3) must be auto or > 0", message(() -> with(1, 32, -3, 0, "MEMORY_ONLY", 0)));
        assertEquals("--worker-prefetch (-1) must be >= 0", message(() -> with(1, 32, 5, -1, "MEMORY_ONLY", 0)));
        assertEquals("--num-partitions (-2) must be >= 0", message(() -> with(1, 32, 5, 0, "MEMORY_ONLY", -2)));
        assertEquals("--rounds-per-stage (-1) must be >= 0", message(() -> new TrainingOptions.Averaging(
            TrainingOptions.Engine.RESIDENT, 5, -1)));
        assertEquals("--exchange-timeout (0) must be > 0 seconds", message(() -> new TrainingOptions.Averaging(
            TrainingOptions.Engine.RESIDENT, 5, 0, 0, true, TrainingOptions.UpdaterAveraging.STAGE)));
        assertEquals("--updater-averaging must be given", message(() -> new TrainingOptions.Averaging(
            TrainingOptions.Engine.RESIDENT, 5, 0, 30, true, null)));
        assertEquals("--limit-train (-5) must be >= 0", message(() -> new TrainingOptions.Input(
            Normalization.SCALE, -5, 0)));
        assertEquals("--eval-batch-size (0) must be > 0", message(() -> new TrainingOptions.Batching(32, 0)));
        assertEquals("--storage-level (RAM) must be a Spark storage level such as MEMORY_ONLY, MEMORY_AND_DISK,"
            + " MEMORY_ONLY_SER, DISK_ONLY", message(() -> with(1, 32, 5, 0, "RAM", 0)));
    }

    @Test
    void localExportDirNeedsLocalMasterOrSharedFlag() {
        CompleteSplitTrainingMaster.checkExportDirReachable("local[2]", "file:/tmp/x", false);
        CompleteSplitTrainingMaster.checkExportDirReachable("spark://h:7077", "hdfs://nn:8020/tmp/x", false);
        CompleteSplitTrainingMaster.checkExportDirReachable("spark://h:7077", "file:/tmp/x", true);
        assertEquals("--export-dir (file:/tmp/x) is on the local file system, but master spark://h:7077 runs"
            + " executors that may not see it: use an hdfs:// or s3a:// --export-dir (or set fs.defaultFS), or pass"
            + " --export-dir-shared if every executor sees this path (one host, NFS)",
            message(() -> CompleteSplitTrainingMaster.checkExportDirReachable("spark://h:7077", "file:/tmp/x",
                false)));
    }

    @Test
    void defaultsAreValid() {
        TrainingOptions d = TrainingOptions.defaults();
        assertEquals(5, d.epochs());
        assertEquals(d, d.withEpochs(5));
        assertEquals(2, d.withEpochs(2).epochs());
        assertEquals(TrainingOptions.Engine.RESIDENT, d.averaging().engine(), "the resident engine is the default");
        assertEquals(TrainingOptions.Engine.DL4J, d.withEngine(TrainingOptions.Engine.DL4J).averaging().engine());
        assertEquals(d.averaging().frequency(), d.withEngine(TrainingOptions.Engine.DL4J).averaging().frequency());
        assertTrue(d.averaging().auto(), "--averaging-frequency auto is the default");
        assertEquals(TrainingOptions.DL4J_AUTO_AVERAGING, d.averaging().dl4jFrequency(), "auto for DL4J's master");
        assertEquals(7, d.withBatching(32, 7).averaging().dl4jFrequency(), "a given frequency wins");
        assertEquals(120, d.averaging().exchangeTimeoutSeconds(), "--exchange-timeout's default");
    }

    @Test
    void updaterAveragingAutoIsRoundUpToEveryThreeMinibatches() {
        assertEquals(java.util.List.of("auto", "round", "stage"), java.util.Arrays.stream(
            TrainingOptions.UpdaterAveraging.values()).map(TrainingOptions.UpdaterAveraging::optionValue).toList());
        for (int f = 1; f <= 3; f++) {
            assertEquals(TrainingOptions.UpdaterAveraging.ROUND, TrainingOptions.UpdaterAveraging.AUTO.at(f), "f " + f);
            assertEquals(TrainingOptions.UpdaterAveraging.STAGE, TrainingOptions.UpdaterAveraging.STAGE.at(f));
        }
        for (int f : new int[] {4, 8, 32}) {
            assertEquals(TrainingOptions.UpdaterAveraging.STAGE, TrainingOptions.UpdaterAveraging.AUTO.at(f), "f " + f);
            assertEquals(TrainingOptions.UpdaterAveraging.ROUND, TrainingOptions.UpdaterAveraging.ROUND.at(f));
        }
        assertEquals(TrainingOptions.UpdaterAveraging.AUTO, TrainingOptions.defaults().averaging().updaterAveraging());
    }
}
