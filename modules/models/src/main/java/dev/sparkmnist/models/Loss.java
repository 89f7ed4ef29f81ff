package dev.sparkmnist.models;

import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/** Output loss; the output activation is softmax for all of them. */
public enum Loss {
    /** Multi-class cross-entropy (PyTorch's CrossEntropyLoss on softmax outputs). */
    MCXENT(LossFunction.MCXENT),
    /** Negative log-likelihood; identical to MCXENT for one-hot labels. */
    NEGATIVELOGLIKELIHOOD(LossFunction.NEGATIVELOGLIKELIHOOD),
    /** Mean squared error on the softmax outputs. */
    MSE(LossFunction.MSE);

    private final LossFunction dl4j;

    Loss(LossFunction dl4j) {
        this.dl4j = dl4j;
    }

    LossFunction dl4j() {
        return dl4j;
    }
}
