package dev.sparkmnist.app;

import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.runs.AtomicOutput;
import dev.sparkmnist.runs.ModelFiles;
import dev.sparkmnist.runs.RunFiles;
import dev.sparkmnist.runs.Stores;
import dev.sparkmnist.runtime.CudaCompatibility;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.runtime.Nd4jRuntime;
import dev.sparkmnist.runtime.TaskSetup;
import dev.sparkmnist.scoring.DataFormat;
import dev.sparkmnist.scoring.DigitReader;
import dev.sparkmnist.scoring.DigitRow;
import dev.sparkmnist.scoring.IdxStaging;
import dev.sparkmnist.scoring.Scorer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code score}: classifies digits from any Hadoop path on the executors and writes the predictions. */
@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Classify digits at cluster scale with a model written by train: the executors read the input"
        + " (MNIST idx files, CSV, Parquet or folders of pictures) and score it with the network, loaded once per"
        + " executor; the predictions (with the top-k classes and their probabilities) are written as Parquet or CSV"
        + " to a new directory, in place only once complete. Bad rows are counted and the first is named; then"
        + " nothing is written and the exit code is 2."})
public final class ScoreCommand implements Callable<Integer> {
    /** The directory inside --output that holds the predictions' part files. */
    static final String PREDICTIONS = "predictions";
    /** The summary beside them. */
    static final String SUMMARY = "score.json";

    /** How the predictions are written. */
    enum OutputFormat { PARQUET, CSV }

    @picocli.CommandLine.Mixin
    TrainedModelArgs trained = new TrainedModelArgs();

    @Option(names = "--input", required = true, paramLabel = "PATH",
        description = "The digits (any Hadoop path): a directory with MNIST's t10k idx files or an idx images file; CSV"
            + " (784 pixel columns, the label first or not, a header or not: mnist_test.csv, Kaggle's train.csv and"
            + " test.csv); Parquet (label and 784 pixel columns, or a features vector); a folder of pictures with one"
            + " folder per class (DIR/7/x.png). Required.")
    String input;

    @Option(names = "--data-format", defaultValue = "auto", paramLabel = "FORMAT",
        description = "auto (from the path's name or content), idx, csv, parquet or images. Defaults to"
            + " ${DEFAULT-VALUE}.")
    DataFormat format;

    @Option(names = "--output", required = true, paramLabel = "DIR",
        description = "Where to write predictions/ and score.json (any Hadoop path); must not exist unless"
            + " --overwrite. Required.")
    String output;

    @Option(names = "--overwrite", defaultValue = "false",
        description = "Replace an existing --output once the new one is complete. Defaults to false.")
    boolean overwrite;

    @Option(names = "--output-format", defaultValue = "parquet", paramLabel = "FORMAT",
        description = "parquet or csv (with a header). Defaults to ${DEFAULT-VALUE}.")
    OutputFormat outputFormat;

    @Option(names = "--top-k", defaultValue = "3", paramLabel = "K",
        description = "Most probable classes written per digit, with their probabilities, 1-10. Defaults to"
            + " ${DEFAULT-VALUE}.")
    int topK;

    @ArgGroup(validate = false, heading = "%nSpark%n")
    SparkArgs spark = new SparkArgs();

    @Mixin
    StoreArgs stores = new StoreArgs();

    /**
     * What a score run did.
     *
     * @param output where the predictions are
     * @param digits digits scored
     * @param labelled digits with a label
     * @param correct labelled digits predicted right
     * @param seconds wall time of reading and scoring
     */
    public record ScoreOutcome(String output, long digits, long labelled, long correct, double seconds) {
        /** Accuracy on the labelled digits (NaN without labels). */
        public double accuracy() {
            return labelled == 0 ? Double.NaN : (double) correct / labelled;
        }
    }

    @Override
    public Integer call() {
        ScoreOutcome o = run();
        System.out.printf(Locale.ROOT, "scored %d digits in %.1f s (%.0f digits/s)%s%npredictions written to %s/%s%n",
            o.digits(), o.seconds(), o.digits() / Math.max(o.seconds(), 1e-9), o.labelled() == 0 ? ""
                : String.format(Locale.ROOT, "; accuracy %.2f%% on %d labelled", 100 * o.accuracy(), o.labelled()),
            o.output(), PREDICTIONS);
        return 0;
    }

    /** Validates, reads and checks the input on the executors, scores it there and writes the output atomically. */
    public ScoreOutcome run() {
        if (topK < 1 || topK > Scorer.CLASSES) {
            throw new IllegalArgumentException("--top-k (" + topK + ") must be in [1, " + Scorer.CLASSES + "]");
        }
        CudaCompatibility.requireSupported(-1);
        SparkConf sparkConf = SparkContexts.conf("spark-mnist score", spark.master, spark.conf);
        Configuration hadoop = SparkContexts.hadoop(sparkConf);
        Stores.check(Stores.paths("--input", input, "--model-path", trained.path, "--output", output), hadoop,
            stores.timeoutSeconds);
        MasterCheck.require(sparkConf, hadoop, stores.timeoutSeconds);
        DataFormat dataFormat = format == DataFormat.AUTO ? DataFormat.detect("--input", input, hadoop) : format;
        Nd4jRuntime.enableHelpers();
        TrainedModelArgs.Resolved resolved = trained.load(hadoop);
        ModelFiles.Loaded loaded = resolved.model();
        Normalization norm = resolved.normalization();
        try (AtomicOutput out = AtomicOutput.open(output, overwrite, hadoop)) {
            JavaSparkContext sc = SparkContexts.create(sparkConf);
            try {
                SparkSession session = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
                long t0 = System.nanoTime();
                JavaRDD<DigitRow> digits = DigitReader.read(session, "--input", input, dataFormat)
                    .persist(StorageLevel.MEMORY_AND_DISK());
                IdxStaging.requireDigits(digits, "--input (" + input + ")", false);
                Scorer scorer = new Scorer(loaded.network(), norm, topK,
                    new TaskSetup(Nd4jRuntime.threadsPerTask(sc.sc()), GpuBinding.Policy.OPTIONAL));
                Dataset<Row> predictions = scorer.score(session, digits).persist(StorageLevel.MEMORY_AND_DISK());
                String dir = new Path(out.staging(), PREDICTIONS).toString();
                if (outputFormat == OutputFormat.CSV) {
                    predictions.write().option("header", "true").csv(dir);
                } else {
                    predictions.write().parquet(dir);
                }
                Row counts = predictions.agg(functions.count(functions.lit(1)), functions.count("label"),
                    functions.sum(functions.when(functions.col("label").equalTo(functions.col("prediction")), 1)
                        .otherwise(0))).first();
                double seconds = (System.nanoTime() - t0) / 1e9;
                ScoreOutcome outcome = new ScoreOutcome(out.target().toString(), counts.getLong(0),
                    counts.getLong(1), counts.isNullAt(2) ? 0 : counts.getLong(2), seconds);
                out.writeText(SUMMARY, RunFiles.json(summary(outcome, dataFormat, norm)));
                out.commit();
                return outcome;
            } finally {
                sc.stop();
            }
        }
    }

    private Map<String, Object> summary(ScoreOutcome o, DataFormat dataFormat, Normalization norm) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("input", input);
        s.put("dataFormat", dataFormat.name().toLowerCase(Locale.ROOT));
        s.put("model", trained.path);
        s.put("normalization", norm);
        s.put("outputFormat", outputFormat.name().toLowerCase(Locale.ROOT));
        s.put("topK", topK);
        s.put("digits", o.digits());
        s.put("labelled", o.labelled());
        s.put("accuracy", o.labelled() == 0 ? null : o.accuracy());
        s.put("seconds", o.seconds());
        s.put("digitsPerSecond", o.digits() / Math.max(o.seconds(), 1e-9));
        return s;
    }
}
