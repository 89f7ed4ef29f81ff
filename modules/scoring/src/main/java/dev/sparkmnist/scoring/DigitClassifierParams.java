package dev.sparkmnist.scoring;

import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.training.TrainingOptions;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;

/**
 * {@code DigitClassifier}'s columns and training parameters, named as the CLI's options (camel case) with its
 * defaults, and how they resolve to {@link TrainingOptions} (validated by the same record). DL4J's master keeps its
 * own options' defaults.
 */
public abstract class DigitClassifierParams extends ModelOptionParams {
    private static final long serialVersionUID = 1L;
    private final Param<String> featuresCol;
    private final Param<String> labelCol;
    private final IntParam epochs;
    private final IntParam batchSizePerWorker;
    private final IntParam evalBatchSize;
    private final Param<String> engine;
    private final IntParam averagingFrequency;
    private final IntParam roundsPerStage;
    private final LongParam exchangeTimeout;
    private final BooleanParam averagingOverlap;
    private final Param<String> updaterAveraging;
    private final IntParam numPartitions;
    private final IntParam threadsPerTask;
    private final Param<String> normalization;
    private final DoubleParam validationFraction;

    DigitClassifierParams(String uid) {
        super(uid);
        TrainingOptions d = TrainingOptions.defaults();
        featuresCol = new Param<>(this, "featuresCol", "the 784 pixels (0..255) of each digit: vector, array or Spark's image column");
        labelCol = new Param<>(this, "labelCol", "the class of each digit, 0..9");
        epochs = new IntParam(this, "epochs", "passes over the training rows (--epochs)");
        batchSizePerWorker = new IntParam(this, "batchSizePerWorker", "minibatch size on each worker (--batch-size-per-worker)");
        evalBatchSize = new IntParam(this, "evalBatchSize", "minibatch size for evaluation (--eval-batch-size)");
        engine = new Param<>(this, "engine", "resident or dl4j (--engine)");
        averagingFrequency = new IntParam(this, "averagingFrequency", "minibatches per worker between averagings, 0 for auto (--averaging-frequency)");
        roundsPerStage = new IntParam(this, "roundsPerStage", "resident engine: averaging rounds per Spark stage, 0 = whole epochs (--rounds-per-stage)");
        exchangeTimeout = new LongParam(this, "exchangeTimeout", "resident engine: seconds a worker waits for a peer (--exchange-timeout)");
        averagingOverlap = new BooleanParam(this, "averagingOverlap", "resident engine: exchange while the next round is fitted (--averaging-overlap)");
        updaterAveraging = new Param<>(this, "updaterAveraging", "resident engine: when the updater state is averaged, auto, round or stage (--updater-averaging)");
        numPartitions = new IntParam(this, "numPartitions", "workers, 0 = total executor cores (--num-partitions)");
        threadsPerTask = new IntParam(this, "threadsPerTask", "ND4J threads per training task, 0 = cores / concurrent tasks,"
            + " cores - 1 for a task alone in its JVM (--threads-per-task)");
        normalization = new Param<>(this, "normalization", "standardize or scale (--normalization)");
        validationFraction = new DoubleParam(this, "validationFraction", "the share of rows held out for the evaluation after each epoch, in (0, 1)");
        setDefault(featuresCol, "features");
        setDefault(labelCol, "label");
        setDefault(epochs, d.epochs());
        setDefault(batchSizePerWorker, d.batching().perWorker());
        setDefault(evalBatchSize, d.batching().eval());
        setDefault(engine, "resident");
        setDefault(averagingFrequency, TrainingOptions.AUTO_AVERAGING);
        setDefault(roundsPerStage, d.averaging().roundsPerStage());
        setDefault(exchangeTimeout, d.averaging().exchangeTimeoutSeconds());
        setDefault(averagingOverlap, d.averaging().overlap());
        setDefault(updaterAveraging, d.averaging().updaterAveraging().optionValue());
        setDefault(numPartitions, d.workers().count());
        setDefault(threadsPerTask, d.workers().threadsPerTask());
        setDefault(normalization, "standardize");
        setDefault(validationFraction, 0.1);
    }

    public Param<String> featuresCol() {
        return featuresCol;
    }

    public Param<String> labelCol() {
        return labelCol;
    }

    public IntParam epochs() {
        return epochs;
    }

    public IntParam batchSizePerWorker() {
        return batchSizePerWorker;
    }

    public IntParam evalBatchSize() {
        return evalBatchSize;
    }

    public Param<String> engine() {
        return engine;
    }

    public IntParam averagingFrequency() {
        return averagingFrequency;
    }

    public IntParam roundsPerStage() {
        return roundsPerStage;
    }

    public LongParam exchangeTimeout() {
        return exchangeTimeout;
    }

    public BooleanParam averagingOverlap() {
        return averagingOverlap;
    }

    public Param<String> updaterAveraging() {
        return updaterAveraging;
    }

    public IntParam numPartitions() {
        return numPartitions;
    }

    public IntParam threadsPerTask() {
        return threadsPerTask;
    }

    public Param<String> normalization() {
        return normalization;
    }

    public DoubleParam validationFraction() {
        return validationFraction;
    }

    /** The training options these parameters resolve to (validated as the CLI's are). */
    public TrainingOptions trainingOptions() {
        TrainingOptions d = TrainingOptions.defaults();
        Normalization norm = choice(normalization, Normalization.class, "standardize or scale");
        TrainingOptions.Engine e = choice(engine, TrainingOptions.Engine.class, "resident or dl4j");
        TrainingOptions.UpdaterAveraging u = choice(updaterAveraging, TrainingOptions.UpdaterAveraging.class,
            "auto, round or stage");
        return new TrainingOptions((Integer) $(epochs), (Long) $(seed()), new TrainingOptions.Input(norm, 0, 0),
            new TrainingOptions.Batching((Integer) $(batchSizePerWorker), (Integer) $(evalBatchSize)),
            new TrainingOptions.Averaging(e, (Integer) $(averagingFrequency), (Integer) $(roundsPerStage),
                (Long) $(exchangeTimeout), (Boolean) $(averagingOverlap), u),
            new TrainingOptions.Workers((Integer) $(numPartitions), (Integer) $(threadsPerTask),
                GpuBinding.Policy.OPTIONAL), d.dl4j());
    }
}
