package dev.sparkmnist.evaluation;

import java.io.Serializable;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Counts and loss accumulated over some batches; partial results from partitions merge into one. The loss is the
 * sum of per-example losses (no regularisation term), accumulated in double precision.
 */
public final class PartialEvaluation implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int classes;
    private final Evaluation evaluation;
    private double lossSum;
    private long examples;

    public PartialEvaluation(int classes) {
        this.classes = classes;
        this.evaluation = new Evaluation(classes);
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
        evaluation.eval(batch.getLabels(), output);
        double[] perExample = perExampleLoss.toDoubleVector();
        for (double loss : perExample) {
            lossSum += loss;
        }
        examples += perExample.length;
        return this;
    }

    /** Adds {@code other} into this one and returns this. */
    public PartialEvaluation merge(PartialEvaluation other) {
        if (other.classes != classes) {
            throw new IllegalArgumentException("cannot merge " + other.classes + "-class into " + classes
                + "-class evaluation");
        }
        evaluation.merge(other.evaluation);
        lossSum += other.lossSum;
        examples += other.examples;
        return this;
    }

    public long examples() {
        return examples;
    }

    /** The final report. */
    public EvaluationReport report() {
        return EvaluationReport.of(classes, evaluation, lossSum, examples);
    }
}
