package dev.sparkmnist.app;

import picocli.CommandLine.Option;

/** train's checkpoint options: where and how often to write them, and which one to continue. */
final class CheckpointArgs {
    @Option(names = "--checkpoint-dir", paramLabel = "DIR",
        description = "Write the model (as model.zip: parameters, updater state, normalization; evaluate"
            + " --model-path reads it) to DIR/epoch-NNN.zip every --checkpoint-every epochs and after the last"
            + " one. Any Hadoop path; it must hold no epoch-*.zip yet. Checkpoints are kept when a run fails."
            + " No default (no checkpoints).")
    String dir;

    @Option(names = "--checkpoint-every", paramLabel = "N",
        description = "Epochs between checkpoints (needs --checkpoint-dir). Defaults to 1.")
    Integer every;

    /** --checkpoint-every, or its default. */
    int interval() {
        return every == null ? 1 : every;
    }

    @Option(names = "--resume", defaultValue = "false",
        description = "Continue from the newest checkpoint in --checkpoint-dir (a run killed or stopped early:"
            + " run the same command again with --resume) and keep writing checkpoints there; the earlier"
            + " epochs' figures (metrics.json beside the checkpoints) stay in the report. Model options may be"
            + " given only as the checkpoint has them. With no checkpoint yet it starts from epoch 1 and says so."
            + " Defaults to false.")
    boolean resume;

    @Option(names = "--resume-from", paramLabel = "ZIP",
        description = "Continue training a checkpoint (or a run's model.zip) written by this program, from the"
            + " epoch after the ones it holds up to --epochs: its parameters, updater state, model options,"
            + " normalization and seed are used, so model options may not be given (--model only if it names"
            + " the checkpoint's). No default.")
    String resumeFrom;
}
