package dev.sparkmnist.evaluation;

import java.io.Serializable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
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

    /** Scores one batch with {@code net} (inference mode) and adds it. */
    public PartialEvaluation add(MultiLayerNetwork net, DataSet batch) {
        INDArray output = net.output(batch.getFeatures(), false);
        evaluation.eval(batch.getLabels(), output);
        double[] perExample = net.scoreExamples(batch, false).toDoubleVector();
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
