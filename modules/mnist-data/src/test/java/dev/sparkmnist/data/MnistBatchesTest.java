package dev.sparkmnist.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkmnist.data.testing.TestData;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

class MnistBatchesTest {
    @TempDir
    Path dir;

    @Test
    void batchesFollowTheRequestedOrderWithExactValues() {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 12);
        MnistSet set = MnistSet.trainFrom(dir.toString(), new Configuration());
        List<DataSet> batches = MnistBatches.read(set, new int[] {11, 0, 5, 3, 7}, 2, Normalization.SCALE,
            new Configuration());
        assertEquals(3, batches.size());
        assertArrayEquals(new long[] {2, 4}, batches.get(0).getFeatures().shape());
        assertArrayEquals(new long[] {1, 4}, batches.get(2).getFeatures().shape());
        // example 11: pixels 44..47 scaled by 1/255; label 1
        assertArrayEquals(new float[] {44 / 255f, 45 / 255f, 46 / 255f, 47 / 255f},
            batches.get(0).getFeatures().getRow(0).toFloatVector(), 1e-7f);
        assertArrayEquals(new float[] {0, 1, 0, 0, 0, 0, 0, 0, 0, 0},
            batches.get(0).getLabels().getRow(0).toFloatVector());
        // example 7 (last, alone): label 7
        assertEquals(7, batches.get(2).getLabels().getRow(0).argMax().getInt(0));
    }

    @Test
    void ascendingEqualsASortForDenseStridedAndSparseShuffledIndices() {
        java.util.Random random = new java.util.Random(17);
        for (int trial = 0; trial < 300; trial++) {
            int n = random.nextInt(200);
            // dense (a shuffled range), strided (a chunk of a shuffled slice), or spread too wide (sorted instead)
            int stride = switch (trial % 3) {
                case 0 -> 1;
                case 1 -> 1 + random.nextInt(300);
                default -> 2000 + random.nextInt(100_000);
            };
            int offset = random.nextInt(60_000);
            int[] indices = new int[n];
            for (int i = 0; i < n; i++) {
                indices[i] = offset + i * stride;
            }
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = indices[i];
                indices[i] = indices[j];
                indices[j] = t;
            }
            long[] expected = java.util.Arrays.stream(indices).asLongStream().sorted().toArray();
            assertArrayEquals(expected, MnistBatches.ascending(indices), "trial " + trial + ", stride " + stride);
        }
        assertArrayEquals(new long[] {0, 5, Integer.MAX_VALUE}, MnistBatches.ascending(new int[] {Integer.MAX_VALUE,
            5, 0}));
        assertArrayEquals(new long[0], MnistBatches.ascending(new int[0]));
        assertArrayEquals(new long[] {3, 4, 4, 9}, MnistBatches.ascending(new int[] {4, 9, 4, 3}), "repeated");
        assertArrayEquals(new long[] {-70, -1, 63, 64, 127}, MnistBatches.ascending(new int[] {64, -1, 127, -70, 63}));
    }

    @Test
    void aReadWritesIntoTheArraysOfBatchesOfTheSameShape() {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 12);
        MnistSet set = MnistSet.trainFrom(dir.toString(), new Configuration());
        Configuration conf = new Configuration();
        List<DataSet> first = MnistBatches.read(set, new int[] {11, 0, 5, 3, 7}, 2, Normalization.SCALE, conf);
        int[] second = {1, 2, 4, 6, 8};
        List<DataSet> fresh = MnistBatches.read(set, second, 2, Normalization.SCALE, conf);
        List<DataSet> reused = MnistBatches.read(set, second, 2, Normalization.SCALE, conf, first);
        assertEquals(3, reused.size());
        for (int i = 0; i < 3; i++) {
            assertSame(first.get(i), reused.get(i), "batch " + i + " is written into the old arrays");
            assertEquals(fresh.get(i).getFeatures(), reused.get(i).getFeatures(), "features of batch " + i);
            assertEquals(fresh.get(i).getLabels(), reused.get(i).getLabels(), "labels of batch " + i);
        }
        // other shapes (a batch of 3 where 2 are read, one of 2 where 1 is) get new arrays
        List<DataSet> threes = MnistBatches.read(set, new int[] {9, 10, 11}, 3, Normalization.SCALE, conf);
        List<DataSet> mixed = MnistBatches.read(set, new int[] {0, 1, 2}, 2, Normalization.SCALE, conf,
            List.of(threes.get(0), reused.get(0)));
        assertNotSame(threes.get(0), mixed.get(0));
        assertNotSame(reused.get(0), mixed.get(1));
        assertEquals(MnistBatches.read(set, new int[] {0, 1, 2}, 2, Normalization.SCALE, conf).get(1).getFeatures(),
            mixed.get(1).getFeatures());
        assertEquals(9 * 4 / 255f, threes.get(0).getFeatures().getFloat(0, 0), 1e-7f, "left as it was");
    }

    @Test
    void aReusingSliceReaderGivesTheSameBatchesInRecycledArrays() {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 12);
        MnistSet set = MnistSet.trainFrom(dir.toString(), new Configuration());
        int[] order = {3, 11, 0, 7, 5, 9, 1, 10, 2, 8, 4, 6};
        List<DataSet> expected = MnistBatches.read(set, order, 2, Normalization.SCALE, new Configuration());
        List<DataSet> seen;
        try (SliceReader reader = new SliceReader(set, order, 2, 4, Normalization.SCALE, new Configuration(), true)) {
            seen = readAll(reader, expected);
        }
        assertEquals(6, seen.size());
        // chunks of 2 batches: the third chunk is written into the first one's arrays
        assertSame(seen.get(0), seen.get(4));
        assertSame(seen.get(1), seen.get(5));
        assertNotSame(seen.get(0), seen.get(2));
    }

    @Test
    void aReaderHandsItsArraysToTheNextEpochsReader() {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 12);
        Configuration conf = new Configuration();
        MnistSet set = MnistSet.trainFrom(dir.toString(), conf);
        int[] first = {3, 11, 0, 7, 5, 9, 1, 10, 2, 8, 4}; // 11 examples: the last batch of 2 holds 1
        int[] second = {6, 2, 9, 0, 11, 4, 8, 1, 5, 10, 3, 7};
        List<DataSet> seenFirst = new java.util.ArrayList<>();
        List<List<DataSet>> arrays;
        try (SliceReader reader = new SliceReader(set, first, 2, 4, Normalization.SCALE, conf, true)) {
            assertEquals(List.of(), reader.handOver(), "none before the slice's end");
            for (DataSet d = reader.next(); d != null; d = reader.next()) {
                seenFirst.add(d);
            }
            arrays = reader.handOver();
            assertEquals(List.of(), reader.handOver(), "handed over once");
        }
        // the last two chunks: batches 2-3 (the spare), then 4-5 (the current, its last batch of 1 example)
        assertEquals(2, arrays.size());
        assertSame(seenFirst.get(2), arrays.get(0).get(0));
        assertSame(seenFirst.get(5), arrays.get(1).get(1));
        List<DataSet> expected = MnistBatches.read(set, second, 2, Normalization.SCALE, conf);
        List<DataSet> seen;
        try (SliceReader reader = new SliceReader(set, second, 2, 4, Normalization.SCALE, conf, true, arrays)) {
            seen = readAll(reader, expected);
        }
        assertEquals(6, seen.size());
        // the first read wrote into the spare chunk's arrays, the second into the last chunk's where the shape fits
        assertSame(seenFirst.get(2), seen.get(0));
        assertSame(seenFirst.get(3), seen.get(1));
        assertSame(seenFirst.get(4), seen.get(2));
        assertNotSame(seenFirst.get(5), seen.get(3), "a batch of 1 example does not hold one of 2");
        assertThrows(IllegalArgumentException.class, () -> new SliceReader(set, second, 2, 4, Normalization.SCALE,
            conf, false, arrays));
    }

    /** Every minibatch of {@code reader}, each checked against the plain read's ({@code expected}) as it comes. */
    static List<DataSet> readAll(SliceReader reader, List<DataSet> expected) {
        List<DataSet> seen = new java.util.ArrayList<>();
        for (DataSet d = reader.next(); d != null; d = reader.next()) {
            int i = seen.size();
            assertEquals(expected.get(i).getFeatures(), d.getFeatures(), "features of batch " + i);
            assertEquals(expected.get(i).getLabels(), d.getLabels(), "labels of batch " + i);
            seen.add(d);
        }
        return seen;
    }

    @Test
    void standardizeUsesMnistMeanAndStd() {
        assertEquals((0f - 0.1307f) / 0.3081f, Normalization.STANDARDIZE.apply((byte) 0), 1e-6f);
        assertEquals((1f - 0.1307f) / 0.3081f, Normalization.STANDARDIZE.apply((byte) 255), 1e-6f);
        assertEquals(128 / 255f, Normalization.SCALE.apply((byte) 128), 1e-7f);
    }

    @Test
    void aWholePictureNormalisesAsItsPixelsDo() {
        byte[] picture = new byte[256];
        for (int i = 0; i < picture.length; i++) {
            picture[i] = (byte) i;
        }
        float[] out = new float[picture.length + 3];
        Normalization.STANDARDIZE.apply(picture, out, 2);
        assertEquals(0f, out[0]);
        assertEquals(0f, out[1]);
        assertEquals(0f, out[picture.length + 2]);
        for (int i = 0; i < picture.length; i++) {
            assertEquals(Normalization.STANDARDIZE.apply(picture[i]), out[2 + i], "pixel " + i);
        }
    }
}
