package dev.sparkmnist.training.resident;

import java.io.Serializable;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A network as plain Java values, broadcast to the workers at the start of a stage: configuration JSON (with its
 * iteration and epoch counts, which drive Adam's bias correction and per-epoch learning-rate schedules), parameters
 * and updater state. Plain arrays, so nothing Spark could close under the driver (the dl4j-spark evaluation bug).
 *
 * <p>Averaging works on one flat vector: the parameters followed by the updater state (momentum, Adam moments), as
 * DL4J's parameter averaging averages both.
 */
final class NetState implements Serializable {
    private static final long serialVersionUID = 1L;
    private final String configurationJson;
    private final float[] vector;
    private final int parameters;

    private NetState(String configurationJson, float[] vector, int parameters) {
        this.configurationJson = configurationJson;
        this.vector = vector;
        this.parameters = parameters;
    }

    static NetState of(MultiLayerNetwork net) {
        return new NetState(net.getLayerWiseConfigurations().toJson(), vector(net), (int) net.numParams());
    }

    /** A new network equal to the snapshot: configuration, parameters, updater state. */
    MultiLayerNetwork restore() {
        MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configurationJson));
        net.init(Nd4j.create(java.util.Arrays.copyOf(vector, parameters), new long[] {1, parameters}, 'c'), false);
        int state = vector.length - parameters;
        if (state > 0) {
            INDArray view = Nd4j.create(java.util.Arrays.copyOfRange(vector, parameters, vector.length),
                new long[] {1, state}, 'c');
            net.setUpdater(new MultiLayerUpdater(net, view));
        }
        return net;
    }

    /** Floats in the averaged vector (parameters and updater state). */
    int length() {
        return vector.length;
    }

    /** The network's parameters followed by its updater state. */
    static float[] vector(MultiLayerNetwork net) {
        float[] params = net.params().toFloatVector();
        INDArray state = net.getUpdater() == null ? null : net.getUpdater().getStateViewArray();
        if (state == null || state.length() == 0) {
            return params;
        }
        float[] s = state.toFloatVector();
        float[] out = java.util.Arrays.copyOf(params, params.length + s.length);
        System.arraycopy(s, 0, out, params.length, s.length);
        return out;
    }

    /** Writes {@code vector} (from {@link #vector}) back into the network's parameters and updater state. */
    static void apply(MultiLayerNetwork net, float[] vector) {
        int p = (int) net.numParams();
        net.params().assign(Nd4j.create(java.util.Arrays.copyOf(vector, p), new long[] {1, p}, 'c'));
        if (vector.length > p) {
            INDArray state = net.getUpdater().getStateViewArray();
            if (state.length() != vector.length - p) {
                throw new IllegalStateException("updater state has " + state.length() + " values, the averaged"
                    + " vector " + (vector.length - p));
            }
            state.assign(Nd4j.create(java.util.Arrays.copyOfRange(vector, p, vector.length),
                state.shape(), state.ordering()));
        }
    }
}
