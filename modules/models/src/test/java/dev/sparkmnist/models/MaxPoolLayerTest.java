package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The plain max-pooling backward pass routes every gradient where DL4J's (oneDNN's) does, ties included; the 2x2
 * windows both as scalar loops and as vector code ({@link Pool2x2Kernel}), whatever this machine runs by default.
 */
class MaxPoolLayerTest {
    private static INDArray values(long[] shape, int levels, long seed) {
        Random r = new Random(seed);
        int n = (int) (shape[0] * shape[1] * shape[2] * shape[3]);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) { // few distinct values: most windows hold ties (as ReLU's zeros do)
            v[i] = levels > 0 ? r.nextInt(levels) : (float) r.nextGaussian();
            if (v[i] == 0 && r.nextBoolean()) {
                v[i] = -0f; // equal to +0: the first of them is the window's largest
            }
        }
        return Nd4j.create(v, shape, 'c');
    }

    /** DL4J's layer object for a max pooling of this kernel and stride on [2, 3, h, w] inputs. */
    private static Layer dl4j(int kernel, int stride) {
        NeuralNetConfiguration conf = new NeuralNetConfiguration.Builder()
            .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(kernel, kernel).stride(stride, stride)
                .build())
            .build();
        return conf.getLayer().instantiate(conf, null, 0, null, false, DataType.FLOAT);
    }

    /** Our layer; with {@code vector}, the kernels run whether or not their warm-up has seen them compiled. */
    private static MaxPoolLayer ours(Layer reference, boolean vector) {
        MaxPoolLayer layer = new MaxPoolLayer(reference.conf(), DataType.FLOAT);
        layer.vector = vector;
        layer.evenCold = vector;
        return layer;
    }

    @ParameterizedTest(name = "vector code {0}")
    @ValueSource(booleans = {false, true})
    void gradientsGoWhereDl4jSendsThem(boolean vector) {
        // kernel, stride, h, w; rows of 8 inputs a vector step: 28 and 10 leave windows to the scalar loop, 6 all of them
        int[][] shapes = {{2, 2, 24, 24}, {2, 2, 7, 9}, {2, 2, 28, 10}, {2, 2, 6, 6}, {2, 2, 9, 19}, {2, 3, 3, 2},
            {3, 3, 8, 8}, {3, 2, 7, 9}};
        for (int[] s : shapes) {
            for (int levels : new int[] {2, 3, 0}) {
                Layer reference = dl4j(s[0], s[1]);
                MaxPoolLayer layer = ours(reference, vector);
                long[] shape = {4, 6, s[2], s[3]};
                INDArray input = values(shape, levels, s[2] * 31L + levels);
                int outH = (s[2] - s[0]) / s[1] + 1;
                int outW = (s[3] - s[0]) / s[1] + 1;
                INDArray eps = values(new long[] {4, 6, outH, outW}, 0, 7);
                reference.setInput(input, LayerWorkspaceMgr.noWorkspaces());
                layer.setInput(input, LayerWorkspaceMgr.noWorkspaces());
                INDArray expected = reference.backpropGradient(eps, LayerWorkspaceMgr.noWorkspaces()).getSecond();
                INDArray actual = layer.backpropGradient(eps, LayerWorkspaceMgr.noWorkspaces()).getSecond();
                assertEquals(expected, actual, "kernel " + s[0] + " stride " + s[1] + " " + s[2] + "x" + s[3]
                    + ", " + levels + " levels");
                assertTrue(actual.amaxNumber().doubleValue() > 0, "a gradient was routed");
            }
        }
    }

    /**
     * LeNet's 2x2 pooling runs its forward pass in Java, noting each window's maximum: the output is DL4J's, and the
     * backward pass after it routes every gradient where DL4J's does, ties and signed zeros included; odd sides and
     * other windows keep DL4J's forward pass.
     */
    @ParameterizedTest(name = "vector code {0}")
    @ValueSource(booleans = {false, true})
    void theJavaForwardPassGivesDl4jsOutputAndGradients(boolean vector) {
        int[][] shapes = {{2, 2, 24, 24}, {2, 2, 8, 8}, {2, 2, 7, 9}, {2, 2, 28, 28}, {2, 2, 10, 14}, {2, 2, 6, 6},
            {3, 3, 8, 8}}; // kernel, stride, h, w
        for (int[] s : shapes) {
            for (int levels : new int[] {2, 3, 0}) {
                Layer reference = dl4j(s[0], s[1]);
                MaxPoolLayer layer = ours(reference, vector);
                INDArray input = values(new long[] {4, 6, s[2], s[3]}, levels, s[3] * 17L + levels);
                LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
                INDArray expectedOut = reference.activate(input, true, ws);
                INDArray actualOut = layer.activate(input, true, ws);
                String what = "kernel " + s[0] + " stride " + s[1] + " " + s[2] + "x" + s[3] + ", " + levels + " levels";
                assertEquals(expectedOut, actualOut, what + ": output");
                INDArray eps = values(expectedOut.shape(), 0, 9);
                INDArray expected = reference.backpropGradient(eps, ws).getSecond();
                INDArray actual = layer.backpropGradient(eps, ws).getSecond();
                assertEquals(expected, actual, what + ": gradient");
                // bit for bit: a window's gradient goes to exactly one input
                assertEquals(java.util.Arrays.toString(expected.ravel().toFloatVector()),
                    java.util.Arrays.toString(actual.ravel().toFloatVector()), what);
            }
        }
        // the same layer object on a smaller batch, and an inference pass that notes nothing for a later backward
        Layer reference = dl4j(2, 2);
        MaxPoolLayer layer = ours(reference, vector);
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        layer.activate(values(new long[] {4, 6, 24, 24}, 3, 1), true, ws);
        INDArray small = values(new long[] {2, 6, 24, 24}, 3, 2);
        assertEquals(reference.activate(small, false, ws), layer.activate(small, false, ws));
        INDArray eps = values(new long[] {2, 6, 12, 12}, 0, 3);
        reference.setInput(small, ws);
        assertEquals(reference.backpropGradient(eps, ws).getSecond(), layer.backpropGradient(eps, ws).getSecond(),
            "after an inference pass the backward pass finds the maxima itself");
    }

    @ParameterizedTest(name = "vector code {0}")
    @ValueSource(booleans = {false, true})
    void viewsAndReusedBuffersGiveTheSameGradient(boolean vector) {
        Layer reference = dl4j(2, 2);
        MaxPoolLayer layer = ours(reference, vector);
        INDArray input = values(new long[] {4, 6, 24, 24}, 3, 5);
        INDArray eps = values(new long[] {4, 6, 12, 12}, 0, 6);
        reference.setInput(input, LayerWorkspaceMgr.noWorkspaces());
        INDArray expected = reference.backpropGradient(eps, LayerWorkspaceMgr.noWorkspaces()).getSecond();
        // the same values as an 'f'-ordered copy and as a view into a larger array
        INDArray fInput = input.dup('f');
        INDArray big = Nd4j.create(DataType.FLOAT, 5, 6, 12, 12);
        INDArray epsView = big.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 5));
        epsView.assign(eps);
        layer.setInput(fInput, LayerWorkspaceMgr.noWorkspaces());
        assertEquals(expected, layer.backpropGradient(epsView, LayerWorkspaceMgr.noWorkspaces()).getSecond());
        // both as views into larger arrays, read and written in place (the input's offset is not the gradient's)
        INDArray bigInput = Nd4j.create(DataType.FLOAT, 6, 6, 24, 24);
        INDArray inputView = bigInput.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 6));
        inputView.assign(input);
        layer.setInput(inputView, LayerWorkspaceMgr.noWorkspaces());
        assertEquals(expected, layer.backpropGradient(epsView, LayerWorkspaceMgr.noWorkspaces()).getSecond());
        // a smaller batch after a larger one (the reused buffers hold stale values past its end)
        INDArray small = input.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)).dup();
        reference.setInput(small, LayerWorkspaceMgr.noWorkspaces());
        layer.setInput(small, LayerWorkspaceMgr.noWorkspaces());
        INDArray smallEps = eps.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)).dup();
        assertEquals(reference.backpropGradient(smallEps, LayerWorkspaceMgr.noWorkspaces()).getSecond(),
            layer.backpropGradient(smallEps, LayerWorkspaceMgr.noWorkspaces()).getSecond());
    }

    /**
     * The kernels take over from the scalar loops while a network trains (when their warm-up has seen them compiled):
     * a forward pass of either kind feeds a backward pass of the other with DL4J's gradients, bit for bit.
     */
    @ParameterizedTest(name = "vector code forward {0}")
    @ValueSource(booleans = {false, true})
    void aForwardPassOfOneKindFeedsABackwardPassOfTheOther(boolean vectorForward) {
        for (int[] hw : new int[][] {{24, 24}, {8, 8}, {10, 14}}) {
            for (int levels : new int[] {2, 3, 0}) {
                Layer reference = dl4j(2, 2);
                MaxPoolLayer layer = ours(reference, vectorForward);
                INDArray input = values(new long[] {4, 6, hw[0], hw[1]}, levels, hw[1] * 13L + levels);
                LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
                INDArray expectedOut = reference.activate(input, true, ws);
                String what = hw[0] + "x" + hw[1] + ", " + levels + " levels";
                assertEquals(expectedOut, layer.activate(input, true, ws), what + ": output");
                layer.vector = !vectorForward;
                layer.evenCold = !vectorForward;
                INDArray eps = values(expectedOut.shape(), 0, 11);
                assertEquals(java.util.Arrays.toString(reference.backpropGradient(eps, ws).getSecond().ravel()
                        .toFloatVector()),
                    java.util.Arrays.toString(layer.backpropGradient(eps, ws).getSecond().ravel().toFloatVector()),
                    what + ": gradient");
            }
        }
    }

    /**
     * Where the kernels may run (AVX2 or AVX-512, the Vector API's module), their warm-up sees them compiled within
     * 90 s, and a layer as training builds it then pools with them (it no longer fills the scalar loops' buffers);
     * elsewhere such a layer pools with the scalar loops. DL4J's output either way.
     */
    @Test
    void theKernelsRunOnceTheirWarmUpHasSeenThemCompiled() throws InterruptedException {
        Layer reference = dl4j(2, 2);
        MaxPoolLayer layer = new MaxPoolLayer(reference.conf(), DataType.FLOAT);
        assertFalse(layer.evenCold, "a training network's layer waits for the compiled kernels");
        if (MaxPoolLayer.VECTOR) {
            MaxPoolLayer.warmUp();
            long deadline = System.nanoTime() + 90_000_000_000L;
            while (!Pool2x2Kernel.ready() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Pool2x2Kernel.ready(), "the pooling kernels are compiled within 90 s");
        }
        INDArray input = values(new long[] {4, 6, 24, 24}, 3, 17);
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        assertEquals(reference.activate(input, true, ws), layer.activate(input, true, ws));
        assertEquals(!MaxPoolLayer.VECTOR, layer.scalarBuffersUsed(),
            MaxPoolLayer.VECTOR ? "the compiled kernels pooled" : "the scalar loops pooled");
    }

    @Test
    void lenetTrainsWithThePlainPoolingAndSavesDl4jsLayers() throws Exception {
        MultiLayerNetwork net = Models.network(ModelOptions.lenet());
        assertInstanceOf(MaxPoolLayer.class, net.getLayer(1));
        assertInstanceOf(MaxPoolLayer.class, net.getLayer(3));
        java.io.File f = java.io.File.createTempFile("lenet", ".zip");
        try {
            org.deeplearning4j.util.ModelSerializer.writeModel(net, f, true);
            MultiLayerNetwork loaded = org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(f, true);
            assertEquals(org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer.class,
                loaded.getLayer(1).getClass(), "model.zip holds DL4J's ordinary layer");
        } finally {
            f.delete();
        }
    }
}
