package dev.sparkmnist.models;

import java.util.Random;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Deterministic MNIST-shaped minibatches whose first 100 pixels are always black, as MNIST's border is: their
 * weights' gradients are zero, which is where an updater's state decays towards subnormal values.
 */
final class BlackBorderBatches {
    private BlackBorderBatches() {
    }

    /** {@code n} Gaussian pictures (pixels 0-99 black) with random one-hot labels, the same for the same seed. */
    static DataSet batch(int n, long seed) {
        return batch(n, seed, 100);
    }

    /**
     * {@code n} Gaussian pictures whose first {@code black} pixels are black (0: none) with random one-hot labels, the
     * same for the same seed and {@code black}.
     */
    static DataSet batch(int n, long seed, int black) {
        Random r = new Random(seed);
        float[] x = new float[n * 784];
        for (int i = 0; i < x.length; i++) {
            x[i] = i % 784 < black ? 0f : (float) r.nextGaussian();
        }
        float[] y = new float[n * 10];
        for (int i = 0; i < n; i++) {
            y[i * 10 + r.nextInt(10)] = 1f;
        }
        return new DataSet(Nd4j.create(x, new long[] {n, 784}), Nd4j.create(y, new long[] {n, 10}));
    }
}
