package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class ExchangeBlendTest {
    @BeforeAll
    static void compiled() throws InterruptedException {
        ExchangeBlend.start();
        long deadline = System.nanoTime() + 90_000_000_000L;
        while (!ExchangeBlend.ready() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(ExchangeBlend.ready(), "the kernel is compiled within 90 s in a JVM with --add-modules="
            + SimdAdam.MODULE + (ExchangeBlend.Warm.ENABLED ? "" : ": " + ExchangeBlend.Warm.WHY_NOT));
    }

    /** The scalar definition: x = mean + (x - sent), written to x, sent and mean. */
    private static void reference(float[] x, float[] mean, float[] sent, int at) {
        for (int i = 0; i < x.length; i++) {
            float v = mean[at + i] + (x[i] - sent[at + i]);
            x[i] = v;
            sent[at + i] = v;
            mean[at + i] = v;
        }
    }

    private static float[] values(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * (i % 5 == 0 ? 1e-3f : 1f);
        }
        return v;
    }

    @Test
    void theSameFloatsAsTheScalarLoopForEveryLengthAndOffset() {
        Random r = new Random(7);
        for (int n : new int[] {1, 15, 16, 17, 37, 1029, 235_146}) {
            for (int at : new int[] {0, 5}) {
                float[] x = values(r, n);
                if (n > 8) { // IEEE's corner cases, which the lanes must treat as the scalar code does
                    x[1] = Float.NaN;
                    x[2] = Float.POSITIVE_INFINITY;
                    x[3] = -0.0f;
                    x[4] = Float.MIN_VALUE;
                    x[5] = -Float.MIN_NORMAL / 3;
                    x[n - 1] = Float.MAX_VALUE;
                }
                float[] mean = values(r, n + at + 3);
                float[] sent = values(r, n + at + 3);
                INDArray array = Nd4j.create(x.clone(), new long[] {1, n}, 'c');
                float[] meanOut = mean.clone();
                float[] sentOut = sent.clone();
                assertTrue(ExchangeBlend.blend(array, at, meanOut, sentOut), "n=" + n);
                reference(x, mean, sent, at);
                assertArrayEquals(x, array.toFloatVector(), "the vector, n=" + n + " at=" + at);
                assertArrayEquals(mean, meanOut, "mean, n=" + n + " at=" + at);
                assertArrayEquals(sent, sentOut, "sent, n=" + n + " at=" + at);
            }
        }
    }

    @Test
    void aContiguousViewIsBlendedInPlaceAndTheRestOfItsBufferIsLeftAlone() {
        Random r = new Random(3);
        float[] all = values(r, 100);
        INDArray whole = Nd4j.create(all.clone(), new long[] {1, 100}, 'c');
        INDArray view = whole.get(NDArrayIndex.point(0), NDArrayIndex.interval(33, 90)).reshape(1, 57);
        assertEquals(33, view.offset(), "a view at an offset into its buffer");
        float[] mean = values(r, 57);
        float[] sent = values(r, 57);
        float[] x = java.util.Arrays.copyOfRange(all, 33, 90);
        float[] meanOut = mean.clone();
        float[] sentOut = sent.clone();
        assertTrue(ExchangeBlend.blend(view, 0, meanOut, sentOut));
        reference(x, mean, sent, 0);
        float[] expected = all.clone();
        System.arraycopy(x, 0, expected, 33, 57);
        assertArrayEquals(expected, whole.toFloatVector(), "the view's floats blended, the others untouched");
        assertArrayEquals(mean, meanOut);
        assertArrayEquals(sent, sentOut);
    }

    @Test
    void declinesAndTouchesNothingWhereItDoesNotApply() {
        Random r = new Random(5);
        INDArray matrix = Nd4j.create(values(r, 12), new long[] {3, 4}, 'c');
        INDArray column = matrix.getColumn(1); // stride 4: not contiguous
        float[] before = matrix.dup().data().asFloat();
        float[] mean = values(r, 20);
        float[] sent = values(r, 20);
        float[] meanOut = mean.clone();
        float[] sentOut = sent.clone();
        assertFalse(ExchangeBlend.blend(column, 0, meanOut, sentOut), "a strided column");
        INDArray vector = Nd4j.create(values(r, 10), new long[] {1, 10}, 'c');
        assertFalse(ExchangeBlend.blend(vector, 15, meanOut, sentOut), "past the end of mean and sent");
        assertFalse(ExchangeBlend.blend(vector, -1, meanOut, sentOut), "a negative offset");
        assertFalse(ExchangeBlend.blend(Nd4j.create(new double[] {1, 2, 3}, new long[] {1, 3}), 0, meanOut, sentOut),
            "doubles");
        assertArrayEquals(before, matrix.data().asFloat());
        assertArrayEquals(mean, meanOut);
        assertArrayEquals(sent, sentOut);
    }

    @Test
    void thePropertyTurnsItOffAndAnythingButFalseLeavesItOn() {
        assertEquals("-D" + ExchangeBlend.PROPERTY + "=false", ExchangeBlend.Warm.whyNot(" FALSE "));
        assertNull(ExchangeBlend.Warm.whyNot(null), "on by default here (the Vector API's module, the CPU backend)");
        assertNull(ExchangeBlend.Warm.whyNot("true"));
        assertNull(ExchangeBlend.Warm.whyNot("maybe"), "a warning, and on");
    }
}
