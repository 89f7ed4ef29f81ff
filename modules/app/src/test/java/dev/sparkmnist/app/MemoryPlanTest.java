package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.training.TrainingOptions;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** The off-heap estimate counts the arrays it says it counts, and the check names the numbers and the setting. */
class MemoryPlanTest {
    private static final long MIB = MemoryPlan.MIB;

    @Test
    void activationsPerExampleAreTheLayersOutputs() {
        ModelOptions mlp = ModelOptions.mlp();
        assertArrayEquals(new long[] {784 + 256 + 128 + 10, 0},
            MemoryPlan.activations(Models.configuration(mlp), Architecture.MLP.inputType()));
        // LeNet: input 784; conv 6x24x24; pool 6x12x12; conv 16x8x8; pool 16x4x4; 120; 84; 10
        long acts = 784 + 6 * 24 * 24 + 6 * 12 * 12 + 16 * 8 * 8 + 16 * 4 * 4 + 120 + 84 + 10;
        long im2col = 24 * 24 * 25 * 1 + 8 * 8 * 25 * 6;
        assertArrayEquals(new long[] {acts, im2col},
            MemoryPlan.activations(Models.configuration(ModelOptions.lenet()), Architecture.LENET.inputType()));
    }

    @Test
    void parametersAndUpdaterStateAreCountedExactly() {
        MemoryPlan adam = MemoryPlan.estimate(ModelOptions.mlp(), TrainingOptions.defaults(), 60_000, 10_000, 2,
            false);
        assertEquals(2L * 235_146 * 4, adam.perTask().get("parameters + gradients"));
        assertEquals(2L * 235_146 * 4, adam.perTask().get("updater state"), "Adam keeps two moments");
        // the vector, its slices, the peers' parcels, and (overlap, the default) the state sent and its mean, plus
        // the slices of the parameters alone (--updater-averaging auto, the default, may move them alone)
        assertEquals((5L * (235_146 * 3) + 235_146) * 4, adam.perTask().get("averaging buffers"));
        MemoryPlan waited = MemoryPlan.estimate(ModelOptions.mlp(), TrainingOptions.defaults().with(
            TrainingOptions.defaults().averaging().withOverlap(false)), 60_000, 10_000, 2, false);
        assertEquals((3L * (235_146 * 3) + 235_146) * 4, waited.perTask().get("averaging buffers"));
        MemoryPlan everyRound = MemoryPlan.estimate(ModelOptions.mlp(), TrainingOptions.defaults().with(
            TrainingOptions.defaults().averaging().withUpdaterAveraging(TrainingOptions.UpdaterAveraging.ROUND)),
            60_000, 10_000, 2, false);
        assertEquals(5L * (235_146 * 3) * 4, everyRound.perTask().get("averaging buffers"));
        MemoryPlan local = MemoryPlan.estimate(ModelOptions.mlp(), TrainingOptions.defaults(), 60_000, 10_000, 1,
            true);
        assertEquals(70_000L * (784 + 10) * 4, local.perTask().get("the epoch's minibatches and the test set"));
        assertEquals(0L, local.perTask().get("averaging buffers"));
        // an evaluation task on the resident engine runs beside the network its JVM kept for the next stage
        MemoryPlan dl4j = MemoryPlan.estimate(ModelOptions.mlp(), TrainingOptions.defaults().withEngine(
            TrainingOptions.Engine.DL4J), 60_000, 10_000, 2, false);
        // a worker's reader holds two chunks of four rounds of minibatches: auto plans for its ceiling of 8, batch 32
        long readAhead = 2L * 4 * 8 * 32 * (784 + 10) * 4;
        assertEquals(readAhead, adam.perTask().get("minibatches read ahead"));
        assertEquals((2L * 235_146 + 2 * 235_146) * 4 + readAhead, adam.evalPerTask() - dl4j.evalPerTask(),
            "parameters, gradients and Adam's two moments, and the arrays its reader left for the next stage");
        MemoryPlan every2 = MemoryPlan.estimate(ModelOptions.mlp(), TrainingOptions.defaults().with(
            TrainingOptions.defaults().averaging().withFrequency(2)), 60_000, 10_000, 2, false);
        assertEquals(2L * 4 * 2 * 32 * (784 + 10) * 4, every2.perTask().get("minibatches read ahead"));
        MemoryPlan small = MemoryPlan.estimate(ModelOptions.mlp(), TrainingOptions.defaults(), 1_000, 100, 2, false);
        assertEquals(16L * 32 * (784 + 10) * 4, small.perTask().get("minibatches read ahead"),
            "no more than a worker's share: 500 examples, 16 minibatches of 32");
        // the resident engine's training task also scores its half of the test set at the epoch's end
        // (StageEvaluation): batches of 500 through the MLP's layers, and 5,000 examples read
        long mlpActivations = 784 + 256 + 128 + 10;
        assertEquals(500L * mlpActivations * 4 + 5_000L * (784 + 10) * 4,
            adam.perTask().get("the epoch's evaluation (batch 500)"));
        assertEquals(null, dl4j.perTask().get("the epoch's evaluation (batch 500)"), "DL4J's master: a job of its own");
        assertEquals(null, local.perTask().get("the epoch's evaluation (batch 500)"));
    }

    @Test
    void yarnOverheadTooSmallIsRefusedWithTheSettingToRaise() {
        MemoryPlan plan = MemoryPlan.estimate(ModelOptions.lenet(), TrainingOptions.defaults(), 60_000, 10_000, 4,
            false);
        SparkConf yarn = new SparkConf(false).set("spark.master", "yarn").set("spark.executor.cores", "4")
            .set("spark.executor.memory", "1g").set("spark.executor.memoryOverhead", "100m");
        MemoryCheck check = MemoryCheck.of(plan, yarn, false, 1);
        assertEquals(4, check.tasks());
        assertEquals(plan.jvmBytes(4, false), check.need());
        assertEquals(100 * MIB, check.limit());
        assertTrue(check.refused());
        assertEquals(String.format(java.util.Locale.ROOT, "ND4J needs about %d MiB off-heap (per executor: 4 task(s)"
                + " (spark.executor.cores / spark.task.cpus); train --dry-run lists the items) and the limit is 100"
                + " MiB, spark.executor.memoryOverhead (the container's off-heap allowance): raise it to at least"
                + " %dm", check.need() / MIB, check.recommended() / MIB), check.message());
        assertTrue(check.recommended() >= check.need() * MemoryCheck.HEADROOM);
        // without an explicit overhead, YARN's default is max(384m, 10 % of the executor memory)
        MemoryCheck byDefault = MemoryCheck.of(plan, new SparkConf(false).set("spark.master", "yarn")
            .set("spark.executor.memory", "8g"), false, 1);
        assertEquals((long) (0.1 * 8 * 1024 * MIB), byDefault.limit());
        assertFalse(byDefault.refused());
    }

    @Test
    void standaloneChecksJavaCppsMaxBytes() {
        MemoryPlan plan = MemoryPlan.estimate(ModelOptions.mlp(), TrainingOptions.defaults(), 60_000, 10_000, 2,
            false);
        SparkConf standalone = new SparkConf(false).set("spark.master", "spark://127.0.0.1:7077")
            .set("spark.executor.extraJavaOptions", "-Dfoo=1 -Dorg.bytedeco.javacpp.maxbytes=200M");
        MemoryCheck check = MemoryCheck.of(plan, standalone, false, 1);
        assertEquals(200 * MIB, check.limit());
        assertEquals("-Dorg.bytedeco.javacpp.maxbytes in spark.executor.extraJavaOptions", check.setting());
        // Bounds computed by hand, not by the rule under test: the MLP's parameters, their gradients and Adam's two
        // moments alone are 4 x 235,146 floats = 3.6 MiB, so a 2 MiB limit must be refused; one task's whole
        // working set (those, batch-32 activations, a few averaging copies, minibatches read ahead) is far below
        // 1 GiB, so a 4 GiB limit must not be.
        long handCounted = 4L * 235_146 * 4;
        assertTrue(handCounted > 2 * MIB);
        assertTrue(MemoryCheck.of(plan, standalone.clone().set("spark.executor.extraJavaOptions",
            "-Dorg.bytedeco.javacpp.maxbytes=2M"), false, 1).refused(), "below the parameters alone");
        assertFalse(MemoryCheck.of(plan, standalone.clone().set("spark.executor.extraJavaOptions",
            "-Dorg.bytedeco.javacpp.maxbytes=4G"), false, 1).refused(), "far above one task's working set");
        assertTrue(check.need() > handCounted && check.need() < 1024 * MIB, "the estimate lies between: "
            + check.need());
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path tmp;

    @Test
    void theHeapLineSaysWhetherTheIdxRecordsFitTheirBudget() {
        long mnist = 60_000L * 785 + 10_000L * 785; // both splits' images and labels
        assertEquals("on the heap per JVM: the idx files' records, 52.4 MiB (IdxCache), within its budget of 128.0 MiB"
            + " (an eighth of a 1024 MiB heap)", MemoryPlan.heapLine(mnist, 1024 * MemoryPlan.MIB));
        assertEquals("on the heap per JVM: the idx files' records, 52.4 MiB (IdxCache), over its budget of 32.0 MiB"
            + " (an eighth of a 256 MiB heap): each epoch reads its slices from the store instead",
            MemoryPlan.heapLine(mnist, 256 * MemoryPlan.MIB));
    }

    @Test
    void trainRefusesBeforeAnySparkWorkAndDryRunStopsThere() {
        String slice = dev.sparkmnist.data.testing.TestData.sliceDir();
        // a YARN master with a 10m overhead: refused from the numbers alone, no cluster needed
        for (boolean dry : new boolean[] {false, true}) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "--data-dir", slice,
                "--output", tmp.resolve("never").toString(), "--master", "yarn", "--conf",
                "spark.executor.memoryOverhead=10m"));
            if (dry) {
                args.add("--dry-run");
            }
            CliIT.Run run = CliIT.run(args.toArray(String[]::new));
            assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.err());
            assertTrue(run.err().startsWith("error: ND4J needs about ") && run.err().contains(
                "the limit is 10 MiB, spark.executor.memoryOverhead (the container's off-heap allowance): raise it to"
                    + " at least "), run.err());
        }
        CliIT.Run fits = CliIT.run("train", "--data-dir", slice, "--output", tmp.resolve("never").toString(),
            "--master", "local[2]", "--dry-run");
        assertEquals(0, fits.exit(), fits.err());
        assertFalse(java.nio.file.Files.exists(tmp.resolve("never")), "a dry run writes nothing");
    }
}
