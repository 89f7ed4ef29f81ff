package dev.sparkmnist.models;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.OutputLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * DL4J's output layer, keeping the L1/L2 penalty DL4J added to its last score: DL4J clears its own copy at the end of
 * every fit, so the training loss without the penalty had to compute the penalty again (a norm per weight array,
 * about 0.2 ms a step for the default LeNet-5). Read through {@link Models#scorePenalty}.
 *
 * <p>Installed on a network's output layer by {@link Models#forTraining}; the configuration (and so model.zip) is
 * DL4J's ordinary {@code OutputLayer}.
 */
final class TrainingOutputLayer extends OutputLayer {
    /** The penalty in the last score this layer computed; NaN before the first. */
    private transient double penalty = Double.NaN;

    TrainingOutputLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
        double score = super.computeScore(fullNetRegTerm, training, workspaceMgr);
        penalty = fullNetRegTerm;
        return score;
    }

    double penalty() {
        return penalty;
    }
}
