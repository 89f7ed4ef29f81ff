package dev.sparkmnist.training.resident;

import dev.sparkmnist.models.ExchangeBlend;
import dev.sparkmnist.models.HostArrays;
import java.io.Serializable;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A network as plain Java values, broadcast to the workers at the start of a stage: its configuration (a copy of its
 * own, with the iteration and epoch counts, which drive Adam's bias correction and per-epoch learning-rate schedules),
 * parameters and updater state. Plain arrays and DL4J's serialisable configuration objects, so nothing Spark could
 * close under the driver (the dl4j-spark evaluation bug).
 *
 * <p>The configuration travels as objects, not as DL4J's JSON: the JSON's first write and read in a JVM took 450 ms
 * and 120-170 ms of the first stage of a local run (Jackson's set-up for DL4J's classes, the JIT cold), on the
 * workers' cores, before either could train; a copy of the objects takes under a millisecond (BENCHMARKS.md, round
 * 31). Each restored network gets its own copy ({@link #copy}), as DL4J's own {@code MultiLayerNetwork.clone()} does.
 *
 * <p>Averaging works on one flat vector: the parameters followed by the updater state (momentum, Adam moments), as
 * DL4J's parameter averaging averages both; a round that averages the parameters alone
 * ({@code --updater-averaging stage}) works on the vector's first {@code numParams} floats.
 */
final class NetState implements Serializable {
    private static final long serialVersionUID = 2L; // 2: the configuration as objects, not JSON
    private final MultiLayerConfiguration configuration;
    private final float[] vector;
    private final int parameters;

    private NetState(MultiLayerConfiguration configuration, float[] vector, int parameters) {
        this.configuration = configuration;
        this.vector = vector;
        this.parameters = parameters;
    }

    static NetState of(MultiLayerNetwork net) {
        return new NetState(copy(net.getLayerWiseConfigurations()), vector(net), (int) net.numParams());
    }

    /** A new network equal to the snapshot: configuration, parameters, updater state. */
    MultiLayerNetwork restore() {
        MultiLayerNetwork net = new MultiLayerNetwork(copy(configuration));
        net.init(HostArrays.create(vector, 0, 1, parameters), false);
        int state = vector.length - parameters;
        // the training layers first, then the updater on them, on the snapshot's state
        dev.sparkmnist.models.Models.forTraining(net, state > 0 ? HostArrays.create(vector, parameters, 1, state)
            : null);
        return net;
    }

    /**
     * A copy of {@code conf} that shares no object a network may change: DL4J's {@code clone()} (each layer's
     * configuration, the input pre-processors), and each layer's updaters, which that clone leaves shared.
     */
    static MultiLayerConfiguration copy(MultiLayerConfiguration conf) {
        MultiLayerConfiguration copy = conf.clone();
        for (NeuralNetConfiguration layer : copy.getConfs()) {
            if (layer.getLayer() instanceof BaseLayer b) {
                if (b.getIUpdater() != null) {
                    b.setIUpdater(b.getIUpdater().clone());
                }
                if (b.getBiasUpdater() != null) {
                    b.setBiasUpdater(b.getBiasUpdater().clone());
                }
            }
        }
        return copy;
    }

    /** Floats in the averaged vector (parameters and updater state). */
    int length() {
        return vector.length;
    }

    /** The network's parameters followed by its updater state, written into {@code into} when it fits. */
    static float[] vector(MultiLayerNetwork net, float[] into) {
        return vector(net, into, length(net));
    }

    /**
     * The same, of which only the first {@code length} floats (the parameters alone, or all) are read from the
     * network; the rest of {@code into} is left as it was.
     */
    static float[] vector(MultiLayerNetwork net, float[] into, int length) {
        INDArray params = net.params();
        INDArray state = updaterState(net);
        int p = (int) params.length();
        int s = state == null ? 0 : (int) state.length();
        checkLength(length, p, s);
        float[] out = into != null && into.length == p + s ? into : new float[p + s];
        HostArrays.read(params, out, 0);
        if (s > 0 && length > p) {
            HostArrays.read(state, out, p);
        }
        return out;
    }

    /** Floats in the network's vector: its parameters and its updater state. */
    static int length(MultiLayerNetwork net) {
        INDArray state = updaterState(net);
        return (int) (net.numParams() + (state == null ? 0 : state.length()));
    }

    private static void checkLength(int length, int p, long s) {
        if (length != p && length != p + s) {
            throw new IllegalArgumentException("a round averages the " + p + " parameters or all " + (p + s)
                + " floats, not " + length);
        }
    }

    /** The network's parameters followed by its updater state. */
    static float[] vector(MultiLayerNetwork net) {
        return vector(net, null);
    }

    /** Writes {@code vector} (from {@link #vector}) back into the network's parameters and updater state. */
    static void apply(MultiLayerNetwork net, float[] vector) {
        apply(net, vector, vector.length);
    }

    /** The same for the first {@code length} floats: the parameters alone, or all. */
    static void apply(MultiLayerNetwork net, float[] vector, int length) {
        INDArray params = net.params();
        int p = (int) params.length();
        INDArray state = updaterState(net);
        long s = state == null ? 0 : state.length();
        if (vector.length != p + s) {
            throw new IllegalStateException("the network has " + p + " parameters and " + s + " updater values,"
                + " the averaged vector " + vector.length);
        }
        checkLength(length, p, s);
        HostArrays.write(vector, 0, params);
        if (s > 0 && length > p) {
            HostArrays.write(vector, p, state);
        }
    }

    /**
     * The overlapped exchange's step at the end of a round ({@link OverlappedExchange}), in one pass over the
     * network's parameters and updater state: each value {@code x} becomes {@code mean[i] + (x - sent[i])} when
     * {@code collect} ({@code mean} holds the last exchange's mean; else {@code x} stays), and is written to the
     * network, to {@code sent} and to {@code mean}, which is then the next contribution. The same floats as
     * {@link #vector}, that arithmetic, two copies and {@link #apply} in turn, with about half the memory traffic and
     * no temporary of the vector's length: on the CPU backend the off-heap buffers are read and written in place, a
     * few thousand floats at a time.
     */
    static void blend(MultiLayerNetwork net, float[] mean, float[] sent, boolean collect) {
        blend(net, mean, sent, collect ? mean.length : 0, mean.length);
    }

    /**
     * The same where the last exchange averaged the first {@code collected} floats (0: there was none) and the next
     * sends the first {@code sending}, each the parameters alone or the whole vector: the updater state is corrected
     * only when it was averaged and copied only when it is sent, and not touched otherwise.
     */
    static void blend(MultiLayerNetwork net, float[] mean, float[] sent, int collected, int sending) {
        INDArray params = net.params();
        INDArray state = updaterState(net);
        int p = (int) params.length();
        long s = state == null ? 0 : state.length();
        if (mean.length != p + s || sent.length != mean.length) {
            throw new IllegalStateException("the network has " + p + " parameters and " + s + " updater values,"
                + " the exchanged vectors " + mean.length + " and " + sent.length);
        }
        if (collected != 0) {
            checkLength(collected, p, s);
        }
        checkLength(sending, p, s);
        blend(params, 0, mean, sent, collected > 0);
        if (s > 0 && (collected > p || sending > p)) {
            blend(state, p, mean, sent, collected > p);
        }
    }

    /** Floats blended at a time: small enough to stay in the core's first-level cache. */
    private static final int CHUNK = 2048;

    private static void blend(INDArray array, int at, float[] mean, float[] sent, boolean collect) {
        if (collect && ExchangeBlend.blend(array, at, mean, sent)) {
            return; // the vector kernel, once compiled: the same floats as the loop below
        }
        int n = (int) array.length();
        java.nio.FloatBuffer host = HostArrays.hostBuffer(array);
        if (host == null) { // another backend: one copy out and one back
            float[] values = new float[n];
            HostArrays.read(array, values, 0);
            blend(values, 0, n, mean, sent, at, collect);
            if (collect) {
                HostArrays.write(values, 0, array);
            }
            return;
        }
        int base = host.position();
        float[] chunk = new float[Math.min(n, CHUNK)];
        for (int done = 0; done < n; done += CHUNK) {
            int len = Math.min(CHUNK, n - done);
            host.get(base + done, chunk, 0, len);
            blend(chunk, 0, len, mean, sent, at + done, collect);
            if (collect) {
                host.put(base + done, chunk, 0, len);
            }
        }
    }

    private static void blend(float[] values, int from, int len, float[] mean, float[] sent, int at,
                              boolean collect) {
        if (collect) {
            for (int i = 0; i < len; i++) {
                float x = mean[at + i] + (values[from + i] - sent[at + i]);
                values[from + i] = x;
                sent[at + i] = x;
                mean[at + i] = x;
            }
        } else {
            System.arraycopy(values, from, sent, at, len);
            System.arraycopy(values, from, mean, at, len);
        }
    }

    private static INDArray updaterState(MultiLayerNetwork net) {
        INDArray state = net.getUpdater() == null ? null : net.getUpdater().getStateViewArray();
        return state == null || state.length() == 0 ? null : state;
    }
}
