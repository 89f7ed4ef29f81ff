package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** {@link SubnormalFlush} zeroes exactly the subnormal values of the updater's state and changes no parameter. */
class SubnormalFlushTest {
    private static final float SUBNORMAL = Float.MIN_NORMAL / 4;

    @Test
    void zeroesSubnormalsOnlyAndKeepsEverythingElse() {
        float[] values = {SUBNORMAL, -SUBNORMAL, Float.MIN_VALUE, Math.nextDown(Float.MIN_NORMAL), Float.MIN_NORMAL,
            -Float.MIN_NORMAL, 1e-30f, 0.5f, -3f, 0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        INDArray a = Nd4j.create(values, new long[] {1, values.length}, 'c');
        SubnormalFlush.flush(a);
        float[] expected = values.clone();
        for (int i = 0; i < 4; i++) {
            expected[i] = 0f;
        }
        assertArrayEquals(expected, a.toFloatVector());
        double[] doubles = {Double.MIN_NORMAL / 8, 1e-300, Float.MIN_NORMAL / 4, -Double.MIN_VALUE};
        INDArray d = Nd4j.create(doubles, new long[] {1, doubles.length}, DataType.DOUBLE);
        SubnormalFlush.flush(d);
        assertArrayEquals(new double[] {0, 1e-300, Float.MIN_NORMAL / 4, 0}, d.toDoubleVector(),
            "a double's subnormal range is its own");
        assertEquals(0, SubnormalFlush.smallestNormal(DataType.INT), "integers are left alone");
    }

    @Test
    void forTrainingAddsOneFlushListener() {
        MultiLayerNetwork net = Models.network(ModelOptions.mlp());
        Models.forTraining(net);
        assertEquals(1, net.getListeners().stream().filter(SubnormalFlush.class::isInstance).count());
    }

    /**
     * Two identical networks trained on pictures whose first 100 pixels are always black (their weights' gradients are
     * zero, as for MNIST's border), one with the flush and one without, both with subnormal values planted in Adam's
     * state: the flush leaves none after its iteration, and every parameter is the same float in both, and the same
     * as a third network that never had a subnormal value.
     */
    @Test
    void flushingChangesNoParameter() {
        ModelOptions o = ModelOptions.mlp();
        MultiLayerNetwork flushed = Models.network(o);
        MultiLayerNetwork kept = Models.network(o);
        kept.setListeners(); // no flush
        MultiLayerNetwork clean = Models.network(o);
        clean.setListeners();
        DataSet first = BlackBorderBatches.batch(8, 0);
        for (MultiLayerNetwork net : new MultiLayerNetwork[] {flushed, kept, clean}) {
            net.fit(first); // creates the updater
        }
        plantSubnormals(flushed.getUpdater().getStateViewArray());
        plantSubnormals(kept.getUpdater().getStateViewArray());
        assertTrue(subnormals(flushed.getUpdater().getStateViewArray()) > 1000);
        for (int step = 1; step < SubnormalFlush.EVERY + 4; step++) {
            DataSet d = BlackBorderBatches.batch(8, step);
            for (MultiLayerNetwork net : new MultiLayerNetwork[] {flushed, kept, clean}) {
                net.fit(d);
            }
        }
        assertTrue(subnormals(kept.getUpdater().getStateViewArray()) > 100,
            "black pixels' first moments stay subnormal without the flush");
        assertTrue(subnormals(flushed.getUpdater().getStateViewArray()) < 100,
            "flushed at iteration " + SubnormalFlush.EVERY + ", a few new ones since");
        assertArrayEquals(kept.params().toFloatVector(), flushed.params().toFloatVector());
        assertArrayEquals(clean.params().toFloatVector(), flushed.params().toFloatVector());
    }

    /** Every zero of the state (the black pixels' weights' moments) becomes a positive subnormal number. */
    private static void plantSubnormals(INDArray state) {
        float[] s = state.toFloatVector();
        Random r = new Random(7);
        for (int i = 0; i < s.length; i++) {
            if (s[i] == 0) {
                s[i] = Float.MIN_NORMAL * r.nextFloat(); // positive: Adam's second moment is a square
            }
        }
        state.assign(Nd4j.create(s, state.shape(), state.ordering()));
    }

    private static long subnormals(INDArray a) {
        long n = 0;
        for (float f : a.toFloatVector()) {
            if (f != 0 && Math.abs(f) < Float.MIN_NORMAL) {
                n++;
            }
        }
        return n;
    }
}
