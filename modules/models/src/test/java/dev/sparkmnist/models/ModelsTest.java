package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.weights.WeightInitRelu;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

class ModelsTest {

    @Test
    void mlpHasExactParameterCountAndShapes() {
        MultiLayerNetwork net = Models.network(ModelOptions.mlp());
        assertEquals(235_146, net.numParams());
        assertEquals(3, net.getnLayers());
        assertArrayEquals(new long[] {784, 256}, net.getParam("0_W").shape());
        assertArrayEquals(new long[] {256, 128}, net.getParam("1_W").shape());
        assertArrayEquals(new long[] {128, 10}, net.getParam("2_W").shape());
        INDArray out = net.output(Nd4j.rand(3, 784));
        assertArrayEquals(new long[] {3, 10}, out.shape());
        assertEquals(3.0, out.sumNumber().doubleValue(), 1e-5, "softmax rows sum to one");
        assertInstanceOf(Adam.class, net.getLayer(0).conf().getLayer().getUpdaterByParam("W"));
    }

    @Test
    void lenetHasExactParameterCountAndLayers() {
        MultiLayerNetwork net = Models.network(ModelOptions.lenet());
        assertEquals(44_426, net.numParams());
        assertArrayEquals(new long[] {6, 1, 5, 5}, net.getParam("0_W").shape());
        assertArrayEquals(new long[] {16, 6, 5, 5}, net.getParam("2_W").shape());
        assertArrayEquals(new long[] {256, 120}, net.getParam("4_W").shape());
        assertArrayEquals(new long[] {120, 84}, net.getParam("5_W").shape());
        assertArrayEquals(new long[] {84, 10}, net.getParam("6_W").shape());
        var layers = net.getLayerWiseConfigurations().getConfs();
        assertInstanceOf(ConvolutionLayer.class, layers.get(0).getLayer());
        assertInstanceOf(SubsamplingLayer.class, layers.get(1).getLayer());
        assertInstanceOf(DenseLayer.class, layers.get(5).getLayer());
        assertInstanceOf(OutputLayer.class, layers.get(6).getLayer());
        assertArrayEquals(new long[] {2, 10}, net.output(Nd4j.rand(2, 784)).shape());
        ClassicalMomentum updater = (ClassicalMomentum) net.getLayer(0).conf().getLayer().getUpdaterByParam("W");
        assertEquals(0.01, updater.getLearningRate(0, 0), 0);
        assertEquals(0.9, updater.getMomentum(), 0);
        Nesterovs job = (Nesterovs) Models.network(ModelOptions.jobDefaults(Architecture.LENET)).getLayer(0).conf()
            .getLayer().getUpdaterByParam("W");
        assertEquals(ModelOptions.LENET_JOB_LEARNING_RATE, job.getLearningRate(0, 0), 0);
        // the job's schedule: 0.03 for three epochs, then x0.25 before the 4th and the 5th (epochs 0-based)
        double[] rates = {0.03, 0.03, 0.03, 0.0075, 0.001875};
        for (int epoch = 0; epoch < rates.length; epoch++) {
            assertEquals(rates[epoch], job.getLearningRate(0, epoch), 1e-12, "epoch " + epoch);
        }
    }

    @Test
    void paddedLenetTakesLeCunsThirtyTwoByThirtyTwoInput() {
        ModelOptions job = ModelOptions.jobDefaults(Architecture.LENET);
        assertEquals(2, job.inputPadding());
        MultiLayerNetwork net = Models.network(job);
        assertEquals(61_706, net.numParams());
        assertArrayEquals(new long[] {6, 1, 5, 5}, net.getParam("0_W").shape());
        assertArrayEquals(new long[] {400, 120}, net.getParam("4_W").shape(), "16x5x5 features reach the dense layer");
        var activations = net.feedForward(Nd4j.rand(2, 784), false);
        assertArrayEquals(new long[] {2, 6, 28, 28}, activations.get(1).shape(), "a 28x28 map per filter, as on 32x32");
        assertArrayEquals(new long[] {2, 16, 5, 5}, activations.get(4).shape());
        // the zeros added around the digit: a filter centred on the corner pixel sees only its lower-right 3x3 part
        INDArray oneCornerPixel = Nd4j.zeros(1, 784);
        oneCornerPixel.putScalar(0, 0, 1.0);
        INDArray w = net.getParam("0_W");
        INDArray b = net.getParam("0_b");
        INDArray conv = net.feedForward(oneCornerPixel, false).get(1);
        assertEquals(Math.max(0, w.getDouble(0, 0, 2, 2) + b.getDouble(0, 0)), conv.getDouble(0, 0, 0, 0), 1e-6,
            "output (0,0) = relu(w[2][2] * pixel(0,0) + b): two zero rows and columns lie before the digit");
        var l2 = (org.nd4j.linalg.learning.regularization.L2Regularization) net.getLayerWiseConfigurations()
            .getConf(4).getLayer().getRegularizationByParam("W").get(0);
        assertEquals(ModelOptions.LENET_JOB_L2, l2.getL2().valueAt(0, 0), 0);
        assertEquals("--input-padding (2) applies to lenet only: the mlp has no convolution",
            assertThrows(IllegalArgumentException.class, () -> ModelOptions.mlp().withInputPadding(2)).getMessage());
        assertEquals("--input-padding (6) must be in [0, 5]",
            assertThrows(IllegalArgumentException.class, () -> job.withInputPadding(6)).getMessage());
    }

    @Test
    void optionsReachTheLayers() {
        ModelOptions o = new ModelOptions(Architecture.MLP, HiddenActivation.TANH, Init.RELU, Loss.MSE,
            Optimizer.SGD, 0.5, 0.9, LrSchedule.NONE, 1e-4, 0.25, 0, 0, 7);
        MultiLayerNetwork net = Models.network(o);
        DenseLayer dense = (DenseLayer) net.getLayerWiseConfigurations().getConf(0).getLayer();
        assertInstanceOf(ActivationTanH.class, dense.getActivationFn());
        assertInstanceOf(WeightInitRelu.class, dense.getWeightInitFn());
        assertEquals(0.75, ((org.deeplearning4j.nn.conf.dropout.Dropout) dense.getIDropout()).getP(), 1e-12,
            "DL4J takes the retain probability: 1 - dropout");
        Sgd sgd = (Sgd) dense.getIUpdater();
        assertEquals(0.5, sgd.getLearningRate(), 0);
        OutputLayer out = (OutputLayer) net.getLayerWiseConfigurations().getConf(2).getLayer();
        assertEquals("LossMSE()", out.getLossFn().toString());
    }

    @Test
    void sameSeedSameWeights() {
        INDArray a = Models.network(ModelOptions.lenet()).params();
        INDArray b = Models.network(ModelOptions.lenet()).params();
        INDArray c = Models.network(ModelOptions.lenet().withSeed(43)).params();
        assertEquals(a, b);
        assertEquals(false, a.equals(c));
    }

    @Test
    void schedulesFollowPytorchSemantics() {
        LrSchedule step = new LrSchedule(LrSchedule.Kind.STEP, 0.1, 2, null);
        assertEquals(0.1, step.rateAt(0.1, 0), 1e-12);
        assertEquals(0.1, step.rateAt(0.1, 1), 1e-12);
        assertEquals(0.01, step.rateAt(0.1, 2), 1e-12);
        assertEquals(0.001, step.rateAt(0.1, 4), 1e-12);
        LrSchedule multi = new LrSchedule(LrSchedule.Kind.MULTISTEP, 0.5, 1, new int[] {2, 4});
        assertEquals(1.0, multi.rateAt(1.0, 1), 1e-12);
        assertEquals(0.5, multi.rateAt(1.0, 2), 1e-12);
        assertEquals(0.5, multi.rateAt(1.0, 3), 1e-12);
        assertEquals(0.25, multi.rateAt(1.0, 4), 1e-12);
        LrSchedule exp = new LrSchedule(LrSchedule.Kind.EXPONENTIAL, 0.9, 1, null);
        assertEquals(0.81, exp.rateAt(1.0, 2), 1e-12);
        ModelOptions scheduled = ModelOptions.lenet().withSchedule(step);
        assertEquals(0.001, Models.updater(scheduled).getLearningRate(3, 2), 1e-9, "lr 0.01 decays by 0.1 at epoch 2");
        Nesterovs n = (Nesterovs) Models.updater(scheduled.withOptimizer(Optimizer.NESTEROV, 0.01));
        assertEquals(0.001, n.getLearningRate(3, 2), 1e-9);
    }

    @Test
    void invalidOptionsAreRefusedWithExactMessages() {
        assertEquals("--learning-rate (0.0) must be > 0", assertThrows(IllegalArgumentException.class,
            () -> ModelOptions.mlp().withOptimizer(Optimizer.ADAM, 0)).getMessage());
        assertEquals("--learning-rate (NaN) must be > 0", assertThrows(IllegalArgumentException.class,
            () -> ModelOptions.mlp().withOptimizer(Optimizer.ADAM, Double.NaN)).getMessage());
        assertEquals("--dropout (1.0) must be in [0, 1)", assertThrows(IllegalArgumentException.class,
            () -> new ModelOptions(Architecture.MLP, HiddenActivation.RELU, Init.XAVIER, Loss.MCXENT,
                Optimizer.ADAM, 1e-3, 0.9, LrSchedule.NONE, 0, 1.0, 0, 0, 1)).getMessage());
        assertEquals("--momentum (1.0) must be in [0, 1)", assertThrows(IllegalArgumentException.class,
            () -> new ModelOptions(Architecture.MLP, HiddenActivation.RELU, Init.XAVIER, Loss.MCXENT,
                Optimizer.ADAM, 1e-3, 1.0, LrSchedule.NONE, 0, 0, 0, 0, 1)).getMessage());
        assertEquals("--l2 (-1.0) must be >= 0", assertThrows(IllegalArgumentException.class,
            () -> new ModelOptions(Architecture.MLP, HiddenActivation.RELU, Init.XAVIER, Loss.MCXENT,
                Optimizer.ADAM, 1e-3, 0.9, LrSchedule.NONE, -1, 0, 0, 0, 1)).getMessage());
        assertEquals("--lr-gamma (0.0) must be in (0, 1]", assertThrows(IllegalArgumentException.class,
            () -> new LrSchedule(LrSchedule.Kind.STEP, 0, 1, null)).getMessage());
        assertEquals("--lr-step-epochs (0) must be > 0", assertThrows(IllegalArgumentException.class,
            () -> new LrSchedule(LrSchedule.Kind.STEP, 0.5, 0, null)).getMessage());
        assertEquals("--lr-milestones ([3, 2]) must be ascending epochs > 0",
            assertThrows(IllegalArgumentException.class,
                () -> new LrSchedule(LrSchedule.Kind.MULTISTEP, 0.5, 1, new int[] {3, 2})).getMessage());
        assertEquals("--weight-init (glorious) must be one of xavier, relu (he, kaiming)",
            assertThrows(IllegalArgumentException.class, () -> Init.parse("glorious")).getMessage());
        assertEquals("--updater (rmsprop) must be one of sgd, momentum (classical), nesterov, adam",
            assertThrows(IllegalArgumentException.class, () -> Optimizer.parse("rmsprop")).getMessage());
    }

    @Test
    void aliasesParse() {
        assertEquals(Init.RELU, Init.parse("He"));
        assertEquals(Init.RELU, Init.parse("kaiming"));
        assertEquals(Init.XAVIER, Init.parse("xavier"));
        assertEquals(Optimizer.MOMENTUM, Optimizer.parse("momentum"));
        assertEquals(Optimizer.NESTEROV, Optimizer.parse("Nesterov"));
        assertEquals(WeightInit.RELU, Init.RELU.dl4j());
    }

    @Test
    void sigmoidAndLeakyReluReachEveryHiddenLayer() {
        for (Architecture a : Architecture.values()) {
            ModelOptions base = a == Architecture.MLP ? ModelOptions.mlp() : ModelOptions.lenet();
            for (HiddenActivation act : java.util.List.of(HiddenActivation.SIGMOID, HiddenActivation.LEAKYRELU)) {
                ModelOptions o = new ModelOptions(a, act, base.weightInit(), base.loss(), base.optimizer(),
                    base.learningRate(), base.momentum(), base.schedule(), 0, 0, 0, 0, base.seed());
                MultiLayerNetwork net = Models.network(o);
                int hidden = 0;
                for (var conf : net.getLayerWiseConfigurations().getConfs()) {
                    if (conf.getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseLayer layer
                        && !(layer instanceof OutputLayer)) {
                        Class<?> expected = act == HiddenActivation.SIGMOID
                            ? org.nd4j.linalg.activations.impl.ActivationSigmoid.class
                            : org.nd4j.linalg.activations.impl.ActivationLReLU.class;
                        assertInstanceOf(expected, layer.getActivationFn(), a + " layer " + layer.getLayerName());
                        hidden++;
                    }
                }
                assertEquals(a == Architecture.MLP ? 2 : 4, hidden, "hidden layers with weights");
                // and the activation really computes: sigmoid outputs of the first layer lie in (0, 1)
                INDArray first = net.feedForwardToLayer(0, Nd4j.rand(2, 784).subi(0.5).muli(8), false).get(1);
                if (act == HiddenActivation.SIGMOID) {
                    org.junit.jupiter.api.Assertions.assertTrue(first.minNumber().doubleValue() > 0
                        && first.maxNumber().doubleValue() < 1);
                } else {
                    org.junit.jupiter.api.Assertions.assertTrue(first.minNumber().doubleValue() < 0,
                        "leaky ReLU lets negatives through");
                }
            }
        }
    }
}
