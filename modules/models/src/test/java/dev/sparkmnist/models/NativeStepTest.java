package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@link NativeStep} against the Java step it stands for ({@link TrainingStep} without it) on two copies of the same
 * network and the same minibatches: the same parameters, Adam state, gradient view and score to the bit, step by
 * step; and where it does not apply, the Java path.
 */
class NativeStepTest {

    private static boolean linuxX64() {
        return "Linux".equals(System.getProperty("os.name")) && "amd64".equals(System.getProperty("os.arch"));
    }

    @Test
    void theBuildCarriesTheLibraryAndItRunsHere() {
        // the module's build compiles it for linux-x86_64 (src/main/c/build.sh); CI's machines have AVX2 and FMA
        if (linuxX64()) {
            assertNull(NativeStep.unavailable(), "the native step runs on linux-x86_64");
        } else {
            assertNotNull(NativeStep.unavailable());
        }
    }

    private static void assertSameState(MultiLayerNetwork java, MultiLayerNetwork nat, String when) {
        assertArrayEquals(java.params().toFloatVector(), nat.params().toFloatVector(), "parameters " + when);
        assertArrayEquals(java.getUpdater().getStateViewArray().toFloatVector(),
            nat.getUpdater().getStateViewArray().toFloatVector(), "Adam's state " + when);
        assertArrayEquals(java.getGradientsViewArray().toFloatVector(), nat.getGradientsViewArray().toFloatVector(),
            "the gradient view (the last update) " + when);
        assertEquals(java.score(), nat.score(), 1e-12 * Math.abs(java.score()), "score " + when);
        assertEquals(java.getIterationCount(), nat.getIterationCount(), "iterations " + when);
    }

    /** Trains copies of the network of {@code o} through both paths; returns the native one's step count. */
    private static long trainBoth(ModelOptions o, int steps) {
        return trainBoth(o, steps, Integer.MAX_VALUE);
    }

    /** As above, a new epoch every {@code epochSteps} steps (a schedule by epoch changes the rate). */
    private static long trainBoth(ModelOptions o, int steps, int epochSteps) {
        MultiLayerNetwork java = Models.network(o);
        MultiLayerNetwork nat = Models.network(o);
        TrainingStep javaStep = TrainingStep.javaOnly(java);
        TrainingStep natStep = TrainingStep.of(nat);
        assertFalse(javaStep.isNative());
        assertTrue(natStep.isNative(), "the MLP's step is native");
        long before = NativeStep.STEPS.sum();
        for (int s = 0; s < steps; s++) {
            if (s > 0 && s % epochSteps == 0) {
                java.incrementEpochCount();
                nat.incrementEpochCount();
            }
            // minibatches of 16 and 7, then 40 (the native buffers grow), black borders (gradients of exactly 0)
            DataSet d = BlackBorderBatches.batch(s == steps / 2 ? 40 : s % 4 == 3 ? 7 : 16, s);
            javaStep.fit(d.copy());
            natStep.fit(d);
            assertSameState(java, nat, "after step " + s);
        }
        assertSameState(java, nat, "at the end");
        assertEquals(steps, natStep.leanSteps());
        return NativeStep.STEPS.sum() - before;
    }

    @Test
    void theMlpTrainsToTheJavaStepsFloats() throws InterruptedException {
        SimdAdamTest.waitUntilCompiled(); // the Java side's kernel, as runs use it (ND4J's op gives the same floats)
        // past SubnormalFlush's interval (32), whose pass both paths call
        assertEquals(70, trainBoth(ModelOptions.mlp(), 70), "every step was native");
    }

    @Test
    void theMlpWithClassicalMomentumTrainsToTheJavaStepsFloats() {
        ModelOptions o = ModelOptions.mlp().toBuilder().optimizer(Optimizer.MOMENTUM).learningRate(0.01)
            .schedule(new LrSchedule(LrSchedule.Kind.EXPONENTIAL, 0.5, 1, new int[0])).build();
        assertEquals(40, trainBoth(o, 40, 16));
    }

    @Test
    void theMlpWithNesterovsMomentumTrainsWithinRoundingOfTheJavaStep() {
        // DL4J's own updater (no fused division: the step divides the gradient in Nesterov's pass); libnd4j's
        // nesterovs_updater rounds differently in the last bit (from step 1), so within rounding, not bit for bit
        ModelOptions o = ModelOptions.mlp().toBuilder().optimizer(Optimizer.NESTEROV).learningRate(0.01).build();
        MultiLayerNetwork java = Models.network(o);
        MultiLayerNetwork nat = Models.network(o);
        TrainingStep javaStep = TrainingStep.javaOnly(java);
        TrainingStep natStep = TrainingStep.of(nat);
        assertTrue(natStep.isNative());
        for (int s = 0; s < 20; s++) {
            DataSet d = BlackBorderBatches.batch(s % 4 == 3 ? 7 : 16, s);
            javaStep.fit(d.copy());
            natStep.fit(d);
            assertEquals(java.score(), nat.score(), 1e-6 * java.score(), "score at step " + s);
        }
        double p = relativeDifference(java.params().toFloatVector(), nat.params().toFloatVector());
        assertTrue(p < 1e-6, "the parameters after 20 steps differ by " + p + " of the largest");
        double v = relativeDifference(java.getUpdater().getStateViewArray().toFloatVector(),
            nat.getUpdater().getStateViewArray().toFloatVector());
        assertTrue(v < 1e-5, "the velocities differ by " + v + " of the largest");
        assertEquals(20, natStep.leanSteps());
    }

    @Test
    void anotherLearningRateAndAdamsScheduleTrainToTheSameFloats() {
        ModelOptions o = ModelOptions.mlp().toBuilder().learningRate(0.01)
            .schedule(new LrSchedule(LrSchedule.Kind.EXPONENTIAL, 0.5, 1, new int[0])).build();
        assertEquals(12, trainBoth(o, 12, 4));
    }

    /** The largest difference between two arrays, relative to the first's largest magnitude. */
    private static double relativeDifference(float[] want, float[] got) {
        double max = 0;
        double diff = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i]));
            diff = Math.max(diff, Math.abs(want[i] - got[i]));
        }
        return diff / max;
    }

    /**
     * LeNet-5: its convolutions are not oneDNN's, so the floats
     * differ in their last bits; each step's gradient and the parameters after several stay within float rounding of
     * the Java step's.
     */
    private static void lenetCloseToTheJavaStep(ModelOptions o, double updates, double parameters) {
        MultiLayerNetwork java = Models.network(o);
        MultiLayerNetwork nat = Models.network(o);
        TrainingStep javaStep = TrainingStep.javaOnly(java);
        TrainingStep natStep = TrainingStep.of(nat);
        assertTrue(natStep.isNative(), "LeNet-5's step is native: " + NativeStep.whyNot(nat));
        long before = NativeStep.STEPS.sum();
        for (int s = 0; s < 12; s++) {
            DataSet d = BlackBorderBatches.batch(s % 4 == 3 ? 7 : s % 4 == 2 ? 1 : s % 4 == 1 ? 3 : 16, s);
            javaStep.fit(d.copy());
            natStep.fit(d);
            double g = relativeDifference(java.getGradientsViewArray().toFloatVector(),
                nat.getGradientsViewArray().toFloatVector());
            assertTrue(g < updates, "step " + s + ": the updates differ by " + g + " of the largest");
            assertEquals(java.score(), nat.score(), 1e-5 * java.score(), "score at step " + s);
            assertEquals(Models.scorePenalty(java), Models.scorePenalty(nat), 1e-5 * java.score(),
                "the L2 penalty in the score at step " + s);
        }
        double p = relativeDifference(java.params().toFloatVector(), nat.params().toFloatVector());
        assertTrue(p < parameters, "the parameters after 12 steps differ by " + p + " of the largest");
        assertTrue(p > 0, "and they differ: the convolutions are not oneDNN's");
        assertEquals(12, NativeStep.STEPS.sum() - before, "every step was native");
    }

    @Test
    void lenetTrainsWithinRoundingOfTheJavaStep() {
        // classical momentum: each update is the gradient's, scaled, so it differs as little as the gradients do
        lenetCloseToTheJavaStep(ModelOptions.lenet(), 1e-4, 1e-5);
        lenetCloseToTheJavaStep(ModelOptions.lenet().toBuilder().inputPadding(2).build(), 1e-4, 1e-5);
    }

    @Test
    void theDefaultLenetJobTrainsWithinRoundingOfTheJavaStep() {
        // padded input, Nesterov's momentum, L2 on the weights (in the score too) and a schedule by epoch
        lenetCloseToTheJavaStep(ModelOptions.jobDefaults(Architecture.LENET), 1e-4, 1e-5);
    }

    @Test
    void lenetWithAdamTrainsCloseToTheJavaStep() throws InterruptedException {
        SimdAdamTest.waitUntilCompiled();
        // Adam divides each moment by its root: for a weight whose gradient is near 0 (a border pixel's) the update
        // moves with the gradient's last bits, so the updates agree less closely than the gradients
        lenetCloseToTheJavaStep(ModelOptions.lenet().toBuilder().inputPadding(2).optimizer(Optimizer.ADAM)
            .learningRate(0.001).build(), 1e-2, 1e-4);
    }

    @Test
    void networksItDoesNotTrainKeepTheJavaPath() {
        assertNull(NativeStep.whyNot(Models.network(ModelOptions.lenet())), "LeNet-5 trains natively");
        System.setProperty(NativeStep.CONV_PROPERTY, "false");
        try {
            assertTrue(NativeStep.whyNot(Models.network(ModelOptions.lenet())).contains(NativeStep.CONV_PROPERTY),
                "unless switched off");
            assertNull(NativeStep.whyNot(Models.network(ModelOptions.mlp())), "which leaves the MLP's native");
        } finally {
            System.clearProperty(NativeStep.CONV_PROPERTY);
        }
        assertTrue(NativeStep.whyNot(Models.network(ModelOptions.mlp().toBuilder().dropout(0.2).build()))
            .contains("dropout"));
        assertNull(NativeStep.whyNot(Models.network(ModelOptions.mlp().toBuilder().l2(1e-4).build())),
            "L2 on the weights trains natively");
        assertNull(NativeStep.whyNot(Models.network(ModelOptions.mlp().toBuilder().optimizer(Optimizer.MOMENTUM)
            .build())), "classical momentum trains natively too");
        assertNull(NativeStep.whyNot(Models.network(ModelOptions.mlp().toBuilder().optimizer(Optimizer.NESTEROV)
            .build())), "and Nesterov's momentum");
        assertTrue(NativeStep.whyNot(Models.network(ModelOptions.mlp().toBuilder().optimizer(Optimizer.SGD)
            .build())).contains("Adam"), "plain SGD keeps the Java step");
        assertTrue(NativeStep.whyNot(Models.network(ModelOptions.mlp().toBuilder().activation(HiddenActivation.TANH)
            .build())).contains("not ReLU"));
        assertNull(NativeStep.whyNot(Models.network(ModelOptions.mlp())));
        assertFalse(TrainingStep.of(Models.network(ModelOptions.lenet().toBuilder().dropout(0.2).build()))
            .isNative());
    }

    @Test
    void theSetUpWarmsOnlyTheJavaKernelsTheNetworkWillRun() {
        // Models.network sets the network up for training (Models.forTraining), which warms what kernelsToWarm lists
        boolean nat = NativeStep.unavailable() == null;
        var adam = java.util.EnumSet.of(Models.VectorKernel.ADAM);
        var javaLenet = java.util.EnumSet.of(Models.VectorKernel.MOMENTUM, Models.VectorKernel.POOLING,
            Models.VectorKernel.CHANNEL_SUMS);
        assertEquals(nat ? java.util.EnumSet.noneOf(Models.VectorKernel.class) : adam,
            Models.kernelsToWarm(Models.network(ModelOptions.mlp())), "a native MLP's step runs no Java kernel");
        assertEquals(nat ? java.util.EnumSet.of(Models.VectorKernel.POOLING) : javaLenet,
            Models.kernelsToWarm(Models.network(ModelOptions.lenet())),
            "a native LeNet-5 still pools in Java to evaluate");
        MultiLayerNetwork nesterov = Models.network(ModelOptions.lenet().toBuilder().optimizer(Optimizer.NESTEROV)
            .build());
        assertEquals(nat ? java.util.EnumSet.of(Models.VectorKernel.POOLING)
                : java.util.EnumSet.of(Models.VectorKernel.POOLING, Models.VectorKernel.CHANNEL_SUMS),
            Models.kernelsToWarm(nesterov), "the default job's Nesterov momentum, whose DL4J updater is not built yet");
        assertNull(nesterov.getUpdater(false), "and is not built to tell");
        assertEquals(adam, Models.kernelsToWarm(Models.network(ModelOptions.mlp().toBuilder().dropout(0.2).build())),
            "a Java step runs its updater's kernel");
        assertEquals(javaLenet,
            Models.kernelsToWarm(Models.network(ModelOptions.lenet().toBuilder().dropout(0.2).build())));
    }

    @Test
    void aListenerOrAMinibatchItCannotReadGoesToTheJavaPath() {
        MultiLayerNetwork java = Models.network(ModelOptions.mlp());
        MultiLayerNetwork nat = Models.network(ModelOptions.mlp());
        TrainingStep javaStep = TrainingStep.javaOnly(java);
        TrainingStep natStep = TrainingStep.of(nat);
        long before = NativeStep.STEPS.sum();
        DataSet rows = BlackBorderBatches.batch(16, 1);
        javaStep.fit(rows.copy());
        natStep.fit(rows.copy());
        // features in columns: the Java path fits it, the same floats
        DataSet columns = new DataSet(rows.getFeatures().dup('f'), rows.getLabels());
        javaStep.fit(columns.copy());
        natStep.fit(columns);
        assertSameState(java, nat, "after a minibatch in columns");
        assertEquals(1, NativeStep.STEPS.sum() - before, "only the minibatch in rows was native");
        // a listener that watches each step: the Java path calls it
        int[] heard = {0};
        nat.addListeners(new BaseTrainingListener() {
            @Override
            public void iterationDone(org.deeplearning4j.nn.api.Model model, int iteration, int epoch) {
                heard[0]++;
            }
        });
        natStep.fit(rows.copy());
        javaStep.fit(rows.copy());
        assertEquals(1, heard[0], "the listener heard the step");
        assertEquals(1, NativeStep.STEPS.sum() - before, "and it was not native");
        assertSameState(java, nat, "after the listened step");
    }
}
