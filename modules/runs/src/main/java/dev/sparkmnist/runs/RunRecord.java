package dev.sparkmnist.runs;

import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.training.TrainingOptions;
import java.util.Map;

/**
 * What a train run was asked to do, resolved: what {@link RunFiles} records of it beside the outcome. The command
 * builds it; nothing here reads the command.
 *
 * @param invocation how the run was started
 * @param model the model options in effect (a resumed run's are the checkpoint's)
 * @param training the training options in effect
 * @param train the training split
 * @param test the test split
 * @param memory the memory plan's figures and what was measured (provenance.json's "memory")
 * @param resumedFrom the checkpoint the run continued, or null
 * @param checkpoints where and how often checkpoints were written, or null
 */
public record RunRecord(Invocation invocation, ModelOptions model, TrainingOptions training, MnistSet train,
                        MnistSet test, Map<String, Object> memory, String resumedFrom, Checkpointing checkpoints) {

    /**
     * How the run was started.
     *
     * @param mode spark, local or mllib
     * @param master the Spark master URL, or null when no Spark context was used
     * @param commandLine the command line as given, credentials redacted, or null when not started from one
     * @param dataDir the --data-dir
     */
    public record Invocation(String mode, String master, String commandLine, String dataDir) {
    }

    /**
     * Checkpointing of the run.
     *
     * @param dir --checkpoint-dir
     * @param every epochs between checkpoints
     */
    public record Checkpointing(String dir, int every) {
    }
}
