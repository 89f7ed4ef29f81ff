package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link TrainingStep}'s Java path (without {@link NativeStep}, which {@code NativeStepTest} compares with it) against
 * DL4J's {@code fit} on two copies of the same network and the same minibatches: the
 * same parameters, updater state, score and counts to the bit, for each model and optimiser this project trains.
 */
class TrainingStepTest {

    /** Fits {@code steps} minibatches with DL4J's fit and with the step; returns {DL4J's, the step's} networks. */
    private static MultiLayerNetwork[] trainBoth(ModelOptions o, int steps, List<String> seen) {
        MultiLayerNetwork dl4j = Models.network(o);
        MultiLayerNetwork lean = Models.network(o);
        assertArrayEquals(dl4j.params().toFloatVector(), lean.params().toFloatVector(), "the same start");
        TrainingStep step = TrainingStep.javaOnly(lean);
        assertNull(step.whyNot(), "the step applies to " + o.architecture());
        if (seen != null) {
            lean.addListeners(recorder("lean", seen));
            dl4j.addListeners(recorder("dl4j", seen));
        }
        for (int s = 0; s < steps; s++) {
            DataSet d = BlackBorderBatches.batch(s % 4 == 3 ? 7 : 16, s);
            Nd4j.getRandom().setSeed(1000 + s); // dropout's masks: the same random numbers for both
            dl4j.fit(d.copy());
            double dl4jScore = dl4j.score();
            Nd4j.getRandom().setSeed(1000 + s);
            step.fit(d);
            assertEquals(dl4jScore, lean.score(), "score after step " + s);
        }
        assertEquals(steps, step.leanSteps(), "every step was the step's own, none DL4J's fit");
        return new MultiLayerNetwork[] {dl4j, lean};
    }

    private static void assertSameTraining(MultiLayerNetwork[] nets, int steps) {
        assertArrayEquals(nets[0].params().toFloatVector(), nets[1].params().toFloatVector(), "parameters");
        assertArrayEquals(nets[0].getUpdater().getStateViewArray().toFloatVector(),
            nets[1].getUpdater().getStateViewArray().toFloatVector(), "updater state");
        assertEquals(steps, nets[1].getIterationCount(), "iterations counted");
        assertEquals(nets[0].getIterationCount(), nets[1].getIterationCount());
        assertSame(nets[1].getGradientsViewArray(), nets[1].gradient().gradient(), "the flattened gradient");
        assertArrayEquals(nets[0].getGradientsViewArray().toFloatVector(),
            nets[1].getGradientsViewArray().toFloatVector(), "the last gradient");
    }

    @Test
    void mlpWithAdamTrainsAsDl4jsFit() throws InterruptedException {
        SimdAdamTest.waitUntilCompiled();
        assertSameTraining(trainBoth(ModelOptions.mlp(), 24, null), 24);
    }

    @Test
    void lenetWithMomentumTrainsAsDl4jsFit() {
        // convolutions, pooling, a preprocessor between them and the dense layers, DL4J's cache of the convolutions
        assertSameTraining(trainBoth(ModelOptions.lenet(), 10, null), 10);
    }

    @Test
    void theDefaultLenetJobTrainsAsDl4jsFitAcrossEpochs() {
        // padded input, Nesterov momentum, L2 and a schedule by epoch (read from the counts the step keeps)
        ModelOptions o = ModelOptions.jobDefaults(Architecture.LENET);
        MultiLayerNetwork dl4j = Models.network(o);
        MultiLayerNetwork lean = Models.network(o);
        TrainingStep step = TrainingStep.javaOnly(lean);
        assertNull(step.whyNot());
        for (int s = 0; s < 16; s++) {
            if (s > 0 && s % 4 == 0) {
                dl4j.incrementEpochCount();
                lean.incrementEpochCount();
            }
            DataSet d = BlackBorderBatches.batch(8, s);
            dl4j.fit(d.copy());
            step.fit(d);
            assertEquals(dl4j.score(), lean.score(), "score after step " + s);
        }
        assertSameTraining(new MultiLayerNetwork[] {dl4j, lean}, 16);
    }

    @Test
    void withL2AndDropoutItStillTrainsAsDl4jsFit() {
        ModelOptions o = ModelOptions.mlp().withRegularisation(1e-3, 0.2).withSeed(7);
        MultiLayerNetwork[] nets = trainBoth(o, 12, null);
        assertSameTraining(nets, 12);
    }

    @Test
    void listenersHearTheSameCallsInTheSameOrder() {
        List<String> seen = new ArrayList<>();
        trainBoth(ModelOptions.mlp().withSeed(3), 3, seen);
        List<String> dl4j = new ArrayList<>();
        List<String> lean = new ArrayList<>();
        for (String s : seen) {
            (s.startsWith("dl4j") ? dl4j : lean).add(s.substring(s.indexOf(' ') + 1));
        }
        assertEquals(List.of("forward 3", "backward", "gradient", "done 0", "forward 3", "backward", "gradient",
            "done 1", "forward 3", "backward", "gradient", "done 2"), dl4j, "DL4J's own calls (the reference)");
        assertEquals(dl4j, lean);
    }

    @Test
    void whatItDoesNotCoverIsFittedByDl4j() {
        MultiLayerNetwork net = Models.network(ModelOptions.mlp());
        net.getLayerWiseConfigurations().setTrainingWorkspaceMode(WorkspaceMode.NONE);
        TrainingStep step = TrainingStep.javaOnly(net);
        assertEquals("training workspaces are not enabled", step.whyNot());
        step.fit(BlackBorderBatches.batch(8, 1));
        assertEquals(0, step.leanSteps());
        assertEquals(1, net.getIterationCount(), "DL4J's fit trained it");

        MultiLayerNetwork masked = Models.network(ModelOptions.mlp());
        TrainingStep s2 = TrainingStep.javaOnly(masked);
        DataSet d = BlackBorderBatches.batch(8, 2);
        d.setLabelsMaskArray(Nd4j.ones(8, 1));
        s2.fit(d);
        assertEquals(0, s2.leanSteps(), "a masked minibatch goes to DL4J");
        assertEquals(1, masked.getIterationCount());
    }

    @Test
    void theSwitchHandsEveryStepToDl4j() {
        System.setProperty(TrainingStep.PROPERTY, "false");
        try {
            TrainingStep step = TrainingStep.javaOnly(Models.network(ModelOptions.mlp()));
            assertNotNull(step.whyNot());
            assertTrue(step.whyNot().contains(TrainingStep.PROPERTY), step.whyNot());
            step.fit(BlackBorderBatches.batch(8, 1));
            assertEquals(0, step.leanSteps());
        } finally {
            System.clearProperty(TrainingStep.PROPERTY);
        }
    }

    private static TrainingListener recorder(String who, List<String> seen) {
        return new BaseTrainingListener() {
            @Override
            public void onForwardPass(Model model, List<INDArray> activations) {
                seen.add(who + " forward " + activations.size());
            }

            @Override
            public void onBackwardPass(Model model) {
                seen.add(who + " backward");
            }

            @Override
            public void onGradientCalculation(Model model) {
                seen.add(who + " gradient");
            }

            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                seen.add(who + " done " + iteration);
            }
        };
    }
}
