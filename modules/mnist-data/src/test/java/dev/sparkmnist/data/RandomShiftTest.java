package dev.sparkmnist.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.testing.TestData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@link RandomShift}: each picture moved as a plain per-pixel copy moves it, background where it uncovers the frame;
 * shifts spread evenly over {@code [-n, n]^2}, fixed by the seed, the epoch and the example alone, so a slice read in
 * any chunks, order or reader gives every example the same picture; the test split is never moved.
 */
class RandomShiftTest {
    @TempDir
    Path dir;

    private static final int ROWS = 6;
    private static final int COLS = 7;

    /** The definition, pixel by pixel: out(y, x) = in(y - dy, x - dx), background outside the picture. */
    private static float[] reference(byte[] pixels, int from, int dx, int dy, Normalization n) {
        float[] out = new float[ROWS * COLS];
        for (int y = 0; y < ROWS; y++) {
            for (int x = 0; x < COLS; x++) {
                int sy = y - dy;
                int sx = x - dx;
                out[y * COLS + x] = sy >= 0 && sy < ROWS && sx >= 0 && sx < COLS
                    ? n.apply(pixels[from + sy * COLS + sx]) : n.apply((byte) 0);
            }
        }
        return out;
    }

    private static byte[] pictures(int count) {
        byte[] pixels = new byte[count * ROWS * COLS];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (1 + (i * 37) % 255); // never 0: a background pixel in the output is a moved-in one
        }
        return pixels;
    }

    @Test
    void eachPictureIsMovedAsThePerPixelDefinitionMovesIt() {
        byte[] pixels = pictures(3);
        for (int n = 1; n <= RandomShift.MAX_PIXELS; n++) {
            RandomShift shift = new RandomShift(n, 11L, 2);
            for (int example = 0; example < 300; example++) {
                int from = (example % 3) * ROWS * COLS;
                float[] out = new float[ROWS * COLS + 5];
                out[0] = 42f;
                shift.write(Normalization.STANDARDIZE, pixels, from, ROWS, COLS, out, 3, example);
                float[] expected = reference(pixels, from, shift.dx(example), shift.dy(example),
                    Normalization.STANDARDIZE);
                assertArrayEquals(expected, java.util.Arrays.copyOfRange(out, 3, 3 + ROWS * COLS),
                    "n " + n + ", example " + example);
                assertEquals(42f, out[0], "nothing before the offset is written");
                assertEquals(0f, out[ROWS * COLS + 3], "nothing after the picture is written");
            }
        }
    }

    @Test
    void noShiftIsTheNormalisationAlone() {
        byte[] pixels = pictures(1);
        float[] plain = new float[ROWS * COLS];
        Normalization.SCALE.apply(pixels, 0, ROWS * COLS, plain, 0);
        float[] out = new float[ROWS * COLS];
        RandomShift.NONE.write(Normalization.SCALE, pixels, 0, ROWS, COLS, out, 0, 5);
        assertArrayEquals(plain, out);
        assertEquals(0, RandomShift.NONE.dx(5));
        assertEquals(RandomShift.NONE, RandomShift.NONE.atEpoch(3), "no shift is the same at every epoch");
    }

    @Test
    void shiftsSpreadEvenlyAndDependOnSeedEpochAndExampleOnly() {
        int n = 2;
        int side = 2 * n + 1;
        RandomShift shift = new RandomShift(n, 7L, 0);
        int[] counts = new int[side * side];
        int examples = 50_000;
        for (int i = 0; i < examples; i++) {
            int dx = shift.dx(i);
            int dy = shift.dy(i);
            assertTrue(dx >= -n && dx <= n && dy >= -n && dy <= n, dx + "," + dy);
            counts[(dy + n) * side + dx + n]++;
            assertEquals(dx, new RandomShift(n, 7L, 0).dx(i), "the same seed, epoch and example");
        }
        double expected = (double) examples / counts.length;
        for (int c : counts) {
            assertTrue(Math.abs(c - expected) < 0.1 * expected, "counts " + java.util.Arrays.toString(counts));
        }
        assertTrue(differing(shift, shift.atEpoch(1)) > 0.7, "another epoch moves most pictures otherwise");
        assertTrue(differing(shift, new RandomShift(n, 8L, 0)) > 0.7, "another seed moves most pictures otherwise");
        assertEquals(1, shift.atEpoch(1).epoch());
    }

    private static double differing(RandomShift a, RandomShift b) {
        int differ = 0;
        for (int i = 0; i < 1000; i++) {
            differ += a.dx(i) != b.dx(i) || a.dy(i) != b.dy(i) ? 1 : 0;
        }
        return differ / 1000.0;
    }

    @Test
    void aShiftOutsideTheDigitsMarginIsRefused() {
        assertEquals("--random-shift (5) must be in [0, 4]", assertThrows(IllegalArgumentException.class,
            () -> new RandomShift(5, 1L, 0)).getMessage());
        assertEquals("--random-shift (-1) must be in [0, 4]", assertThrows(IllegalArgumentException.class,
            () -> new RandomShift(-1, 1L, 0)).getMessage());
    }

    @Test
    void everyReaderGivesAnExampleTheSamePictureWhateverItsChunksAndOrder() {
        int count = 20;
        byte[] pixels = pictures(count);
        byte[] labels = new byte[count];
        TestData.writeImages(dir.resolve("train-images-idx3-ubyte"), count, ROWS, COLS, pixels);
        TestData.writeLabels(dir.resolve("train-labels-idx1-ubyte"), count, labels);
        Configuration conf = new Configuration();
        MnistSet set = MnistSet.trainFrom(dir.toString(), conf);
        RandomShift shift = new RandomShift(2, 3L, 1);
        int[] order = {17, 2, 9, 0, 11, 4, 8, 1, 19, 5};
        List<DataSet> whole = MnistBatches.read(set, order, 2, Normalization.STANDARDIZE, shift, conf, List.of());
        List<float[]> read = new ArrayList<>();
        try (SliceReader reader = new SliceReader(set, order, 2, 4, Normalization.STANDARDIZE, shift, conf, true,
            List.of())) {
            for (DataSet d = reader.next(); d != null; d = reader.next()) {
                for (int r = 0; r < d.numExamples(); r++) {
                    read.add(d.getFeatures().getRow(r).toFloatVector());
                }
            }
        }
        int moved = 0;
        for (int k = 0; k < order.length; k++) {
            int example = order[k];
            float[] expected = reference(pixels, example * ROWS * COLS, shift.dx(example), shift.dy(example),
                Normalization.STANDARDIZE);
            assertArrayEquals(expected, whole.get(k / 2).getFeatures().getRow(k % 2).toFloatVector(), "one read");
            assertArrayEquals(expected, read.get(k), "a reader in chunks of four");
            moved += shift.dx(example) != 0 || shift.dy(example) != 0 ? 1 : 0;
        }
        assertTrue(moved > 0, "some of the ten pictures moved");
        // read alone, in another order: the same picture
        float[] alone = MnistBatches.read(set, new int[] {order[3]}, 1, Normalization.STANDARDIZE, shift, conf,
            List.of()).get(0).getFeatures().toFloatVector();
        assertArrayEquals(read.get(3), alone);
        // an epoch reader opens each epoch's reader with that epoch's shift
        try (EpochReaders reads = new EpochReaders(set, e -> order, 2, 4, Normalization.STANDARDIZE,
            new RandomShift(2, 3L, 0), conf, 3)) {
            try (SliceReader reader = reads.take(1)) {
                assertArrayEquals(read.get(0), reader.next().getFeatures().getRow(0).toFloatVector());
            }
        }
    }

    @Test
    void theTestSplitIsNeverMoved() {
        TestData.writeTinySet(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 4);
        Configuration conf = new Configuration();
        MnistSet test = MnistSet.testFrom(dir.toString(), conf);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MnistBatches.read(test,
            new int[] {0, 1}, 2, Normalization.SCALE, new RandomShift(1, 1L, 0), conf, List.of()));
        assertTrue(e.getMessage().startsWith("only training pictures are shifted, not "), e.getMessage());
    }
}
