package dev.sparkmnist.evaluation;

import dev.sparkmnist.models.HostArrays;
import java.io.Serializable;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Counts and loss accumulated over some batches; partial results from partitions merge into one. The loss is the
 * sum of per-example losses (no regularisation term), accumulated in double precision. The confusion matrix is
 * counted in Java from the outputs' and labels' floats (the first largest of each row, as ND4J's {@code argMax} and
 * DL4J's {@code Evaluation} choose): DL4J's {@code Evaluation} runs ND4J's generic code on integer arrays, whose
 * first use after an epoch made the JIT throw away code compiled for the training step's float arrays
 * (BENCHMARKS.md, round 19).
 */
public final class PartialEvaluation implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int classes;
    /** {@code confusion[actual][predicted]}. */
    private final long[][] confusion;
    private double lossSum;
    private long examples;

    public PartialEvaluation(int classes) {
        this.classes = classes;
        this.confusion = new long[classes][classes];
    }

    /**
     * Scores one batch with {@code net} (inference mode) and adds it: one forward pass gives both the predictions and
     * the per-example losses. DL4J's {@code output} and {@code scoreExamples} each run the whole network, so taking
     * them one after the other ran every layer twice; here the layers below the output layer run once and the output
     * layer gives both, with the same operations as those two calls ({@code PartialEvaluationTest}: the same counts
     * and the same loss to the last bit). Batches with masks and networks whose last layer has no loss take the two
     * calls.
     */
    public PartialEvaluation add(MultiLayerNetwork net, DataSet batch) {
        int last = net.getnLayers() - 1;
        if (last < 1 || !(net.getOutputLayer() instanceof IOutputLayer) || batch.getFeaturesMaskArray() != null
            || batch.getLabelsMaskArray() != null) {
            return add(net.output(batch.getFeatures(), false), net.scoreExamples(batch, false), batch);
        }
        LayerWorkspaceMgr noWorkspaces = LayerWorkspaceMgr.noWorkspaces();
        List<INDArray> activations = net.feedForwardToLayer(last - 1, batch.getFeatures(), false);
        INDArray input = activations.get(activations.size() - 1);
        InputPreProcessor preprocessor = net.getLayerWiseConfigurations().getInputPreProcess(last);
        if (preprocessor != null) {
            input = preprocessor.preProcess(input, (int) batch.getFeatures().size(0), noWorkspaces);
        }
        Layer outputLayer = net.getOutputLayer();
        try {
            INDArray output = outputLayer.activate(input, false, noWorkspaces);
            IOutputLayer scorer = (IOutputLayer) outputLayer;
            scorer.setLabels(batch.getLabels());
            scorer.setInput(input, noWorkspaces);
            return add(output, scorer.computeScoreForExamples(0, noWorkspaces), batch);
        } finally {
            net.clearLayersStates();
        }
    }

    private PartialEvaluation add(INDArray output, INDArray perExampleLoss, DataSet batch) {
        INDArray labels = batch.getLabels();
        if (output.rank() != 2 || output.size(1) != classes || !java.util.Arrays.equals(output.shape(), labels.shape())) {
            throw new IllegalArgumentException("outputs " + java.util.Arrays.toString(output.shape()) + " and labels "
                + java.util.Arrays.toString(labels.shape()) + " must both be [examples, " + classes + "]");
        }
        int n = (int) output.size(0);
        float[] predicted = new float[n * classes];
        float[] actual = new float[n * classes];
        HostArrays.read(output, predicted, 0);
        HostArrays.read(labels, actual, 0);
        for (int r = 0; r < n; r++) {
            confusion[firstLargest(actual, r * classes, classes)][firstLargest(predicted, r * classes, classes)]++;
        }
        float[] losses = new float[(int) perExampleLoss.length()];
        HostArrays.read(perExampleLoss, losses, 0);
        for (float loss : losses) {
            lossSum += loss;
        }
        examples += losses.length;
        return this;
    }

    /** The index of the first largest of {@code values[from..from+n)} (0 when none is larger than the first: NaNs). */
    static int firstLargest(float[] values, int from, int n) {
        int best = 0;
        float max = values[from];
        for (int k = 1; k < n; k++) {
            if (values[from + k] > max) {
                max = values[from + k];
                best = k;
            }
        }
        return best;
    }

    /** Adds {@code other} into this one and returns this. */
    public PartialEvaluation merge(PartialEvaluation other) {
        if (other.classes != classes) {
            throw new IllegalArgumentException("cannot merge " + other.classes + "-class into " + classes
                + "-class evaluation");
        }
        for (int a = 0; a < classes; a++) {
            for (int p = 0; p < classes; p++) {
                confusion[a][p] += other.confusion[a][p];
            }
        }
        lossSum += other.lossSum;
        examples += other.examples;
        return this;
    }

    public long examples() {
        return examples;
    }

    /** The final report. */
    public EvaluationReport report() {
        return EvaluationReport.of(confusion, lossSum, examples);
    }
}
