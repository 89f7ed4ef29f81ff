package dev.sparkmnist.models;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * What the tests that hold the layers {@link Models#forTraining} installs against DL4J's own use: deterministic
 * minibatches, DL4J's network from the same configuration, and the measure of how far two arrays are apart. Shared
 * with the runtime module's tests (the models module's test jar), which train with oneDNN's helpers.
 */
final class LayerComparisons {
    private LayerComparisons() {
    }

    /** {@code n} Gaussian MNIST-shaped pictures with random one-hot labels, the same for the same seed. */
    static DataSet batch(int n, long seed) {
        return BlackBorderBatches.batch(n, seed, 0);
    }

    /** A plain DL4J network: the configuration's own layers, no swap. */
    static MultiLayerNetwork plain(ModelOptions o) {
        MultiLayerNetwork net = new MultiLayerNetwork(Models.configuration(o));
        net.init();
        return net;
    }

    /**
     * Both networks' gradients on {@code d} (DL4J's {@code computeGradientAndScore}, left in each network), and how far
     * {@code fast}'s are from {@code reference}'s ({@link #maxRelativeDifference}).
     */
    static double gradientDifference(MultiLayerNetwork reference, MultiLayerNetwork fast, DataSet d) {
        for (MultiLayerNetwork net : new MultiLayerNetwork[] {reference, fast}) {
            net.setInput(d.getFeatures());
            net.setLabels(d.getLabels());
            net.computeGradientAndScore();
        }
        return maxRelativeDifference(reference.gradient().gradient(), fast.gradient().gradient());
    }

    /** The largest difference of {@code b} from {@code a}, relative to {@code a}'s root mean square (at least 1e-3). */
    static double maxRelativeDifference(INDArray a, INDArray b) {
        double scale = Math.max(1e-3, a.norm2Number().doubleValue() / Math.sqrt(a.length()));
        return a.sub(b).amaxNumber().doubleValue() / scale;
    }
}
