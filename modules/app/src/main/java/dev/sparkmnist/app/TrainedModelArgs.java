package dev.sparkmnist.app;

import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.runs.ModelFiles;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Option;

/** The trained model a command uses (evaluate, predict, score) and the normalisation its inputs get. */
final class TrainedModelArgs {
    @Option(names = "--model-path", required = true, paramLabel = "ZIP",
        description = "A model.zip or checkpoint written by train (any Hadoop path). Required.")
    String path;

    @Option(names = "--normalization", paramLabel = "KIND",
        description = "standardize or scale. Defaults to what the model was trained with.")
    Normalization normalization;

    /** The model and the normalisation to feed it: --normalization, else the one the model records. */
    record Resolved(ModelFiles.Loaded model, Normalization normalization) {
    }

    /** Loads the model; fails with one line when neither it nor --normalization says how to normalise. */
    Resolved load(Configuration hadoop) {
        ModelFiles.Loaded loaded = ModelFiles.load(path, hadoop);
        Normalization norm = normalization != null ? normalization : loaded.normalization();
        if (norm == null) {
            throw new InvalidInputException("--model-path (" + path + ") does not record its input normalization:"
                + " pass --normalization");
        }
        return new Resolved(loaded, norm);
    }
}
