package dev.sparkmnist.models;

import org.deeplearning4j.nn.conf.inputs.InputType;

/** The two networks. Both take flat 784-pixel rows; LeNet reshapes them to 1x28x28. */
public enum Architecture {
    /** Dense 784-256-128-10: 235,146 parameters. */
    MLP,
    /**
     * conv5x5x6, maxpool2, conv5x5x16, maxpool2, dense 120, dense 84, softmax 10: 44,426 parameters on 28x28 inputs,
     * 61,706 with the input padded by 2 (LeCun's 32x32; {@code ModelOptions.inputPadding}).
     */
    LENET;

    /** MNIST image side. */
    public static final int SIDE = 28;

    /** What the first layer takes (a flat row; LeNet reshapes it). */
    public InputType inputType() {
        return this == MLP ? InputType.feedForward((long) SIDE * SIDE) : InputType.convolutionalFlat(SIDE, SIDE, 1);
    }
}
