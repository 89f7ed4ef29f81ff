package dev.sparkmnist.app;

import dev.sparkmnist.models.HostArrays;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.runs.ModelFiles;
import dev.sparkmnist.runs.RunFiles;
import dev.sparkmnist.runs.Stores;
import dev.sparkmnist.data.DigitImage;
import dev.sparkmnist.data.IdxHeader;
import dev.sparkmnist.data.IdxKind;
import dev.sparkmnist.data.IdxReader;
import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.runtime.Nd4jRuntime;
import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code predict}: classifies digit pictures or idx images files with a model written by train, in this JVM. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Classify digits with a model written by train: pictures (PNG, JPEG, BMP, GIF; any size and"
        + " colour, one digit each) get MNIST's own preprocessing (greyscale, inverted when the background is light,"
        + " cropped, scaled to fit 20x20, centred by centre of mass in 28x28); idx images files are used as they"
        + " are. Directories are walked. Unreadable files are reported by name and skipped; the exit code is then 2."})
public final class PredictCommand implements Callable<Integer> {
    /** Most files read from one directory given as input. */
    static final int MAX_FILES = 100_000;
    /** Examples per forward pass. */
    static final int BATCH = 500;

    @picocli.CommandLine.Mixin
    TrainedModelArgs trained = new TrainedModelArgs();

    @Option(names = "--top", defaultValue = "3", paramLabel = "K",
        description = "Classes printed per digit, most probable first. Defaults to ${DEFAULT-VALUE}.")
    int top = 3;

    @Option(names = "--json", description = "Print one JSON array (source, index, predictions or error) instead of"
        + " lines. Defaults to false.")
    boolean json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @picocli.CommandLine.Mixin
    StoreArgs stores = new StoreArgs();

    @Parameters(arity = "1..*", paramLabel = "IMAGE_OR_DIR",
        description = "Pictures, idx images files (raw or .gz) or directories of them (any Hadoop path).")
    List<String> inputs;

    /**
     * One class and its probability.
     *
     * @param label the class
     * @param probability the model's probability for it
     */
    public record Guess(int label, double probability) {
    }

    /**
     * The prediction for one digit, or why a file could not be used.
     *
     * @param source the file
     * @param index the record in an idx file, or -1 for a picture
     * @param top the most probable classes, best first (empty with an error)
     * @param error why the file was skipped, or null
     */
    public record Prediction(String source, int index, List<Guess> top, String error) {
    }

    @Override
    public Integer call() {
        List<Prediction> predictions = run();
        java.io.PrintWriter out = spec.commandLine().getOut();
        java.io.PrintWriter err = spec.commandLine().getErr();
        if (json) {
            out.println(RunFiles.json(predictions.stream().map(PredictCommand::asJson).toList()).strip());
        } else {
            for (Prediction p : predictions) {
                if (p.error() == null) {
                    out.println(text(p));
                }
            }
        }
        out.flush();
        long failed = predictions.stream().filter(p -> p.error() != null).count();
        for (Prediction p : predictions) {
            if (p.error() != null) {
                err.println("error: " + p.source() + ": " + p.error());
            }
        }
        if (failed > 0) {
            err.printf(Locale.ROOT, "error: %d file(s) could not be read and were skipped%n", failed);
        }
        err.flush();
        return failed > 0 ? ExitCodes.BAD_INPUT : 0;
    }

    /** Reads every input and predicts; files that cannot be used become predictions with an error. */
    public List<Prediction> run() {
        if (!(top >= 1 && top <= 10)) {
            throw new IllegalArgumentException("--top (" + top + ") must be in 1..10");
        }
        // no Spark here, but spark-submit's spark.hadoop.* settings still apply, as in train and evaluate
        Configuration hadoop = SparkContexts.hadoopWithoutSpark();
        Stores.check(Stores.paths("--model-path", trained.path), hadoop, stores.timeoutSeconds);
        TrainedModelArgs.Resolved resolved = trained.load(hadoop);
        ModelFiles.Loaded model = resolved.model();
        Normalization norm = resolved.normalization();
        Nd4jRuntime.enableHelpers();
        List<Prediction> out = new ArrayList<>();
        List<String> sources = new ArrayList<>();
        List<Integer> indices = new ArrayList<>();
        List<byte[]> digits = new ArrayList<>();
        for (String input : inputs) {
            for (Path file : files(input, hadoop)) {
                try {
                    read(file, hadoop, sources, indices, digits);
                } catch (IOException | RuntimeException e) {
                    out.add(new Prediction(file.toString(), -1, List.of(), message(e)));
                }
            }
        }
        out.addAll(predict(Models.forInference(model.network()), norm, sources, indices, digits));
        return out;
    }

    /** The input's files: itself, or every visible file under a directory, in path order. */
    private static List<Path> files(String input, Configuration hadoop) {
        Path p = new Path(input);
        try {
            FileSystem fs = p.getFileSystem(hadoop);
            if (!fs.exists(p)) {
                throw new InvalidInputException("IMAGE_OR_DIR (" + input + "): no such file or directory");
            }
            FileStatus status = fs.getFileStatus(p);
            if (!status.isDirectory()) {
                return List.of(status.getPath());
            }
            List<Path> found = new ArrayList<>();
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(p, true);
            while (it.hasNext()) {
                Path f = it.next().getPath();
                String name = f.getName();
                if (!name.startsWith(".") && !name.startsWith("_")) { // hidden files, Hadoop's _SUCCESS and .crc
                    found.add(f);
                    requireFewerFiles(input, found.size());
                }
            }
            found.sort(null);
            return found;
        } catch (IOException e) {
            throw new InvalidInputException("IMAGE_OR_DIR (" + input + ") cannot be listed: " + e.getMessage(), e);
        }
    }

    /** Adds the file's digits: every record of an idx images file, or the one digit of a picture. */
    private static void read(Path file, Configuration hadoop, List<String> sources, List<Integer> indices,
                             List<byte[]> digits) throws IOException {
        FileSystem fs = file.getFileSystem(hadoop);
        if (isIdxImages(fs, file)) {
            IdxHeader header = IdxReader.readAndValidate(file.toString(), IdxKind.IMAGES, hadoop);
            if (header.rows() != DigitImage.SIZE || header.cols() != DigitImage.SIZE) {
                throw new InvalidInputException("idx images are " + header.rows() + "x" + header.cols()
                    + ", the model takes " + DigitImage.SIZE + "x" + DigitImage.SIZE);
            }
            long[] all = new long[header.count()];
            Arrays.setAll(all, i -> i);
            byte[][] records = IdxReader.readRecords(file.toString(), header, all, hadoop);
            for (int i = 0; i < records.length; i++) {
                sources.add(file.toString());
                indices.add(i);
                digits.add(records[i]);
            }
            return;
        }
        BufferedImage picture = dev.sparkmnist.data.Pictures.read(fs, file);
        byte[] digit = DigitImage.preprocess(picture);
        sources.add(file.toString());
        indices.add(-1);
        digits.add(digit);
    }

    /** Whether the file starts with the idx images magic number (after gunzip for a .gz name). */
    private static boolean isIdxImages(FileSystem fs, Path file) throws IOException {
        try (InputStream raw = fs.open(file);
             InputStream in = IdxReader.isGzip(file.getName()) ? new GZIPInputStream(raw) : raw) {
            return new DataInputStream(in).readInt() == IdxKind.IMAGES.magic();
        } catch (java.io.EOFException | java.util.zip.ZipException e) {
            return false;
        }
    }

    private List<Prediction> predict(MultiLayerNetwork net, Normalization norm, List<String> sources,
                                     List<Integer> indices, List<byte[]> digits) {
        List<Prediction> out = new ArrayList<>(digits.size());
        int width = DigitImage.SIZE * DigitImage.SIZE;
        for (int from = 0; from < digits.size(); from += BATCH) {
            int n = Math.min(BATCH, digits.size() - from);
            float[] features = new float[n * width];
            for (int r = 0; r < n; r++) {
                byte[] d = digits.get(from + r);
                for (int k = 0; k < width; k++) {
                    features[r * width + k] = norm.apply(d[k]);
                }
            }
            INDArray probs = net.output(HostArrays.create(features, 0, n, width), false);
            for (int r = 0; r < n; r++) {
                double[] p = probs.getRow(r).toDoubleVector();
                Integer[] order = new Integer[p.length];
                Arrays.setAll(order, i -> i);
                Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
                List<Guess> best = new ArrayList<>();
                for (int k = 0; k < Math.min(top, p.length); k++) {
                    best.add(new Guess(order[k], p[order[k]]));
                }
                out.add(new Prediction(sources.get(from + r), indices.get(from + r), best, null));
            }
        }
        return out;
    }

    static String text(Prediction p) {
        StringBuilder sb = new StringBuilder(p.source());
        if (p.index() >= 0) {
            sb.append('[').append(p.index()).append(']');
        }
        sb.append(':');
        for (Guess g : p.top()) {
            sb.append(String.format(Locale.ROOT, "  %d (%.1f%%)", g.label(), 100 * g.probability()));
        }
        return sb.toString();
    }

    private static Map<String, Object> asJson(Prediction p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", p.source());
        if (p.index() >= 0) {
            m.put("index", p.index());
        }
        if (p.error() != null) {
            m.put("error", p.error());
        } else {
            m.put("predictions", p.top().stream().map(g -> {
                Map<String, Object> guess = new LinkedHashMap<>();
                guess.put("class", g.label());
                guess.put("probability", g.probability());
                return guess;
            }).toList());
        }
        return m;
    }

    private static String message(Exception e) {
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    /** Refuses an input directory once it has yielded more than {@link #MAX_FILES} files. */
    static void requireFewerFiles(String input, int found) {
        if (found > MAX_FILES) {
            throw new InvalidInputException("IMAGE_OR_DIR (" + input + ") holds more than " + MAX_FILES
                + " files: predict reads at most " + MAX_FILES + " per input (give subdirectories)");
        }
    }
}
