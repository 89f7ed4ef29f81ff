package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** {@link NetState#blend}: the overlapped exchange's one pass equals reading, arithmetic, copies and writing back. */
class NetStateTest {
    /** An MLP with Adam (parameters and two moments) after two steps on a few random pictures. */
    private static MultiLayerNetwork trained() {
        MultiLayerNetwork net = Models.network(ModelOptions.mlp());
        Nd4j.getRandom().setSeed(7);
        float[][] labels = new float[8][10];
        for (int i = 0; i < labels.length; i++) {
            labels[i][i % 10] = 1;
        }
        DataSet batch = new DataSet(Nd4j.rand(8, 784), Nd4j.create(labels));
        net.fit(batch);
        net.fit(batch);
        return net;
    }

    private static float[] noise(int n, long seed) {
        Random random = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * 1e-2f;
        }
        return v;
    }

    @Test
    void blendEqualsTheStepsItReplacesToTheBit() {
        MultiLayerNetwork a = trained();
        MultiLayerNetwork b = a.clone();
        float[] before = NetState.vector(a);
        int n = before.length;
        float[] mean = noise(n, 1);
        float[] sent = noise(n, 2);
        // the steps as the overlapped exchange did them before: read, arithmetic, two copies, write back
        float[] vector = NetState.vector(a);
        for (int i = 0; i < n; i++) {
            vector[i] = mean[i] + (vector[i] - sent[i]);
        }
        float[] sentA = vector.clone();
        float[] meanA = vector.clone();
        NetState.apply(a, vector);

        float[] meanB = mean.clone();
        float[] sentB = sent.clone();
        NetState.blend(b, meanB, sentB, true);
        assertArrayEquals(NetState.vector(a), NetState.vector(b), "parameters and Adam's moments");
        assertArrayEquals(sentA, sentB);
        assertArrayEquals(meanA, meanB);
        float[] after = NetState.vector(b);
        assertNotEquals(before[0], after[0], "the first parameter moved");
        assertNotEquals(before[n - 1], after[n - 1], "the last updater value moved");
    }

    @Test
    void withoutAMeanTheStateIsOnlyCopied() {
        MultiLayerNetwork net = trained();
        float[] before = NetState.vector(net);
        float[] mean = noise(before.length, 3);
        float[] sent = noise(before.length, 4);
        NetState.blend(net, mean, sent, false);
        assertArrayEquals(before, NetState.vector(net), "the network is unchanged");
        assertArrayEquals(before, sent);
        assertArrayEquals(before, mean);
    }

    /**
     * {@code --updater-averaging stage}: a round that averaged the parameters alone corrects the parameters alone;
     * the updater state is copied into the contribution only when the next round sends it, and left untouched (in
     * the network and in both buffers) when neither round averages it.
     */
    @Test
    void roundsOfTheParametersAloneLeaveTheUpdaterStateAsItIs() {
        for (int[] lengths : new int[][] {{1, 1}, {1, 2}, {2, 1}, {0, 1}}) { // 1: parameters alone, 2: all
            MultiLayerNetwork net = trained();
            int p = (int) net.numParams();
            float[] before = NetState.vector(net);
            int n = before.length;
            assertEquals(3 * p, n, "Adam: parameters and two moments");
            int collected = lengths[0] == 0 ? 0 : lengths[0] == 1 ? p : n;
            int sending = lengths[1] == 1 ? p : n;
            float[] mean = noise(n, 5);
            float[] sent = noise(n, 6);
            float[] meanBefore = mean.clone();
            float[] sentBefore = sent.clone();
            NetState.blend(net, mean, sent, collected, sending);
            float[] after = NetState.vector(net);
            for (int i = 0; i < n; i++) {
                float want = i < collected ? meanBefore[i] + (before[i] - sentBefore[i]) : before[i];
                String at = "lengths " + collected + "/" + sending + ", index " + i;
                assertEquals(want, after[i], at);
                if (i < Math.max(collected, sending)) {
                    assertEquals(want, sent[i], at);
                    assertEquals(want, mean[i], at);
                } else {
                    assertEquals(sentBefore[i], sent[i], at);
                    assertEquals(meanBefore[i], mean[i], at);
                }
            }
        }
    }

    @Test
    void vectorAndApplyOfTheParametersAloneLeaveTheRestAlone() {
        MultiLayerNetwork net = trained();
        int p = (int) net.numParams();
        float[] before = NetState.vector(net);
        float[] into = noise(before.length, 8);
        float[] rest = java.util.Arrays.copyOfRange(into, p, into.length);
        assertArrayEquals(java.util.Arrays.copyOf(before, p),
            java.util.Arrays.copyOf(NetState.vector(net, into, p), p));
        assertArrayEquals(rest, java.util.Arrays.copyOfRange(into, p, into.length), "the state is not read");
        float[] written = noise(before.length, 9);
        NetState.apply(net, written, p);
        float[] after = NetState.vector(net);
        assertArrayEquals(java.util.Arrays.copyOf(written, p), java.util.Arrays.copyOf(after, p));
        assertArrayEquals(java.util.Arrays.copyOfRange(before, p, before.length),
            java.util.Arrays.copyOfRange(after, p, after.length), "the state is not written");
        assertEquals("a round averages the " + p + " parameters or all " + before.length + " floats, not 7",
            assertThrows(IllegalArgumentException.class, () -> NetState.apply(net, written, 7)).getMessage());
    }
}
