package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The branch-free ReLU and ReLU-derivative of {@link DenseKernels} against the comparisons they replace. */
class DenseKernelsTest {
    private static final float[] SPECIAL = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL,
        -Float.MIN_NORMAL, 1f, -1f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0x7f800001), Float.intBitsToFloat(0x7fffffff)};

    /** Random floats over every exponent (random bits), both signs, NaNs included, and the special values. */
    private static float[] floats(long seed, int n) {
        Random r = new Random(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = i < SPECIAL.length ? SPECIAL[i] : Float.intBitsToFloat(r.nextInt());
        }
        return f;
    }

    @Test
    void reluIsTheComparisonExceptThatNegativeZeroAndNegativeNaNsBecomeZero() {
        for (float x : floats(1, 200_000)) {
            float expected = x < 0f ? 0f : x;
            int bits = Float.floatToRawIntBits(x);
            if (bits == Float.floatToRawIntBits(-0f) || Float.isNaN(x) && bits < 0) {
                expected = 0f;
            }
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(DenseKernels.relu(x)),
                () -> "relu(" + x + ", bits " + Integer.toHexString(bits) + ")");
        }
    }

    @Test
    void whereKeepsTheGradientExactlyWhereTheOutputIsAboveZero() {
        float[] out = floats(2, 200_000);
        float[] e = floats(3, 200_000);
        for (int i = 0; i < out.length; i++) {
            for (float o : new float[] {out[i], SPECIAL[i % SPECIAL.length]}) {
                float expected = o > 0f ? e[i] : 0f;
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(DenseKernels.where(o, e[i])),
                    "where(" + o + ", " + e[i] + ")");
            }
        }
    }

    @Test
    void addBiasAndReluBackwardOnArrays() {
        int rows = 7;
        int cols = 13;
        float[] z = floats(4, rows * cols);
        float[] bias = new float[cols];
        Random r = new Random(5);
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) r.nextGaussian(); // finite: the sum below must be the scalar one
        }
        for (int c = 0; c < cols; c++) {
            bias[c] = (float) r.nextGaussian();
        }
        INDArray zArr = Nd4j.create(z, new long[] {rows, cols}, 'c').castTo(DataType.FLOAT);
        INDArray bArr = Nd4j.create(bias, new long[] {1, cols}, 'c').castTo(DataType.FLOAT);
        DenseKernels k = new DenseKernels();
        assertTrue(k.addBias(zArr, bArr, true));
        float[] expected = new float[z.length];
        int negative = 0;
        for (int i = 0; i < z.length; i++) {
            float x = z[i] + bias[i % cols];
            expected[i] = x < 0f ? 0f : x;
            negative += x < 0f ? 1 : 0;
        }
        assertTrue(negative > 10 && negative < z.length - 10, "both signs present: " + negative);
        assertArrayEquals(expected, zArr.data().asFloat());

        float[] eps = new float[z.length];
        for (int i = 0; i < eps.length; i++) {
            eps[i] = (float) r.nextGaussian();
        }
        INDArray epsilon = Nd4j.create(eps, new long[] {rows, cols}, 'c').castTo(DataType.FLOAT);
        INDArray delta = Nd4j.createUninitialized(DataType.FLOAT, rows, cols);
        INDArray biasGradient = Nd4j.createUninitialized(DataType.FLOAT, 1, cols);
        assertTrue(k.reluBackward(zArr, epsilon, delta, biasGradient));
        float[] d = new float[z.length];
        float[] sums = new float[cols];
        for (int i = 0; i < d.length; i++) {
            d[i] = expected[i] > 0f ? eps[i] : 0f;
            sums[i % cols] += d[i];
        }
        assertArrayEquals(d, delta.data().asFloat());
        assertArrayEquals(sums, biasGradient.data().asFloat());
    }
}
