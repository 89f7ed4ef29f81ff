package dev.sparkmnist.report;

import dev.sparkmnist.data.Normalization;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What the report shows of a trained network: its parameters, first-layer filters, feature maps and mistakes. */
public final class NetworkViews {
    /** Examples per forward pass when scoring the test digits. */
    static final int BATCH = 500;

    private NetworkViews() {
    }

    /**
     * A layer's parameters.
     *
     * @param name layer index and type, e.g. {@code 0 (ConvolutionLayer)}
     * @param weights the "W" values
     * @param biases the "b" values
     */
    public record LayerParams(String name, float[] weights, float[] biases) {
    }

    /**
     * A test digit the model got wrong.
     *
     * @param index position in the test split
     * @param actual the true class
     * @param predicted the predicted class
     * @param confidence the predicted class's probability
     */
    public record Mistake(int index, int actual, int predicted, double confidence) {
    }

    /** Every layer that has weights, in order. */
    public static List<LayerParams> parameters(MultiLayerNetwork net) {
        List<LayerParams> out = new ArrayList<>();
        for (Layer layer : net.getLayers()) {
            Map<String, INDArray> table = layer.paramTable();
            INDArray w = table.get("W");
            if (w == null) {
                continue;
            }
            INDArray b = table.get("b");
            out.add(new LayerParams(layer.getIndex() + " (" + layer.conf().getLayer().getClass().getSimpleName() + ")",
                w.dup().data().asFloat(), b == null ? new float[0] : b.dup().data().asFloat()));
        }
        return out;
    }

    /** Whether the first layer is a convolution (LeNet), whose filters and feature maps can be drawn. */
    public static boolean hasConvolutionFirst(MultiLayerNetwork net) {
        return net.getLayerWiseConfigurations().getConf(0).getLayer() instanceof ConvolutionLayer;
    }

    /** The first layer's filters {@code [filters][kh][kw]} (single input channel). */
    public static float[][][] firstFilters(MultiLayerNetwork net) {
        INDArray w = net.getLayer(0).getParam("W"); // [out, in, kh, kw]
        long[] shape = w.shape();
        float[][][] filters = new float[(int) shape[0]][(int) shape[2]][(int) shape[3]];
        for (int f = 0; f < shape[0]; f++) {
            for (int y = 0; y < shape[2]; y++) {
                for (int x = 0; x < shape[3]; x++) {
                    filters[f][y][x] = w.getFloat(f, 0, y, x);
                }
            }
        }
        return filters;
    }

    /**
     * The first two layers' activations on one digit, by layer name: {@code convolution} (after the first
     * convolution and its activation) and {@code pooling} (after the pooling that follows), each {@code [maps][h][w]}.
     */
    public static Map<String, float[][][]> featureMaps(MultiLayerNetwork net, INDArray digit) {
        List<INDArray> acts = net.feedForwardToLayer(1, digit, false);
        Map<String, float[][][]> maps = new LinkedHashMap<>();
        maps.put("convolution", maps(acts.get(1)));
        maps.put("pooling", maps(acts.get(2)));
        return maps;
    }

    private static float[][][] maps(INDArray act) { // [1, c, h, w]
        long[] s = act.shape();
        float[][][] out = new float[(int) s[1]][(int) s[2]][(int) s[3]];
        for (int c = 0; c < s[1]; c++) {
            for (int y = 0; y < s[2]; y++) {
                for (int x = 0; x < s[3]; x++) {
                    out[c][y][x] = act.getFloat(0, c, y, x);
                }
            }
        }
        return out;
    }

    /** The test digits the network gets wrong, most confident first, at most {@code max}. */
    public static List<Mistake> mistakes(MultiLayerNetwork net, TestDigits digits, Normalization normalization,
                                         int max) {
        List<Mistake> wrong = new ArrayList<>();
        for (int from = 0; from < digits.size(); from += BATCH) {
            int to = Math.min(digits.size(), from + BATCH);
            // the batch's probabilities copied out once: an ND4J view and argMax op per digit took 8.6 of a cold
            // report command's 10 s (LeNet-5, the 10,000 t10k digits)
            float[][] probs = net.output(digits.features(from, to, normalization), false).toFloatMatrix();
            for (int i = from; i < to; i++) {
                float[] row = probs[i - from];
                int predicted = argMax(row);
                if (predicted != digits.labels()[i]) {
                    wrong.add(new Mistake(i, digits.labels()[i], predicted, row[predicted]));
                }
            }
        }
        wrong.sort(Comparator.comparingDouble(Mistake::confidence).reversed().thenComparingInt(Mistake::index));
        return wrong.subList(0, Math.min(max, wrong.size()));
    }

    /** The index of the largest value, the first of equal ones (as ND4J's argMax). */
    static int argMax(float[] values) {
        int best = 0;
        for (int k = 1; k < values.length; k++) {
            if (values[k] > values[best]) {
                best = k;
            }
        }
        return best;
    }
}
