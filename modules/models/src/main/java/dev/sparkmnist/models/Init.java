package dev.sparkmnist.models;

import org.deeplearning4j.nn.weights.WeightInit;

/** Weight initialisation. */
public enum Init {
    /** Glorot/Xavier: variance 2/(fanIn+fanOut). */
    XAVIER(WeightInit.XAVIER),
    /** Kaiming/He: variance 2/fanIn, for ReLU-family activations. Also accepted as {@code he}/{@code kaiming}. */
    RELU(WeightInit.RELU);

    private final WeightInit dl4j;

    Init(WeightInit dl4j) {
        this.dl4j = dl4j;
    }

    WeightInit dl4j() {
        return dl4j;
    }

    /** Parses a user's name, accepting the Kaiming/He aliases. */
    public static Init parse(String name) {
        String n = name.trim().toLowerCase(java.util.Locale.ROOT);
        return switch (n) {
            case "xavier", "glorot" -> XAVIER;
            case "relu", "he", "kaiming" -> RELU;
            default -> throw new IllegalArgumentException(
                "--weight-init (" + name + ") must be one of xavier, relu (he, kaiming)");
        };
    }
}
