package dev.sparkmnist.app;

import picocli.CommandLine.Option;

/** Output options shared by the commands. */
final class OutputArgs {
    @Option(names = "--output", paramLabel = "DIR",
        description = "Output directory (any Hadoop path); must not exist unless --overwrite. Defaults to"
            + " runs/MODEL-TIMESTAMP for train; evaluate prints only.")
    String output;

    @Option(names = "--overwrite", defaultValue = "false",
        description = "Replace an existing output directory once the new one is complete. Defaults to false.")
    boolean overwrite;
}
