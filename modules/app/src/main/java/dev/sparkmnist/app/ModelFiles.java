package dev.sparkmnist.app;

import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.Normalization;
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
final class ModelFiles {
    static final String MODEL_FILE = "model.zip";
    private static final String NORMALIZATION_KEY = "sparkmnist.normalization";

    private ModelFiles() {
    }

    /** Writes the model (with updater state) into the output's staging directory. */
    static void save(MultiLayerNetwork net, Normalization normalization, AtomicOutput output) {
        try (OutputStream out = output.create(MODEL_FILE)) {
            write(net, normalization, out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the model", e);
        }
    }

    /** Writes the model zip (with updater state and the normalisation) to a stream, which stays open. */
    static void write(MultiLayerNetwork net, Normalization normalization, OutputStream out) throws IOException {
        File tmp = File.createTempFile("sparkmnist-model", ".zip");
        try {
            ModelSerializer.writeModel(net, tmp, true);
            ModelSerializer.addObjectToFile(tmp, NORMALIZATION_KEY, normalization.name());
            Files.copy(tmp.toPath(), out);
        } finally {
            if (!tmp.delete()) {
                tmp.deleteOnExit();
            }
        }
    }

    /** A loaded model and the normalisation it was trained with (null when the zip does not say). */
    record Loaded(MultiLayerNetwork network, Normalization normalization) {
    }

    static Loaded load(String path, Configuration conf) {
        Path p = new Path(path);
        File tmp = null;
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                throw new InvalidInputException("--model-path (" + path + "): file not found");
            }
            tmp = File.createTempFile("sparkmnist-model", ".zip");
            fs.copyToLocalFile(false, p, new Path(tmp.toURI()), true);
            MultiLayerNetwork net;
            try {
                net = ModelSerializer.restoreMultiLayerNetwork(tmp, true);
            } catch (IOException | RuntimeException e) {
                throw new InvalidInputException("--model-path (" + path + ") is not a DL4J MultiLayerNetwork zip: "
                    + e.getMessage(), e);
            }
            Normalization normalization = null;
            try {
                String name = ModelSerializer.getObjectFromFile(tmp, NORMALIZATION_KEY);
                normalization = Normalization.valueOf(name);
            } catch (RuntimeException e) {
                normalization = null; // a model saved by other tools: the user must say
            }
            return new Loaded(net, normalization);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        } finally {
            if (tmp != null && !tmp.delete()) {
                tmp.deleteOnExit();
            }
        }
    }
}
