package dev.sparkmnist.runs;

import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.models.ModelOptions;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * Saves and loads models as DL4J ModelSerializer zips (configuration, parameters, updater state) on any Hadoop file
 * system. The zip also records the input normalisation, so {@code evaluate} feeds the model what it was trained on.
 */
public final class ModelFiles {
    private static final String NORMALIZATION_KEY = "sparkmnist.normalization";
    /** The model options as JSON, so that training can continue from the zip. */
    private static final String MODEL_OPTIONS_KEY = "sparkmnist.modelOptions";
    /** How many epochs the network was trained for. */
    private static final String EPOCHS_KEY = "sparkmnist.epochs";

    private ModelFiles() {
    }

    /** Writes the model (with updater state) into the output's staging directory. */
    static void save(MultiLayerNetwork net, Normalization normalization, ModelOptions model, int epochs,
                     AtomicOutput output) {
        try (OutputStream out = output.create(RunLayout.MODEL_FILE)) {
            write(net, normalization, model, epochs, out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the model", e);
        }
    }

    /**
     * Writes the model zip (with updater state, the normalisation, the model options and the epochs trained) to a
     * stream, which stays open.
     */
    static void write(MultiLayerNetwork net, Normalization normalization, ModelOptions model, int epochs,
                      OutputStream out) throws IOException {
        File tmp = File.createTempFile("sparkmnist-model", ".zip");
        try {
            ModelSerializer.writeModel(net, tmp, true);
            ModelSerializer.addObjectToFile(tmp, NORMALIZATION_KEY, normalization.name());
            ModelSerializer.addObjectToFile(tmp, MODEL_OPTIONS_KEY, RunLayout.JSON.writeValueAsString(model));
            ModelSerializer.addObjectToFile(tmp, EPOCHS_KEY, Integer.toString(epochs));
            Files.copy(tmp.toPath(), out);
        } finally {
            if (!tmp.delete()) {
                tmp.deleteOnExit();
            }
        }
    }

    /**
     * A loaded model and what the zip records of its training; each is null when the zip does not say (a model
     * written by other tools or by an earlier version of this project).
     */
    public record Loaded(MultiLayerNetwork network, Normalization normalization, ModelOptions modelOptions, Integer epochs) {
    }

    public static Loaded load(String path, Configuration conf) {
        return load("--model-path", path, conf);
    }

    /** An object this project added to a model zip, or null when the zip has none. */
    private static String entry(File zip, String key) {
        try {
            return ModelSerializer.getObjectFromFile(zip, key);
        } catch (RuntimeException e) {
            return null; // not in the zip
        }
    }

    /**
     * A model this program wrote must be whole: a run's model.zip needs the run's _SUCCESS marker, a checkpoint its
     * own marker. Other zips (written by other tools) are taken as they are.
     */
    static void requireComplete(FileSystem fs, Path model, String what) throws IOException {
        if (RunLayout.isCheckpoint(model)) {
            if (!Checkpoints.complete(fs, model)) {
                throw new InvalidInputException(what + " has no completion marker " + RunLayout.checkpointMarker(model)
                    .getName() + ": the checkpoint's write did not finish");
            }
        } else if (model.getName().equals(RunLayout.MODEL_FILE)
            && fs.exists(new Path(model.getParent(), RunLayout.PROVENANCE_JSON))) {
            AtomicOutput.requireComplete(fs, model.getParent(), what);
        }
    }

    /** Loads a model zip; messages name {@code option}. */
    public static Loaded load(String option, String path, Configuration conf) {
        Path p = new Path(path);
        File tmp = null;
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                throw new InvalidInputException(option + " (" + path + "): file not found");
            }
            requireComplete(fs, fs.makeQualified(p), option + " (" + path + ")");
            tmp = File.createTempFile("sparkmnist-model", ".zip");
            try {
                fs.copyToLocalFile(false, p, new Path(tmp.toURI()), true);
            } catch (org.apache.hadoop.fs.ChecksumException e) { // the bytes are not those written: disk fault, hand copy
                throw new InvalidInputException(option + " (" + path + ") is corrupt: " + Stores.firstLine(e), e);
            }
            MultiLayerNetwork net;
            try {
                net = ModelSerializer.restoreMultiLayerNetwork(tmp, true);
            } catch (IOException | RuntimeException e) {
                throw new InvalidInputException(option + " (" + path + ") is not a DL4J MultiLayerNetwork zip: "
                    + e.getMessage(), e);
            }
            String name = entry(tmp, NORMALIZATION_KEY);
            Normalization normalization = name == null ? null : Normalization.valueOf(name);
            String json = entry(tmp, MODEL_OPTIONS_KEY);
            ModelOptions model = json == null ? null : RunLayout.JSON.readValue(json, ModelOptions.class);
            String epochs = entry(tmp, EPOCHS_KEY);
            return new Loaded(net, normalization, model, epochs == null ? null : Integer.valueOf(epochs));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        } finally {
            if (tmp != null && !tmp.delete()) {
                tmp.deleteOnExit();
            }
        }
    }
}
