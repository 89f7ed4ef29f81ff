package dev.sparkmnist.app;

import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.scoring.DataFormat;
import picocli.CommandLine.Option;

/** train's data options: where the digits are and in which format, how pixels are normalised, smoke-run limits. */
final class DataArgs {
    @Option(names = "--data-dir", defaultValue = "data/mnist", paramLabel = "DIR",
        description = "Directory (any Hadoop path) with the four MNIST idx files, raw or .gz. Defaults to"
            + " ${DEFAULT-VALUE}.")
    String dataDir;

    @Option(names = "--data-format", defaultValue = "auto", paramLabel = "FORMAT",
        description = "auto, idx, csv, parquet or images. idx: the four MNIST files in --data-dir; the others: a"
            + " training and a test input in --data-dir named train* and test* (mnist_train.csv and mnist_test.csv,"
            + " train.parquet and test.parquet, train/ and test/ with a folder per class), read and checked on the"
            + " executors and staged as idx files under hadoop.tmp.dir for the run. auto: idx when the MNIST files are"
            + " there, else from the names. Defaults to ${DEFAULT-VALUE}.")
    DataFormat format;

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
