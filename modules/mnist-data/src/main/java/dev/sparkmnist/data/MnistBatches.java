package dev.sparkmnist.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns a list of example indices into mini-batch {@link DataSet}s: features {@code [n, rows*cols]} normalised,
 * labels one-hot {@code [n, 10]}. Used both inside Spark partitions and by the single-JVM baseline.
 */
public final class MnistBatches {
    private MnistBatches() {
    }

    /**
     * Reads the examples at {@code indices} (any order, no duplicates) and batches them in that order into
     * DataSets of exactly {@code batchSize} examples, except a smaller last one.
     */
    public static List<DataSet> read(MnistSet set, int[] indices, int batchSize, Normalization normalization,
                                     Configuration conf) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size (" + batchSize + ") must be > 0");
        }
        // Read in file order (sequential I/O), then put back in the requested order.
        long[] sorted = new long[indices.length];
        for (int i = 0; i < indices.length; i++) {
            sorted[i] = indices[i];
        }
        Arrays.sort(sorted);
        byte[][] pixels = IdxReader.readRecords(set.imagesPath(), set.imagesHeader(), sorted, conf);
        byte[][] labels = IdxReader.readRecords(set.labelsPath(), set.labelsHeader(), sorted, conf);

        List<DataSet> batches = new ArrayList<>((indices.length + batchSize - 1) / batchSize);
        int width = set.pixels();
        for (int from = 0; from < indices.length; from += batchSize) {
            int n = Math.min(batchSize, indices.length - from);
            float[] features = new float[n * width];
            float[] oneHot = new float[n * MnistSet.NUM_CLASSES];
            for (int r = 0; r < n; r++) {
                int at = Arrays.binarySearch(sorted, indices[from + r]);
                byte[] image = pixels[at];
                for (int k = 0; k < width; k++) {
                    features[r * width + k] = normalization.apply(image[k]);
                }
                oneHot[r * MnistSet.NUM_CLASSES + (labels[at][0] & 0xFF)] = 1f;
            }
            batches.add(new DataSet(
                Nd4j.create(features, new long[] {n, width}, 'c'),
                Nd4j.create(oneHot, new long[] {n, MnistSet.NUM_CLASSES}, 'c')));
        }
        return batches;
    }

    /** Indices {@code start..end-1} of {@code order} (or the identity when {@code order} is null). */
    public static int[] positions(int[] order, int start, int end) {
        int[] out = new int[end - start];
        for (int i = start; i < end; i++) {
            out[i - start] = order == null ? i : order[i];
        }
        return out;
    }
}
