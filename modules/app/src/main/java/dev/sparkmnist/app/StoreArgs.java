package dev.sparkmnist.app;

import dev.sparkmnist.runs.Stores;
import picocli.CommandLine.Option;

/** The deadline for the stores a command names to answer first ({@link Stores}), shared by the commands. */
final class StoreArgs {
    @Option(names = Stores.OPTION, defaultValue = "" + Stores.DEFAULT_TIMEOUT_SECONDS, paramLabel = "SECONDS",
        description = "How long each store the command names (HDFS, S3A, a mount) and its master (a standalone"
            + " master, YARN's ResourceManager) may take to answer first, without retries, before the command fails"
            + " with one line naming it. Defaults to ${DEFAULT-VALUE}.")
    long timeoutSeconds = Stores.DEFAULT_TIMEOUT_SECONDS;
}
