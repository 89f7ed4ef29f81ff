package dev.sparkmnist.report;

import dev.sparkmnist.data.IdxReader;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import org.apache.hadoop.conf.Configuration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Test-split digits for the report's pictures: raw pixels (for drawing) and labels.
 *
 * @param pixels one {@code rows*cols} unsigned-byte image per example
 * @param labels the class of each example
 * @param rows image height
 * @param cols image width
 */
public record TestDigits(byte[][] pixels, int[] labels, int rows, int cols) {

    /** Reads the first {@code limit} examples (0 = all) of a test split. */
    public static TestDigits read(MnistSet test, int limit, Configuration conf) {
        MnistSet set = test.limit(limit);
        long[] all = new long[set.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        byte[][] pixels = IdxReader.readRecords(set.imagesPath(), set.imagesHeader(), all, conf);
        byte[][] labelBytes = IdxReader.readRecords(set.labelsPath(), set.labelsHeader(), all, conf);
        int[] labels = new int[all.length];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = labelBytes[i][0] & 0xFF;
        }
        return new TestDigits(pixels, labels, set.imagesHeader().rows(), set.imagesHeader().cols());
    }

    /** Number of examples. */
    public int size() {
        return labels.length;
    }

    /** Examples {@code from..to-1} as the network's input {@code [n, rows*cols]}, normalised. */
    public INDArray features(int from, int to, Normalization normalization) {
        int width = rows * cols;
        float[] data = new float[(to - from) * width];
        for (int i = from; i < to; i++) {
            for (int k = 0; k < width; k++) {
                data[(i - from) * width + k] = normalization.apply(pixels[i][k]);
            }
        }
        return Nd4j.create(data, new long[] {to - from, width}, 'c');
    }
}
