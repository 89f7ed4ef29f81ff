package dev.sparkmnist.models;

import static dev.sparkmnist.models.LayerComparisons.batch;
import static dev.sparkmnist.models.LayerComparisons.gradientDifference;
import static dev.sparkmnist.models.LayerComparisons.maxRelativeDifference;
import static dev.sparkmnist.models.LayerComparisons.plain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.runtime.Nd4jRuntime;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The convolution layers {@link Models#forTraining} installs, on the path real runs take: with DL4J's oneDNN helpers,
 * which need this module's workarounds ({@link Nd4jRuntime#enableHelpers} and the {@code Nd4jCpu} shim), so the
 * models module's own tests (which lack them) cover only the helper-less fallback.
 */
class OneDnnLayersTest {
    @BeforeAll
    static void helpers() {
        Nd4jRuntime.enableHelpers();
    }

    @Test
    void lenetTrainsAsDl4jsOwnLayersDoWithOneDnn() {
        for (ModelOptions o : new ModelOptions[] {ModelOptions.lenet(), ModelOptions.jobDefaults(Architecture.LENET)}) {
            MultiLayerNetwork reference = plain(o);
            MultiLayerNetwork fast = Models.network(o);
            assertInstanceOf(MKLDNNConvHelper.class, ((TrainingConvolutionLayer) fast.getLayer(2)).getHelper(),
                "oneDNN's helper, as in real runs");
            double g = gradientDifference(reference, fast, batch(16, 1));
            assertTrue(g < 1e-4, o + ": gradients differ by " + g);
            for (int step = 0; step < 20; step++) {
                DataSet d = batch(16, 100 + step);
                reference.fit(d);
                fast.fit(d);
            }
            double p = maxRelativeDifference(reference.params(), fast.params());
            assertTrue(p < 1e-4, o + ": parameters after 20 steps differ by " + p);
            assertEquals(reference.score(), fast.score(), 1e-4);
        }
    }

    /**
     * A ReLU convolution keeps its output, not a copy of its pre-activation, for the backward pass, which then gives
     * DL4J's input gradient; an inference pass keeps nothing.
     */
    @Test
    void convolutionsKeepTheirOutputForTheBackwardPass() {
        MultiLayerNetwork[] nets = {plain(ModelOptions.lenet()), Models.network(ModelOptions.lenet())};
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        INDArray x = batch(4, 11).getFeatures().reshape(4, 1, 28, 28);
        INDArray eps = Nd4j.rand(DataType.FLOAT, 4, 16, 8, 8).subi(0.5);
        INDArray[] inputGradient = new INDArray[2];
        for (int n = 0; n < 2; n++) {
            nets[n].initGradientsView();
            org.deeplearning4j.nn.api.Layer conv = nets[n].getLayer(2);
            INDArray in = nets[n].getLayer(1).activate(nets[n].getLayer(0).activate(x, true, ws), true, ws);
            INDArray out = conv.activate(in, true, ws);
            if (n == 1) {
                assertSame(out, ((TrainingConvolutionLayer) conv).keptOutput(), "the output is kept");
            }
            inputGradient[n] = conv.backpropGradient(eps.dup(), ws).getSecond().dup();
        }
        assertNotNull(inputGradient[1]);
        double d = maxRelativeDifference(inputGradient[0], inputGradient[1]);
        assertTrue(d < 1e-4, "input gradients differ by " + d);
        TrainingConvolutionLayer conv = (TrainingConvolutionLayer) nets[1].getLayer(2);
        conv.activate(Nd4j.rand(DataType.FLOAT, 4, 6, 12, 12), false, ws);
        assertNull(conv.keptOutput(), "inference keeps nothing");
    }
}
