package dev.sparkmnist.training.baseline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.Architecture;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

class StepBenchmarkTest {
    @Test
    void timesBothVariantsOverTheRoundsAfterTheFirst() {
        Map<String, double[]> t = StepBenchmark.run(Architecture.MLP, 4, 2, 3, StepBenchmark.variants(null));
        assertEquals(List.of("ours", "dl4j"), List.copyOf(t.keySet()));
        for (double[] v : t.values()) {
            assertTrue(v[1] > 0 && v[1] <= v[0] && v[0] <= v[2], "fastest <= median <= slowest, all > 0");
            assertTrue(v[3] > 0, "a DL4J step allocates on the Java heap (HotSpot counts it): " + v[3]);
        }
    }

    @Test
    void timesEachOfSeveralWorkersTrainingAtOnce() {
        double[][] t = StepBenchmark.concurrent(Architecture.MLP, 4, 2, 3, 3);
        assertEquals(3, t.length, "one line per worker");
        for (double[] v : t) {
            assertTrue(v[1] > 0 && v[1] <= v[0] && v[0] <= v[2], "fastest <= median <= slowest, all > 0");
        }
    }

    @Test
    void aWorkerThatFailsMidRunIsReportedAndTheOthersFinish() {
        // worker 2 of 3 fails as round 1 starts, after rounds the others also waited for: they must not wait for it
        IllegalStateException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> assertThrows(
            IllegalStateException.class, () -> StepBenchmark.concurrent(Architecture.MLP, 4, 2, 4, 3,
                (worker, round) -> {
                    if (worker == 1 && round == 1) {
                        throw new IllegalStateException("injected");
                    }
                })));
        assertEquals("a worker failed: java.lang.IllegalStateException: injected", e.getMessage());
    }

    @Test
    void variantsAreOursDl4jOrBoth() {
        assertEquals(List.of("ours", "dl4j"), StepBenchmark.variants(null));
        assertEquals(List.of("ours", "dl4j"), StepBenchmark.variants(" "));
        assertEquals(List.of("dl4j"), StepBenchmark.variants("dl4j"));
        assertEquals(List.of("dl4j", "ours"), StepBenchmark.variants("dl4j, ours"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> StepBenchmark.variants("ours,torch"));
        assertEquals("STEP_VARIANTS (ours,torch) must be ours, dl4j or both, comma-separated, each once",
            e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StepBenchmark.variants("ours,ours"));
        assertEquals(List.of("ours"), List.copyOf(StepBenchmark.run(Architecture.MLP, 4, 2, 2, List.of("ours"))
            .keySet()));
    }

    @Test
    void ourLayersRunFewerNd4jOperationsThanDl4jsOwn() {
        // the MLP's step: DL4J runs the output layer's forward pass and softmax twice (TrainingOutputLayer, once), and
        // eight ops a dense layer where ours run OpenBLAS and Java loops; left in ours: the softmax, the division by
        // the minibatch's size, the subtraction of the update (and Adam's op until its vector code is compiled);
        // where the MLP's step is native (NativeStep: linux-x86_64 with AVX2, as here and in CI), none at all
        double ours = StepBenchmark.opsPerStep(Architecture.MLP, 4, 3, "ours", false);
        double dl4j = StepBenchmark.opsPerStep(Architecture.MLP, 4, 3, "dl4j", false);
        boolean nativeStep = dev.sparkmnist.models.TrainingStep.of(
            dev.sparkmnist.models.Models.network(dev.sparkmnist.models.ModelOptions.mlp())).isNative();
        assertTrue((nativeStep ? ours == 0 : ours >= 3) && ours + 30 <= dl4j,
            "ours " + ours + " (native step: " + nativeStep + "), DL4J's " + dl4j);
    }

    @Test
    void batchesLookLikeMnist() {
        List<DataSet> b = StepBenchmark.batches(3, 2, new Random(7));
        assertEquals(2, b.size());
        assertArrayEquals(new long[] {3, 784}, b.get(0).getFeatures().shape());
        assertEquals(3.0, b.get(0).getLabels().sumNumber().doubleValue(), 0.0, "one label per example");
        double max = b.get(1).getFeatures().maxNumber().doubleValue();
        assertTrue(max > 0 && max <= 1, "pixels in [0, 1]: " + max);
    }
}
