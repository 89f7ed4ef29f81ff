package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/** The fused softmax and cross-entropy of the output layer against hand-computed values and DL4J's own layer. */
class TrainingOutputLayerTest {
    private static final LayerWorkspaceMgr NO_WS = LayerWorkspaceMgr.noWorkspaces();

    @Test
    void gradientAndLossOfHandComputedProbabilities() {
        // row 0: p = 0.25, 0.75, label 1; row 1: p = 0.5, 0.5, label 0
        float[] p = {0.25f, 0.75f, 0.5f, 0.5f};
        double loss = TrainingOutputLayer.gradientAndLoss(p, new float[] {0f, 1f, 1f, 0f}, 4, 1e-10);
        assertEquals(-Math.log(0.75) - Math.log(0.5), loss, 1e-6);
        assertArrayEquals(new float[] {0.25f, -0.25f, -0.5f, 0.5f}, p, 0f, "softmax minus labels");
        // a probability below DL4J's clipping epsilon counts as the epsilon
        float[] far = {1f, 0f};
        loss = TrainingOutputLayer.gradientAndLoss(far, new float[] {0f, 1f}, 2, 1e-10);
        assertEquals(-Math.log((float) 1e-10), loss, 1e-4);
        assertArrayEquals(new float[] {1f, -1f}, far, 0f);
    }

    /** A network of one output layer (6 inputs, 4 classes, this loss, softmax), gradient views set. */
    private static MultiLayerNetwork net(LossFunction loss) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).list()
            .layer(new OutputLayer.Builder(loss).nIn(6).nOut(4).activation(Activation.SOFTMAX).build()).build());
        net.init();
        return withViews(net);
    }

    private static MultiLayerNetwork withViews(MultiLayerNetwork net) {
        net.initGradientsView();
        return net;
    }

    private static INDArray[] batch(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 6];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (3 * r.nextGaussian()); // wide logits: some probabilities near 0 and 1
        }
        float[] y = new float[n * 4];
        for (int i = 0; i < n; i++) {
            y[i * 4 + r.nextInt(4)] = 1f;
        }
        return new INDArray[] {Nd4j.create(x, new long[] {n, 6}), Nd4j.create(y, new long[] {n, 4})};
    }

    /** The layer's backward pass then its score, as DL4J's training step calls them. */
    private static Object[] step(Layer layer, INDArray[] data) {
        layer.setInput(data[0], NO_WS);
        ((IOutputLayer) layer).setLabels(data[1]);
        Pair<Gradient, INDArray> p = layer.backpropGradient(null, NO_WS);
        INDArray weights = p.getFirst().getGradientFor("W").dup();
        INDArray bias = p.getFirst().getGradientFor("b").dup();
        double score = ((IOutputLayer) layer).computeScore(0.25, true, NO_WS);
        return new Object[] {weights, bias, p.getSecond().dup(), score};
    }

    @Test
    void gradientsAndScoreEqualDl4jsLayer() {
        for (LossFunction loss : new LossFunction[] {LossFunction.MCXENT, LossFunction.NEGATIVELOGLIKELIHOOD,
            LossFunction.MSE}) {
            MultiLayerNetwork reference = net(loss);
            MultiLayerNetwork ours = withViews(Models.forTraining(net(loss)));
            assertInstanceOf(TrainingOutputLayer.class, ours.getLayer(0));
            INDArray[] data = batch(32, 7);
            Object[] expected = step(reference.getLayer(0), data);
            Object[] actual = step(ours.getLayer(0), data);
            for (int i = 0; i < 3; i++) { // the weight, bias and input gradients: DL4J's to the last bit
                float[] e = ((INDArray) expected[i]).ravel().toFloatVector();
                assertArrayEquals(e, ((INDArray) actual[i]).ravel().toFloatVector(), 0f, loss + ": gradient " + i);
                assertTrue(((INDArray) expected[i]).amaxNumber().doubleValue() > 1e-3, "a gradient to compare");
            }
            assertEquals((double) expected[3], (double) actual[3], 1e-6, loss + ": score, penalty included");
            assertTrue((double) expected[3] > 0.25, "a loss beside the penalty");
        }
    }

    @Test
    void aScoreWithoutItsBackwardPassIsComputedAgain() {
        MultiLayerNetwork reference = net(LossFunction.MCXENT);
        Layer ours = withViews(Models.forTraining(net(LossFunction.MCXENT))).getLayer(0);
        INDArray[] first = batch(16, 1);
        INDArray[] second = batch(16, 2);
        step(ours, first); // the kept loss is used once
        ours.setInput(first[0], NO_WS);
        ((IOutputLayer) ours).setLabels(first[1]);
        ours.backpropGradient(null, NO_WS);
        ((IOutputLayer) ours).setLabels(second[1]); // new labels after the backward pass: its loss is stale
        Layer plain = reference.getLayer(0);
        plain.setInput(first[0], NO_WS);
        ((IOutputLayer) plain).setLabels(second[1]);
        double expected = ((IOutputLayer) plain).computeScore(0, true, NO_WS);
        assertEquals(expected, ((IOutputLayer) ours).computeScore(0, true, NO_WS), 1e-6);
        assertEquals(expected, ((IOutputLayer) ours).computeScore(0, true, NO_WS), 1e-6, "and again");
        ((IOutputLayer) plain).setLabels(first[1]);
        double withFirst = ((IOutputLayer) plain).computeScore(0, true, NO_WS);
        assertTrue(Math.abs(expected - withFirst) > 1e-3, "the two label sets give different losses");
    }
}
