package dev.sparkmnist.models;

/**
 * The updater: plain SGD; classical (heavy-ball) momentum as PyTorch's {@code SGD(momentum=0.9)} computes it
 * ({@link ClassicalMomentum}); Nesterov momentum (DL4J's {@code Nesterovs}); Adam.
 */
public enum Optimizer {
    SGD,
    MOMENTUM,
    NESTEROV,
    ADAM;

    /** Parses a user's name. */
    public static Optimizer parse(String name) {
        String n = name.trim().toLowerCase(java.util.Locale.ROOT);
        return switch (n) {
            case "sgd" -> SGD;
            case "momentum", "classical", "heavy-ball" -> MOMENTUM;
            case "nesterov", "nesterovs" -> NESTEROV;
            case "adam" -> ADAM;
            default -> throw new IllegalArgumentException(
                "--updater (" + name + ") must be one of sgd, momentum (classical), nesterov, adam");
        };
    }
}
