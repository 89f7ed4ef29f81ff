package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link NetState}: a stage's starting state restores the network it was made from; {@link NetState#blend}, the
 * overlapped exchange's one pass, equals reading, arithmetic, copies and writing back.
 */
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

    /** {@code options}' network after two steps on a few random pictures (flat 784-float rows, as the reader makes). */
    private static MultiLayerNetwork trained(ModelOptions options) {
        MultiLayerNetwork net = Models.network(options);
        Nd4j.getRandom().setSeed(11);
        float[][] labels = new float[8][10];
        for (int i = 0; i < labels.length; i++) {
            labels[i][(3 * i) % 10] = 1;
        }
        DataSet batch = new DataSet(Nd4j.rand(8, 784), Nd4j.create(labels));
        net.fit(batch);
        net.fit(batch);
        return net;
    }

    /** {@code state} as a broadcast carries it to another JVM: Java-serialised and read back. */
    private static NetState travelled(NetState state) throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(state);
        }
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
            new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            return (NetState) in.readObject();
        }
    }

    /**
     * A stage's starting state carries the configuration as objects: a network restored from it, in this JVM (the
     * local handover) or after Java serialisation (a broadcast), has the source's configuration (DL4J's JSON of
     * both equal, the iteration and epoch counts included), parameters, updater state and outputs, and shares no
     * configuration or updater object with the source or with another restore, so that training one leaves the
     * others as they were.
     */
    @Test
    void restoredNetworksEqualTheirSourceAndShareNoConfiguration() throws Exception {
        for (ModelOptions options : new ModelOptions[] {ModelOptions.mlp(), ModelOptions.lenet(),
            ModelOptions.jobDefaults(dev.sparkmnist.models.Architecture.LENET)}) {
            MultiLayerNetwork source = trained(options);
            source.setEpochCount(3);
            String json = source.getLayerWiseConfigurations().toJson();
            float[] vector = NetState.vector(source);
            NetState state = NetState.of(source);
            MultiLayerNetwork here = state.restore();
            MultiLayerNetwork there = travelled(state).restore();
            org.nd4j.linalg.api.ndarray.INDArray input = Nd4j.rand(4, 784);
            for (MultiLayerNetwork restored : new MultiLayerNetwork[] {here, there}) {
                String what = options.architecture() + "/" + options.optimizer();
                assertEquals(json, restored.getLayerWiseConfigurations().toJson(), what + ": configuration");
                assertEquals(3, restored.getEpochCount(), what);
                assertEquals(source.getIterationCount(), restored.getIterationCount(), what);
                assertArrayEquals(vector, NetState.vector(restored), what + ": parameters and updater state");
                assertEquals(source.output(input), restored.output(input), what + ": outputs");
                assertNotSame(source.getLayerWiseConfigurations(), restored.getLayerWiseConfigurations(), what);
                for (int i = 0; i < source.getnLayers(); i++) {
                    org.deeplearning4j.nn.conf.layers.Layer a = source.getLayerWiseConfigurations().getConf(i)
                        .getLayer();
                    org.deeplearning4j.nn.conf.layers.Layer b = restored.getLayerWiseConfigurations().getConf(i)
                        .getLayer();
                    assertNotSame(a, b, what + ": layer " + i);
                    if (a instanceof org.deeplearning4j.nn.conf.layers.BaseLayer base) {
                        assertNotSame(base.getIUpdater(),
                            ((org.deeplearning4j.nn.conf.layers.BaseLayer) b).getIUpdater(), what + ": updater " + i);
                    }
                }
            }
            assertNotSame(here.getLayerWiseConfigurations().getConf(0).getLayer(),
                state.restore().getLayerWiseConfigurations().getConf(0).getLayer(), "each restore its own copy");
            here.fit(new DataSet(input, Nd4j.create(new float[][] {{1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                {0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 0, 0, 0, 0, 0, 0}})));
            assertEquals(source.getIterationCount() + 1, here.getIterationCount(), "trained");
            assertEquals(json, source.getLayerWiseConfigurations().toJson(), "the source's configuration unchanged");
            assertArrayEquals(vector, NetState.vector(there), "another restore unchanged");
            assertArrayEquals(vector, NetState.vector(state.restore()), "the state unchanged");
        }
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
