package dev.sparkmnist.models;

import java.util.function.Supplier;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMAE;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;

/**
 * Output loss and the output activation it goes with. Per example, MSE, L1 and SmoothL1 average over the 10
 * outputs (PyTorch's mean reduction over a minibatch); cross-entropy, NLL and BCE sum over them, as DL4J defines
 * them (for BCE that is 10x PyTorch's mean {@code BCELoss}).
 */
public enum Loss {
    /** Multi-class cross-entropy on softmax outputs (PyTorch's CrossEntropyLoss). */
    MCXENT(LossMCXENT::new, Activation.SOFTMAX),
    /** Negative log-likelihood on softmax outputs; identical to MCXENT for one-hot labels. */
    NEGATIVELOGLIKELIHOOD(LossNegativeLogLikelihood::new, Activation.SOFTMAX),
    /** Mean squared error on the softmax outputs. */
    MSE(LossMSE::new, Activation.SOFTMAX),
    /** Binary cross-entropy on sigmoid outputs, one independent probability per class (PyTorch's BCELoss). */
    BCE(LossBinaryXENT::new, Activation.SIGMOID),
    /** Mean absolute error on the softmax outputs (PyTorch's L1Loss). */
    L1(LossMAE::new, Activation.SOFTMAX),
    /** Smooth L1 with beta 1 on the softmax outputs (PyTorch's SmoothL1Loss; {@link LossSmoothL1}). */
    SMOOTHL1(LossSmoothL1::new, Activation.SOFTMAX);

    private final Supplier<ILossFunction> function;
    private final Activation outputActivation;

    Loss(Supplier<ILossFunction> function, Activation outputActivation) {
        this.function = function;
        this.outputActivation = outputActivation;
    }

    /** A new DL4J loss function. */
    ILossFunction function() {
        return function.get();
    }

    /** The output layer's activation. */
    public Activation outputActivation() {
        return outputActivation;
    }
}
