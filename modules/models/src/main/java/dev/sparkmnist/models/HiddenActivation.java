package dev.sparkmnist.models;

import org.nd4j.linalg.activations.Activation;

/** Activation of the hidden layers (the output layer is always softmax). */
public enum HiddenActivation {
    RELU(Activation.RELU),
    LEAKYRELU(Activation.LEAKYRELU),
    TANH(Activation.TANH),
    SIGMOID(Activation.SIGMOID);

    private final Activation dl4j;

    HiddenActivation(Activation dl4j) {
        this.dl4j = dl4j;
    }

    Activation dl4j() {
        return dl4j;
    }
}
