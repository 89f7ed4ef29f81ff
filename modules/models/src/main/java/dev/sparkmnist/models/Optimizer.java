package dev.sparkmnist.models;

/** The updater. DL4J's momentum SGD is Nesterov's; {@code momentum} is accepted as its alias. */
public enum Optimizer {
    SGD,
    NESTEROV,
    ADAM;

    /** Parses a user's name, accepting {@code momentum} for Nesterov momentum SGD. */
    public static Optimizer parse(String name) {
        String n = name.trim().toLowerCase(java.util.Locale.ROOT);
        return switch (n) {
            case "sgd" -> SGD;
            case "momentum", "nesterov", "nesterovs" -> NESTEROV;
            case "adam" -> ADAM;
            default -> throw new IllegalArgumentException(
                "--updater (" + name + ") must be one of sgd, momentum (nesterov), adam");
        };
    }
}
