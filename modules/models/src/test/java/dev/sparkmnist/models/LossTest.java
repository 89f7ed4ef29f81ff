package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMAE;

/** The teaching material's losses: values computed by hand, SmoothL1's gradient checked by finite differences. */
class LossTest {
    @Test
    void smoothL1MatchesPyTorchOnATinyBatch() {
        LossSmoothL1 loss = new LossSmoothL1();
        // identity outputs, so output = preOutput. d = output - label.
        INDArray labels = Nd4j.createFromArray(new double[][] {{0, 1}, {1, 0}});
        INDArray out = Nd4j.createFromArray(new double[][] {{0.5, -1.0}, {1.2, 3.0}});
        // row 0: d = (0.5, -2): 0.5*0.25 = 0.125, 2 - 0.5 = 1.5 -> mean 0.8125
        // row 1: d = (0.2, 3):  0.5*0.04 = 0.02,  3 - 0.5 = 2.5 -> mean 1.26
        // torch.nn.functional.smooth_l1_loss(out, labels) = mean of all four = 1.03625
        assertArrayEquals(new double[] {0.8125, 1.26},
            loss.computeScoreArray(labels, out, new ActivationIdentity(), null).toDoubleVector(), 1e-12);
        assertEquals(1.03625, loss.computeScore(labels, out, new ActivationIdentity(), null, true), 1e-12);
        assertEquals(2.0725, loss.computeScore(labels, out, new ActivationIdentity(), null, false), 1e-12);
        // d/d out of each row's mean: d/beta inside, sign(d) outside, over 2 outputs
        assertArrayEquals(new double[] {0.25, -0.5, 0.1, 0.5},
            loss.computeGradient(labels, out, new ActivationIdentity(), null).reshape(4).toDoubleVector(), 1e-12);
        LossSmoothL1 narrow = new LossSmoothL1(0.5);
        // beta 0.5, row 0: |0.5| is not < 0.5 -> 0.5 - 0.25 = 0.25; 2 - 0.25 = 1.75 -> mean 1.0
        assertEquals(1.0, narrow.computeScoreArray(labels, out, new ActivationIdentity(), null).getDouble(0), 1e-12);
    }

    @Test
    void smoothL1GradientThroughSoftmaxMatchesFiniteDifferences() {
        Nd4j.getRandom().setSeed(3);
        INDArray pre = Nd4j.randn(DataType.DOUBLE, 4, 10).muli(2);
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 4, 10);
        for (int i = 0; i < 4; i++) {
            labels.putScalar(i, (i * 3) % 10, 1.0);
        }
        for (LossSmoothL1 loss : new LossSmoothL1[] {new LossSmoothL1(), new LossSmoothL1(0.05)}) {
            INDArray analytic = loss.computeGradient(labels, pre, new ActivationSoftmax(), null);
            double eps = 1e-6;
            double worst = 0;
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 10; j++) {
                    INDArray plus = pre.dup();
                    plus.putScalar(i, j, pre.getDouble(i, j) + eps);
                    INDArray minus = pre.dup();
                    minus.putScalar(i, j, pre.getDouble(i, j) - eps);
                    double numeric = (loss.computeScore(labels, plus, new ActivationSoftmax(), null, false)
                        - loss.computeScore(labels, minus, new ActivationSoftmax(), null, false)) / (2 * eps);
                    worst = Math.max(worst, Math.abs(numeric - analytic.getDouble(i, j)));
                }
            }
            assertTrue(worst < 1e-7, loss + ": worst gradient error " + worst);
        }
    }

    @Test
    void everyLossReachesTheOutputLayerWithItsActivationAndTrains() {
        for (Loss loss : Loss.values()) {
            ModelOptions o = new ModelOptions(Architecture.MLP, HiddenActivation.RELU, Init.XAVIER, loss,
                Optimizer.ADAM, 1e-3, 0.9, LrSchedule.NONE, 0, 0, 0, 0, 1);
            MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(Models.configuration(o).toJson());
            OutputLayer out = (OutputLayer) conf.getConf(2).getLayer();
            assertEquals(loss.function(), out.getLossFn(), loss + " survives the configuration JSON");
            Class<?> activation = loss == Loss.BCE ? ActivationSigmoid.class : ActivationSoftmax.class;
            assertEquals(activation, out.getActivationFn().getClass(), loss.name());
            MultiLayerNetwork net = new MultiLayerNetwork(conf);
            net.init();
            double[] score = Memorise.lossBeforeAndAfter(net, 16, 30);
            assertTrue(score[1] < score[0], loss + ": loss falls " + score[0] + " -> " + score[1]);
        }
        assertInstanceOf(LossMAE.class, Loss.L1.function());
        assertInstanceOf(LossBinaryXENT.class, Loss.BCE.function());
    }
}
