package dev.sparkmnist.app;

import dev.sparkmnist.data.Normalization;
import picocli.CommandLine.Option;

/** train's data options: where the idx files are, how pixels are normalised, smoke-run limits. */
final class DataArgs {
    @Option(names = "--data-dir", defaultValue = "data/mnist", paramLabel = "DIR",
        description = "Directory (any Hadoop path) with the four MNIST idx files, raw or .gz. Defaults to"
            + " ${DEFAULT-VALUE}.")
    String dataDir;

    @Option(names = "--normalization", defaultValue = "standardize", paramLabel = "KIND",
        description = "standardize ((x/255-0.1307)/0.3081) or scale (x/255). Defaults to ${DEFAULT-VALUE}.")
    Normalization normalization;

    @Option(names = "--limit-train", defaultValue = "0", paramLabel = "N",
        description = "Use only the first N training examples (0 = all; smoke runs). Defaults to 0.")
    int limitTrain;

    @Option(names = "--limit-test", defaultValue = "0", paramLabel = "N",
        description = "Use only the first N test examples (0 = all; smoke runs). Defaults to 0.")
    int limitTest;
}
