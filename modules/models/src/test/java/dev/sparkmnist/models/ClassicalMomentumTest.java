package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;

/** Classical momentum computes PyTorch's steps, and survives DL4J's configuration JSON (Spark ships it). */
class ClassicalMomentumTest {
    @Test
    void stepsArePyTorchsHeavyBall() {
        ClassicalMomentum config = new ClassicalMomentum(0.1, null, 0.9);
        INDArray state = Nd4j.zeros(DataType.DOUBLE, 1, 2);
        GradientUpdater<?> updater = config.instantiate(state, true);
        // PyTorch SGD(lr=0.1, momentum=0.9): v1 = g1, step1 = 0.1 * v1; v2 = 0.9 * v1 + g2, step2 = 0.1 * v2
        INDArray g1 = Nd4j.createFromArray(new double[][] {{1.0, -2.0}});
        updater.applyUpdater(g1, 0, 0);
        assertArrayEquals(new double[] {0.1, -0.2}, g1.toDoubleVector(), 1e-12);
        INDArray g2 = Nd4j.createFromArray(new double[][] {{0.5, 0.5}});
        updater.applyUpdater(g2, 1, 0);
        assertArrayEquals(new double[] {0.1 * (0.9 * 1.0 + 0.5), 0.1 * (0.9 * -2.0 + 0.5)}, g2.toDoubleVector(),
            1e-12);
        assertArrayEquals(new double[] {1.4, -1.3}, state.toDoubleVector(), 1e-12, "v lives in the state view");
    }

    @Test
    void nesterovDiffersFromClassical() {
        INDArray g = Nd4j.createFromArray(new double[][] {{1.0}});
        GradientUpdater<?> nesterov = new org.nd4j.linalg.learning.config.Nesterovs(0.1, 0.9)
            .instantiate(Nd4j.zeros(DataType.DOUBLE, 1, 1), true);
        nesterov.applyUpdater(g, 0, 0);
        // Nesterov's first step is lr * (1 + momentum) * g, the classical one lr * g
        assertEquals(0.19, Math.abs(g.getDouble(0)), 1e-12);
    }

    @Test
    void configurationJsonRoundTripsAndTrains() {
        ModelOptions o = ModelOptions.mlp().withOptimizer(Optimizer.MOMENTUM, 0.01)
            .withSchedule(new LrSchedule(LrSchedule.Kind.STEP, 0.5, 1, null));
        MultiLayerConfiguration conf = Models.configuration(o);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        ClassicalMomentum u = assertInstanceOf(ClassicalMomentum.class,
            back.getConf(0).getLayer().getUpdaterByParam("W"));
        assertEquals(0.005, u.getLearningRate(0, 1), 1e-12, "the schedule came through");
        MultiLayerNetwork net = new MultiLayerNetwork(back);
        net.init();
        assertEquals(net.numParams(), net.getUpdater().getStateViewArray().length(), "one v per parameter");
        double[] loss = Memorise.lossBeforeAndAfter(net, 8, 20);
        org.junit.jupiter.api.Assertions.assertTrue(loss[1] < loss[0], "loss falls: " + loss[0] + " -> " + loss[1]);
    }
}
