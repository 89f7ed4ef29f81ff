package dev.sparkmnist.models;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A tiny fixed batch a network should learn to fit: random 784-pixel rows, one-hot labels cycling through 0..9. */
final class Memorise {
    private Memorise() {
    }

    /** The training loss after one step and after {@code steps} more on the same batch of {@code n} examples. */
    static double[] lossBeforeAndAfter(MultiLayerNetwork net, int n, int steps) {
        INDArray x = Nd4j.rand(n, 784);
        INDArray y = Nd4j.zeros(n, 10);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 10, 1);
        }
        net.fit(x, y);
        double first = net.score();
        for (int i = 0; i < steps; i++) {
            net.fit(x, y);
        }
        return new double[] {first, net.score()};
    }
}
