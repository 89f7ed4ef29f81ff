package dev.sparkmnist.models;

import static dev.sparkmnist.models.LayerComparisons.batch;
import static dev.sparkmnist.models.LayerComparisons.gradientDifference;
import static dev.sparkmnist.models.LayerComparisons.maxRelativeDifference;
import static dev.sparkmnist.models.LayerComparisons.plain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** The layers {@link Models#forTraining} installs train exactly as DL4J's layers do, up to float rounding. */
class TrainingLayersTest {
    @Test
    void gradientsAndTrainingEqualDl4jsLayer() {
        for (ModelOptions o : new ModelOptions[] {ModelOptions.lenet(), ModelOptions.jobDefaults(Architecture.LENET),
            ModelOptions.mlp().withOptimizer(Optimizer.SGD, 0.1), ModelOptions.mlp()}) {
            MultiLayerNetwork reference = plain(o);
            MultiLayerNetwork fast = Models.network(o);
            if (o.architecture() == Architecture.LENET) {
                assertInstanceOf(InputConvolutionLayer.class, fast.getLayer(0));
                assertEquals(TrainingConvolutionLayer.class, fast.getLayer(2).getClass());
                assertEquals(TrainingDenseLayer.class, fast.getLayer(4).getClass());
            } else {
                assertEquals(TrainingDenseLayer.class, fast.getLayer(0).getClass());
            }
            assertEquals(TrainingOutputLayer.class, fast.getOutputLayer().getClass());
            assertEquals(reference.params(), fast.params(), "same seed, same start");
            double g = gradientDifference(reference, fast, batch(16, 1));
            assertTrue(g < 1e-4, "gradients differ: " + g);
            assertTrue(reference.getGradientsViewArray().getColumns(0, 1, 2).sumNumber().doubleValue() != 0,
                "the first layer's weights have a gradient");
            long products = HostBlas.PRODUCTS.sum();
            for (int step = 0; step < 20; step++) { // the updater's state (momentum, Nesterov) included
                DataSet d = batch(16, 100 + step);
                reference.fit(d);
                fast.fit(d);
            }
            // the products of the dense and output layers ran as OpenBLAS calls: forward, weight and input gradient
            // for each (LeNet-5: 3 layers), the first layer without the input gradient (the MLP: 2 + 3 + 3)
            assertEquals(20L * (o.architecture() == Architecture.LENET ? 9 : 8), HostBlas.PRODUCTS.sum() - products,
                "products through OpenBLAS in 20 steps");
            // Adam divides each update by the root of its second moment, so where a gradient is nearly zero it
            // magnifies float rounding: with AVX2's OpenBLAS kernels (an AMD EPYC) the MLP's parameters ended 1.4e-4
            // apart after 20 steps, under 1e-4 with AVX-512's (a Xeon). A wrong product is orders of magnitude beyond
            // either, and the first step's gradients above are held to 1e-4 everywhere.
            double tolerance = o.optimizer() == Optimizer.ADAM ? 1e-3 : 1e-4;
            double diff = maxRelativeDifference(reference.params(), fast.params());
            assertTrue(diff < tolerance, o + ": parameters after 20 steps differ by " + diff);
            assertNotEquals(plain(o).params(), fast.params(), "training moved the weights");
            assertEquals(reference.score(), fast.score(), 1e-4);
            assertEquals(reference.calcRegularizationScore(true), Models.scorePenalty(fast), 1e-3,
                "the penalty in the last score (before the last update; tiny steps apart)");
            assertTrue(Double.isNaN(Models.scorePenalty(reference)), "DL4J's own network does not keep it");
        }
    }

    /** The MLP's first layer skips its input's gradient (null: none), the second computes DL4J's. */
    @Test
    void onlyTheFirstDenseLayerSkipsItsInputGradient() {
        DataSet d = batch(16, 7);
        INDArray outputGradient = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 16, 128);
        INDArray[][] eps = new INDArray[2][]; // [plain, fast][layer]
        MultiLayerNetwork[] nets = {plain(ModelOptions.mlp()), Models.network(ModelOptions.mlp())};
        for (int n = 0; n < 2; n++) {
            nets[n].initGradientsView();
            var ws = org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces();
            INDArray out0 = nets[n].getLayer(0).activate(d.getFeatures(), true, ws); // a training forward pass
            nets[n].getLayer(1).activate(out0, true, ws);
            INDArray e1 = nets[n].getLayer(1).backpropGradient(outputGradient.dup(), ws).getSecond().dup();
            INDArray e0 = nets[n].getLayer(0).backpropGradient(e1.dup(), ws).getSecond();
            eps[n] = new INDArray[] {e0, e1};
        }
        assertTrue(maxRelativeDifference(eps[0][1], eps[1][1]) < 1e-5, "layer 1's input gradient is DL4J's");
        assertNotEquals(0.0, eps[0][0].amaxNumber().doubleValue(), "DL4J computes the pictures' gradient");
        assertNull(eps[1][0], "layer 0 hands back no input gradient");
    }

    /** Behind an input preprocessor (which reads the input gradient) a first dense layer hands back zeros. */
    @Test
    void aFirstDenseLayerBehindAPreprocessorHandsBackZeros() {
        MultiLayerNetwork net = new MultiLayerNetwork(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
            .seed(3).list()
            .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(8)
                .activation(org.nd4j.linalg.activations.Activation.RELU).build())
            .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nOut(10)
                .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
            .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(4, 4, 1)).build());
        net.init();
        Models.forTraining(net);
        assertEquals(TrainingDenseLayer.class, net.getLayer(0).getClass());
        INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 3, 1, 4, 4);
        INDArray y = Nd4j.eye(10).getRows(1, 4, 7);
        INDArray before = net.params().dup();
        net.fit(x, y); // the preprocessor reshapes the first layer's input gradient: null would fail here
        assertNotEquals(before, net.params());
        var ws = org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces();
        INDArray flat = x.reshape(3, 16);
        net.getLayer(0).activate(flat, true, ws);
        INDArray e0 = net.getLayer(0).backpropGradient(Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 3, 8),
            ws).getSecond();
        assertEquals(0.0, e0.amaxNumber().doubleValue(), "zeros");
        assertArrayEquals(new long[] {3, 16}, e0.shape());
    }

    @Test
    void savedModelsStayDl4jsAndTheSwapIsIdempotent() throws Exception {
        MultiLayerNetwork fast = Models.network(ModelOptions.lenet());
        fast.fit(batch(8, 3));
        assertSame(fast.getLayer(0), Models.forTraining(fast).getLayer(0), "a second call changes nothing");
        java.io.File f = java.io.File.createTempFile("lenet", ".zip");
        try {
            ModelSerializer.writeModel(fast, f, true);
            MultiLayerNetwork loaded = ModelSerializer.restoreMultiLayerNetwork(f, true);
            assertEquals(org.deeplearning4j.nn.layers.convolution.ConvolutionLayer.class, loaded.getLayer(0).getClass(),
                "model.zip holds DL4J's ordinary layer");
            assertEquals(fast.params(), loaded.params());
            assertEquals(fast.getUpdater().getStateViewArray(), loaded.getUpdater().getStateViewArray());
        } finally {
            f.delete();
        }
        MultiLayerNetwork mlp = Models.network(ModelOptions.mlp());
        mlp.fit(batch(8, 4));
        java.io.File m = java.io.File.createTempFile("mlp", ".zip");
        try {
            ModelSerializer.writeModel(mlp, m, true);
            assertEquals(org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class,
                ModelSerializer.restoreMultiLayerNetwork(m, true).getLayer(0).getClass(),
                "model.zip holds DL4J's ordinary dense layer");
        } finally {
            m.delete();
        }
    }

    @Test
    void forInferenceInfersAsTheTrainingNetworkDoesWithoutItsTrainingSetUp() {
        for (ModelOptions o : new ModelOptions[] {ModelOptions.lenet(), ModelOptions.mlp()}) {
            MultiLayerNetwork trained = Models.network(o);
            for (int step = 0; step < 3; step++) {
                trained.fit(batch(16, 200 + step));
            }
            MultiLayerNetwork restored = new MultiLayerNetwork(Models.configuration(o));
            restored.init(trained.params().dup(), false);
            MultiLayerNetwork reference = new MultiLayerNetwork(Models.configuration(o));
            reference.init(trained.params().dup(), false);
            assertSame(restored, Models.forInference(restored));
            for (int i = 0; i < restored.getLayers().length; i++) {
                assertEquals(trained.getLayer(i).getClass(), restored.getLayer(i).getClass(), o + ": layer " + i);
            }
            org.deeplearning4j.nn.api.Layer first = restored.getLayer(0);
            assertSame(first, Models.forInference(restored).getLayer(0), "a second call changes nothing");
            assertTrue(restored.getListeners() == null || restored.getListeners().isEmpty(), "no training listeners");
            INDArray x = batch(40, 300).getFeatures();
            INDArray out = restored.output(x, false);
            assertEquals(trained.output(x, false), out, o + ": the training network's outputs, exactly");
            double diff = maxRelativeDifference(reference.output(x, false), out);
            assertTrue(diff < 1e-4, o + ": DL4J's own layers give the same outputs up to rounding: " + diff);
        }
    }
}
