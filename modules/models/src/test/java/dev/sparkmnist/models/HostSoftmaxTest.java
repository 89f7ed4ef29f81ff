package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The host softmax against ND4J's softmax operation, float for float. */
class HostSoftmaxTest {
    private static final int[] WIDTHS = {1, 2, 3, 5, 10, 16, 37, 100};
    private static final double[] SCALES = {0.5, 3, 20, 100, 1_000, 10_000};
    /** Values per width and scale: 8 x 6 x 32,000, about 1.5 million in all. */
    private static final int VALUES = 32_000;

    @Test
    void thisJvmsCheckFoundNd4jsOperationEqual() {
        assertNull(HostSoftmax.whyNot(), "the first use's comparison with ND4J's softmax");
    }

    @Test
    void equalsNd4jsSoftmaxBitForBit() {
        assertEquals(0, differing(new Random(1)), "floats that differ from ND4J's softmax");
    }

    /**
     * With flush-to-zero and denormals-are-zero on the thread, as the training loop sets them: ND4J's operation leaves
     * subnormal probabilities in the rows it runs on its own threads, where this class writes zero; nothing else
     * differs, and the output gradient and loss the layer computes from either are the same bits.
     */
    @Test
    void sameGradientAndLossAsNd4jsSoftmaxWithFlushToZero() {
        Fenv fenv = Fenv.load();
        assertTrue(fenv != null, "x86-64 Linux with glibc: flush-to-zero can be set");
        Random random = new Random(2);
        Memory saved = fenv.flushToZero();
        try {
            for (int cols : new int[] {2, 10, 37}) {
                for (double scale : SCALES) {
                    int rows = VALUES / cols;
                    int n = rows * cols;
                    float[] x = HostSoftmax.logits(random, rows, cols, scale);
                    assertEquals(0, HostSoftmax.differing(x, rows, cols, true), "the first use's check passes");
                    float[] theirs = HostSoftmax.nd4j(x, rows, cols);
                    float[] ours = new float[n];
                    assertTrue(HostSoftmax.rows(Nd4j.create(x, new long[] {rows, cols}, 'c'),
                        Nd4j.createUninitialized(DataType.FLOAT, rows, cols), ours, rows, cols));
                    for (int i = 0; i < n; i++) {
                        if (Float.floatToRawIntBits(ours[i]) != Float.floatToRawIntBits(theirs[i])) {
                            assertTrue(Math.abs(ours[i]) < Float.MIN_NORMAL && Math.abs(theirs[i]) < Float.MIN_NORMAL,
                                "only subnormal probabilities differ: " + ours[i] + " against " + theirs[i]);
                        }
                    }
                    float[] labels = new float[n];
                    for (int r = 0; r < rows; r++) {
                        labels[r * cols + random.nextInt(cols)] = 1f;
                    }
                    double theirLoss = TrainingOutputLayer.gradientAndLoss(theirs, labels, n, 1e-10);
                    double ourLoss = TrainingOutputLayer.gradientAndLoss(ours, labels, n, 1e-10);
                    assertEquals(theirLoss, ourLoss, 0.0, "loss, width " + cols + ", scale " + scale);
                    for (int i = 0; i < n; i++) {
                        assertEquals(Float.floatToRawIntBits(theirs[i]), Float.floatToRawIntBits(ours[i]),
                            "output gradient " + i + ", width " + cols + ", scale " + scale);
                    }
                }
            }
        } finally {
            fenv.libm.fesetenv(saved);
        }
        // what the comparison covers: without flush-to-zero, the same kind of logits give subnormal probabilities
        // (whether ND4J's operation left any under flush-to-zero depends on its thread count: none at one thread)
        float[] p = HostSoftmax.nd4j(HostSoftmax.logits(new Random(2), VALUES / 10, 10, 100), VALUES / 10, 10);
        int subnormal = 0;
        for (float v : p) {
            subnormal += v != 0f && Math.abs(v) < Float.MIN_NORMAL ? 1 : 0;
        }
        assertTrue(subnormal > 0, "the logits reach probabilities below the smallest normal float");
    }

    @Test
    void edgeRowsEqualNd4jsSoftmax() {
        float max = Float.MAX_VALUE;
        float tiny = Float.MIN_VALUE;
        float[][] rows = {
            {0f, -0f, 0f, -0f}, {-0f, -0f, -0f, -0f}, {3f, 3f, 3f, 3f}, {max, -max, 0f, 1f}, {-max, 0f, 0f, -max},
            {tiny, -tiny, 1e-39f, -1e-39f}, {1e-39f, 0f, 0f, 0f}, {88f, 0f, -88f, -104f}, {-1e30f, 1e30f, 0f, 2e30f},
            {-3e38f, -3e38f, -3e38f, -3e38f}, {max, max, max, max},
        };
        for (float[] row : rows) {
            float[] twice = new float[row.length * 2];
            System.arraycopy(row, 0, twice, 0, row.length);
            System.arraycopy(row, 0, twice, row.length, row.length);
            assertEquals(0, HostSoftmax.differing(twice, 2, row.length), () -> "two rows " + Arrays.toString(row));
            assertEquals(0, HostSoftmax.differing(twice, row.length, 2), () -> "columns " + Arrays.toString(row));
        }
        // ND4J's operation gives NaN for a row whose maximum is -Float.MAX_VALUE, and the vector path for one row
        float[] lowest = {-max, -max, -max, 0f, 1f, 2f};
        assertFalse(HostSoftmax.maxSubtracted(lowest.clone(), 2, 3));
        float[] one = {1f, 2f, 3f};
        assertFalse(HostSoftmax.rows(Nd4j.create(one, new long[] {1, 3}, 'c'),
            Nd4j.createUninitialized(DataType.FLOAT, 1, 3), new float[3], 1, 3));
    }

    @Test
    void leavesValuesThatAreNotFiniteToNd4j() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] x = {1f, 2f, 3f, bad, 0f, 1f};
            float[] copy = x.clone();
            assertFalse(HostSoftmax.maxSubtracted(x, 2, 3), "declined: " + bad);
            assertArrayEquals(copy, x, 0f, "unchanged");
            INDArray in = Nd4j.create(x, new long[] {2, 3}, 'c');
            assertFalse(HostSoftmax.rows(in, Nd4j.createUninitialized(DataType.FLOAT, 2, 3), new float[6], 2, 3));
        }
    }

    @Test
    void rowsOfHandComputedValues() {
        // ln 3 apart: 1/4 and 3/4; equal: 1/2 each; 200 apart: exp(-200) is below the smallest float, so 1 and 0
        float[] x = {0f, (float) Math.log(3), 5f, 5f, 0f, -200f};
        INDArray in = Nd4j.create(x, new long[] {3, 2}, 'c');
        float[] p = new float[6];
        assertTrue(HostSoftmax.rows(in, Nd4j.createUninitialized(DataType.FLOAT, 3, 2), p, 3, 2));
        assertArrayEquals(new float[] {0.25f, 0.75f, 0.5f, 0.5f, 1f, 0f}, p, 1e-6f);
    }

    /**
     * What makes this comparison able to fail: the same loops with Java's exponential ({@code (float) Math.exp},
     * correctly rounded nearly always) in place of the C library's {@code expf} that ND4J calls differ from ND4J's
     * softmax in some of the same floats.
     */
    @Test
    void javasOwnExponentialWouldNotMatch() {
        Random random = new Random(1);
        int differ = 0;
        for (int cols : new int[] {10, 37}) {
            for (double scale : SCALES) {
                int rows = VALUES / cols;
                float[] x = HostSoftmax.logits(random, rows, cols, scale);
                float[] want = HostSoftmax.nd4j(x, rows, cols);
                float[] e = x.clone();
                assertTrue(HostSoftmax.maxSubtracted(e, rows, cols));
                for (int i = 0; i < e.length; i++) {
                    e[i] = (float) Math.exp(e[i]);
                }
                HostSoftmax.normalise(e, rows, cols);
                for (int i = 0; i < e.length; i++) {
                    differ += Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(want[i]) ? 1 : 0;
                }
            }
        }
        assertNotEquals(0, differ, "Java's exponential: some floats differ from ND4J's");
    }

    private static int differing(Random random) {
        int differ = 0;
        for (int cols : WIDTHS) {
            for (double scale : SCALES) {
                int rows = VALUES / cols;
                differ += HostSoftmax.differing(HostSoftmax.logits(random, rows, cols, scale), rows, cols);
            }
        }
        return differ;
    }

    /** glibc's floating-point environment through JNA (the runtime module's FlushToZero does the same). */
    private static final class Fenv {
        interface LibM extends Library {
            int fegetenv(Pointer env);

            int fesetenv(Pointer env);
        }

        final LibM libm;

        private Fenv(LibM libm) {
            this.libm = libm;
        }

        static Fenv load() {
            String arch = System.getProperty("os.arch", "");
            if (!System.getProperty("os.name", "").toLowerCase().contains("linux")
                || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                return null;
            }
            return new Fenv(Native.loadLibrary("m", LibM.class));
        }

        /** Sets FTZ and DAZ on this thread; returns the environment to restore. */
        Memory flushToZero() {
            Memory saved = new Memory(32);
            assertEquals(0, libm.fegetenv(saved));
            Memory env = new Memory(32);
            env.write(0, saved.getByteArray(0, 32), 0, 32);
            env.setInt(28, saved.getInt(28) | 0x8040);
            assertEquals(0, libm.fesetenv(env));
            return saved;
        }
    }
}
