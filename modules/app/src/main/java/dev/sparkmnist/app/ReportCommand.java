package dev.sparkmnist.app;

import dev.sparkmnist.runs.RunLayout;
import dev.sparkmnist.runs.AtomicOutput;
import dev.sparkmnist.runs.ModelFiles;
import dev.sparkmnist.runs.RunFiles;
import dev.sparkmnist.runs.ReportFiles;
import dev.sparkmnist.runs.Stores;
import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.report.HtmlReport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code report RUN_DIR}: rebuilds a train run's report.html and charts/ from the run's own files. */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Rebuild report.html and charts/ of a train run from its metrics.json, provenance.json and"
        + " model.zip, and the test split the run used. The old report is replaced only once the new one is"
        + " complete.")
public final class ReportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "A train run's output directory (any Hadoop path).")
    String runDir;

    @Option(names = "--data-dir", paramLabel = "DIR",
        description = "Directory with the t10k idx files. Defaults to the files the run's provenance.json names.")
    String dataDir;

    @picocli.CommandLine.Mixin
    StoreArgs stores = new StoreArgs();

    @Override
    public Integer call() {
        System.out.println("report: " + run());
        return 0;
    }

    /** Builds the report and moves it into the run directory; returns the page's path. */
    public String run() {
        // no Spark here, but spark-submit's spark.hadoop.* settings still apply, as in train and evaluate
        Configuration hadoop = SparkContexts.hadoopWithoutSpark();
        Stores.check(Stores.paths("RUN_DIR", runDir, "--data-dir", dataDir), hadoop, stores.timeoutSeconds);
        Path dir = new Path(runDir);
        try {
            FileSystem fs = dir.getFileSystem(hadoop);
            dir = fs.makeQualified(dir);
            if (!fs.isDirectory(dir)) {
                throw new InvalidInputException("RUN_DIR (" + runDir + ") is not a directory");
            }
            for (String name : List.of(RunLayout.METRICS_JSON, RunLayout.PROVENANCE_JSON, RunLayout.MODEL_FILE)) {
                if (!fs.isFile(new Path(dir, name))) {
                    throw new InvalidInputException("RUN_DIR (" + runDir + ") has no " + name + ": not the output"
                        + " of a complete train run");
                }
            }
            AtomicOutput.requireComplete(fs, dir, "RUN_DIR (" + runDir + ")");
            String metrics = read(fs, new Path(dir, RunLayout.METRICS_JSON));
            String provenanceText = read(fs, new Path(dir, RunLayout.PROVENANCE_JSON));
            json(RunLayout.METRICS_JSON, metrics);
            Map<String, Object> provenance = json(RunLayout.PROVENANCE_JSON, provenanceText);
            // DL4J's layer helpers, as a training JVM has them, before the network's layers are built: without them
            // DL4J's own convolution took 4.8 s to classify the 10,000 test digits for the mistakes' picture
            dev.sparkmnist.runtime.Nd4jRuntime.enableHelpers();
            ModelFiles.Loaded model = ModelFiles.load("RUN_DIR", new Path(dir, RunLayout.MODEL_FILE).toString(),
                hadoop);
            if (model.normalization() == null) {
                throw new InvalidInputException("RUN_DIR (" + runDir + "): model.zip does not record its input"
                    + " normalization; it was not written by train");
            }
            MnistSet test = testSplit(provenance, hadoop);
            int limit = provenance.get("testExamples") instanceof Number n ? n.intValue() : 0;
            // ND4J's threads as a training JVM sets them, once every input has been checked (it logs as it starts)
            dev.sparkmnist.runtime.Nd4jRuntime.configure(dev.sparkmnist.runtime.Nd4jRuntime.singleTaskThreads(
                Runtime.getRuntime().availableProcessors()));
            HtmlReport.Built built = ReportFiles.build(metrics, provenanceText, model.network(), model.normalization(),
                test, limit, hadoop);
            replace(fs, dir, built);
            return new Path(dir, HtmlReport.HTML).toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rebuild the report in " + runDir, e);
        }
    }

    /** A run file's JSON object; one that does not parse is named (exit 2), not a stack trace. */
    private Map<String, Object> json(String name, String text) {
        try {
            return RunLayout.JSON.readValue(text,
                new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() { });
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new InvalidInputException("RUN_DIR (" + runDir + "): " + name + " is not a JSON object as train"
                + " writes it: " + Stores.firstLine(e), e);
        }
    }

    /** --data-dir, else the t10k files the run's provenance names. */
    private MnistSet testSplit(Map<String, Object> provenance, Configuration hadoop) {
        if (dataDir != null) {
            return MnistSet.testFrom(dataDir, hadoop);
        }
        String images = null;
        String labels = null;
        if (provenance.get("data") instanceof Map<?, ?> files) {
            for (Object key : files.keySet()) {
                String name = new Path(key.toString()).getName();
                if (name.startsWith(MnistSet.TEST_IMAGES)) {
                    images = key.toString();
                } else if (name.startsWith(MnistSet.TEST_LABELS)) {
                    labels = key.toString();
                }
            }
        }
        if (images == null || labels == null) {
            throw new InvalidInputException("RUN_DIR (" + runDir + "): provenance.json names no t10k files; pass"
                + " --data-dir");
        }
        return MnistSet.testFiles(images, labels, hadoop);
    }

    /**
     * Writes the new report under a hidden staging directory, then swaps it in: the old page and charts are moved
     * aside, the new ones moved into place, the old ones deleted. Until the swap the old report is untouched.
     */
    private static void replace(FileSystem fs, Path dir, HtmlReport.Built built) throws IOException {
        String id = UUID.randomUUID().toString();
        Path staging = new Path(dir, ".report-staging-" + id);
        try {
            for (Map.Entry<String, byte[]> file : built.files().entrySet()) {
                try (OutputStream out = fs.create(new Path(staging, file.getKey()), false)) {
                    out.write(ReportFiles.cleaned(file.getKey(), file.getValue()));
                }
            }
            for (String name : List.of(HtmlReport.CHARTS_DIR, HtmlReport.HTML)) {
                Path current = new Path(dir, name);
                Path old = new Path(dir, "." + name + ".replaced-" + id);
                if (fs.exists(current) && !fs.rename(current, old)) {
                    throw new IOException("cannot move " + current + " aside");
                }
                if (!fs.rename(new Path(staging, name), current)) {
                    throw new IOException("cannot move the new " + name + " into " + dir);
                }
                fs.delete(old, true);
            }
        } finally {
            fs.delete(staging, true);
        }
    }

    private static String read(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (org.apache.hadoop.fs.ChecksumException e) {
            throw new InvalidInputException(file + " is corrupt: " + Stores.firstLine(e), e);
        }
    }
}
