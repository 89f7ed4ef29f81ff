package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** A convolution's bias gradient as vector code equals ND4J's sum over images, rows and columns, up to rounding. */
class ChannelSumsTest {
    private final boolean vectorByDefault = ChannelSums.vector;

    @AfterEach
    void restore() {
        ChannelSums.vector = vectorByDefault;
        ChannelSums.evenCold = false;
    }

    /** Planes of its own in a buffer from float {@code d0}: magnitudes far apart, as the warm-up's. */
    private static java.nio.ByteBuffer planes(int d0, int n, long seed) {
        Random r = new Random(seed);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(4 * (d0 + n)).order(java.nio.ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            b.putFloat(4 * (d0 + i), (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4)));
        }
        return b;
    }

    /**
     * The scalar loop that stands in for the kernel until it is compiled adds the same floats in the same order: the
     * same bits for planes of whole vectors and with floats left over, from any offset, whether the kernel runs
     * interpreted or compiled (after the warm-up, below).
     */
    private static void assertSameBits() {
        // images, channels, plane: LeNet-5's 24 x 24 and 8 x 8, a padded 28 x 28, tails, planes shorter than a vector
        int[][] shapes = {{4, 6, 576}, {3, 16, 64}, {2, 6, 784}, {2, 3, 25}, {3, 2, 21}, {2, 2, 7}, {1, 1, 1}};
        for (int[] s : shapes) {
            for (int d0 : new int[] {0, 3}) {
                java.nio.ByteBuffer b = planes(d0, s[0] * s[1] * s[2], s[2] * 7L + d0);
                float[] kernel = new float[s[1]];
                float[] scalar = new float[s[1]];
                ChannelSums.Kernel.planes(b, d0, s[0], s[1], s[2], kernel);
                ChannelSums.Kernel.planesInOrder(b, d0, s[0], s[1], s[2], scalar);
                for (int c = 0; c < s[1]; c++) {
                    assertEquals(Float.floatToRawIntBits(kernel[c]), Float.floatToRawIntBits(scalar[c]),
                        java.util.Arrays.toString(s) + " from " + d0 + ": channel " + c);
                }
            }
        }
    }

    @Test
    void theScalarLoopAddsInTheKernelsOrder() {
        assertSameBits();
    }

    /**
     * The kernel's warm-up sees it compiled, and giving the scalar loop's bits, within 90 s; the compiled kernel then
     * gives the scalar loop's bits on every shape above, and {@link ChannelSums#sum} the same bits either way.
     */
    @Test
    void theWarmUpLetsTheCompiledKernelRunWithTheSameBits() throws InterruptedException {
        ChannelSums.warmUp();
        long deadline = System.nanoTime() + 90_000_000_000L;
        while (!ChannelSums.ready() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(ChannelSums.ready(), "the kernel is compiled within 90 s in a JVM with --add-modules="
            + SimdAdam.MODULE);
        assertSameBits();
        INDArray delta = values(new long[] {4, 6, 24, 24}, 3);
        INDArray compiled = Nd4j.create(DataType.FLOAT, 1, 6);
        INDArray forced = Nd4j.create(DataType.FLOAT, 1, 6);
        assertTrue(ChannelSums.sum(delta, compiled));
        ChannelSums.evenCold = true;
        assertTrue(ChannelSums.sum(delta, forced));
        assertEquals(java.util.Arrays.toString(forced.toFloatVector()),
            java.util.Arrays.toString(compiled.toFloatVector()));
    }

    private static INDArray values(long[] shape, long seed) {
        Random r = new Random(seed);
        float[] v = new float[(int) (shape[0] * shape[1] * shape[2] * shape[3])];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian() + (i % 7 == 0 ? 3f : 0f);
        }
        return Nd4j.create(v, shape, 'c');
    }

    private static void assertSums(INDArray delta, INDArray actual, String what) {
        float[] expected = delta.sum(0, 2, 3).toFloatVector();
        float[] got = actual.toFloatVector();
        assertEquals(expected.length, got.length, what);
        for (int c = 0; c < expected.length; c++) {
            assertEquals(expected[c], got[c], 1e-4 * Math.max(1, Math.abs(expected[c])), what + ": channel " + c);
        }
    }

    @Test
    void sumsEachChannelOverImagesRowsAndColumns() {
        ChannelSums.vector = true;
        // planes of 576 and 64 floats (LeNet-5's), 784 (padded input), 25 and 21 (a tail after no or one vector step)
        for (long[] shape : new long[][] {{4, 6, 24, 24}, {3, 16, 8, 8}, {2, 6, 28, 28}, {5, 3, 5, 5}, {2, 2, 3, 7}}) {
            INDArray delta = values(shape, shape[2] * 31 + shape[1]);
            INDArray into = Nd4j.create(DataType.FLOAT, 1, shape[1]);
            assertTrue(ChannelSums.sum(delta, into), java.util.Arrays.toString(shape));
            assertSums(delta, into, java.util.Arrays.toString(shape));
        }
    }

    @Test
    void viewsAndOtherArraysAreSummedOrLeftToNd4j() {
        ChannelSums.vector = true;
        INDArray delta = values(new long[] {3, 6, 12, 12}, 5);
        // a view into a larger array, and a bias gradient that is a view into a larger gradient vector
        INDArray big = Nd4j.create(DataType.FLOAT, 5, 6, 12, 12);
        INDArray view = big.get(NDArrayIndex.interval(2, 5));
        view.assign(delta);
        INDArray gradients = Nd4j.valueArrayOf(new long[] {1, 20}, 7f, DataType.FLOAT);
        INDArray into = gradients.get(NDArrayIndex.point(0), NDArrayIndex.interval(4, 10));
        assertTrue(ChannelSums.sum(view, into));
        assertSums(delta, into, "views");
        assertEquals(7f, gradients.getFloat(0, 3), "nothing before the view written");
        assertEquals(7f, gradients.getFloat(0, 10), "nothing after it");
        // an 'f'-ordered gradient, a double one, a wrong length and a JVM without the module: ND4J's sum
        INDArray unchanged = Nd4j.zeros(DataType.FLOAT, 1, 6);
        assertFalse(ChannelSums.sum(delta.dup('f'), unchanged));
        assertFalse(ChannelSums.sum(delta.castTo(DataType.DOUBLE), unchanged));
        assertFalse(ChannelSums.sum(delta, Nd4j.zeros(DataType.FLOAT, 1, 5)));
        ChannelSums.vector = false;
        assertFalse(ChannelSums.sum(delta, unchanged));
        assertEquals(0.0, unchanged.sumNumber().doubleValue(), "nothing written where it declines");
    }
}
