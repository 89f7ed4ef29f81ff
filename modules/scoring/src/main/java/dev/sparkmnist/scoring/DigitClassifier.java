package dev.sparkmnist.scoring;

import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.training.Listeners;
import dev.sparkmnist.training.SparkTrainer;
import dev.sparkmnist.training.TrainingOptions;
import dev.sparkmnist.training.TrainingResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * The Spark ML estimator: {@code fit} trains the job's network (LeNet-5 or the MLP, the CLI's defaults) with the
 * resident engine on a DataFrame's {@code features} (784 pixels, 0..255: a vector or an array of numbers) and
 * {@code label} (0..9), holding out {@code validationFraction} of the rows for the per-epoch evaluation, and returns a
 * {@link DigitClassifierModel}. The rows are checked on the executors (bad rows counted, the first named), staged as
 * idx files on the cluster's file system (under {@code hadoop.tmp.dir}, streamed through the driver one partition at
 * a time: {@link IdxStaging}) and removed after training; the executors read their slices from there as the CLI's
 * jobs do.
 */
public final class DigitClassifier extends DigitClassifierParams implements MLWritable {
    private static final long serialVersionUID = 1L;

    public DigitClassifier() {
        this("digitClassifier_" + UUID.randomUUID().toString().substring(0, 12));
    }

    private DigitClassifier(String uid) {
        super(uid);
    }

    public DigitClassifier setModel(String value) {
        return (DigitClassifier) set(model(), value);
    }

    public DigitClassifier setSeed(long value) {
        return (DigitClassifier) set(seed(), value);
    }

    public DigitClassifier setActivation(String value) {
        return (DigitClassifier) set(activation(), value);
    }

    public DigitClassifier setWeightInit(String value) {
        return (DigitClassifier) set(weightInit(), value);
    }

    public DigitClassifier setLoss(String value) {
        return (DigitClassifier) set(loss(), value);
    }

    public DigitClassifier setUpdater(String value) {
        return (DigitClassifier) set(updater(), value);
    }

    public DigitClassifier setLearningRate(double value) {
        return (DigitClassifier) set(learningRate(), value);
    }

    public DigitClassifier setL2(double value) {
        return (DigitClassifier) set(l2(), value);
    }

    public DigitClassifier setDropout(double value) {
        return (DigitClassifier) set(dropout(), value);
    }

    public DigitClassifier setInputPadding(int value) {
        return (DigitClassifier) set(inputPadding(), value);
    }

    public DigitClassifier setRandomShift(int value) {
        return (DigitClassifier) set(randomShift(), value);
    }

    public DigitClassifier setFeaturesCol(String value) {
        return (DigitClassifier) set(featuresCol(), value);
    }

    public DigitClassifier setLabelCol(String value) {
        return (DigitClassifier) set(labelCol(), value);
    }

    public DigitClassifier setEpochs(int value) {
        return (DigitClassifier) set(epochs(), value);
    }

    public DigitClassifier setBatchSizePerWorker(int value) {
        return (DigitClassifier) set(batchSizePerWorker(), value);
    }

    public DigitClassifier setEvalBatchSize(int value) {
        return (DigitClassifier) set(evalBatchSize(), value);
    }

    public DigitClassifier setEngine(String value) {
        return (DigitClassifier) set(engine(), value);
    }

    public DigitClassifier setAveragingFrequency(int value) {
        return (DigitClassifier) set(averagingFrequency(), value);
    }

    public DigitClassifier setRoundsPerStage(int value) {
        return (DigitClassifier) set(roundsPerStage(), value);
    }

    public DigitClassifier setExchangeTimeout(long value) {
        return (DigitClassifier) set(exchangeTimeout(), value);
    }

    public DigitClassifier setAveragingOverlap(boolean value) {
        return (DigitClassifier) set(averagingOverlap(), value);
    }

    public DigitClassifier setUpdaterAveraging(String value) {
        return (DigitClassifier) set(updaterAveraging(), value);
    }

    public DigitClassifier setNumPartitions(int value) {
        return (DigitClassifier) set(numPartitions(), value);
    }

    public DigitClassifier setThreadsPerTask(int value) {
        return (DigitClassifier) set(threadsPerTask(), value);
    }

    public DigitClassifier setNormalization(String value) {
        return (DigitClassifier) set(normalization(), value);
    }

    public DigitClassifier setValidationFraction(double value) {
        return (DigitClassifier) set(validationFraction(), value);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String features = $(featuresCol());
        String label = $(labelCol());
        for (String c : List.of(features, label)) {
            if (!Arrays.asList(schema.fieldNames()).contains(c)) {
                throw new IllegalArgumentException((c.equals(features) ? "featuresCol" : "labelCol") + " (" + c
                    + ") is not a column; the columns are " + String.join(", ", schema.fieldNames()));
            }
        }
        DataType labelType = schema.apply(label).dataType();
        if (!(labelType instanceof NumericType)) {
            throw new IllegalArgumentException("labelCol (" + label + ") is " + labelType.simpleString()
                + ": it must be a number (the class, 0..9)");
        }
        return DigitClassifierModel.outputSchema(schema, $(featuresCol()), "prediction", "probability");
    }

    @Override
    public DigitClassifierModel fit(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        double fraction = (Double) $(validationFraction());
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("validationFraction (" + fraction + ") must be in (0, 1)");
        }
        ModelOptions m = modelOptions();
        TrainingOptions t = trainingOptions();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
        Configuration conf = sc.hadoopConfiguration();
        Path stage = new Path(conf.get("hadoop.tmp.dir", "/tmp"), "spark-mnist-fit-" + UUID.randomUUID());
        try {
            FileSystem fs = stage.getFileSystem(conf);
            try {
                Dataset<Row>[] splits = dataset.select($(featuresCol()), $(labelCol()))
                    .randomSplit(new double[] {1 - fraction, fraction}, t.seed());
                stageIdx(splits[0], fs, stage, MnistSet.TRAIN_IMAGES, MnistSet.TRAIN_LABELS);
                stageIdx(splits[1], fs, stage, MnistSet.TEST_IMAGES, MnistSet.TEST_LABELS);
                MnistSet train = MnistSet.trainFrom(stage.toString(), conf);
                MnistSet test = MnistSet.testFrom(stage.toString(), conf);
                TrainingResult result = SparkTrainer.train(sc, train, test, m, t,
                    List.of(Listeners.progress(t.epochs()), Listeners.stopOnDivergence()));
                DigitClassifierModel fitted = DigitClassifierModel.of(result.network(), t.input().normalization())
                    .setFeaturesCol($(featuresCol()));
                fitted.setParent(this);
                return fitted;
            } finally {
                fs.delete(stage, true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stage the training rows under " + stage, e);
        }
    }

    /** Writes one split as an idx images and labels pair (rows checked on the executors, then streamed). */
    private void stageIdx(Dataset<Row> rows, FileSystem fs, Path dir, String images, String labels) {
        String features = $(featuresCol());
        String label = $(labelCol());
        JavaRDD<DigitRow> digits = rows.toJavaRDD().zipWithIndex().map((Tuple2<Row, Long> t) ->
            FeatureRows.digit(t._1(), t._2(), features, label));
        IdxStaging.write(digits, "the " + (images.startsWith("t10k") ? "validation" : "training") + " rows", fs,
            new Path(dir, images), new Path(dir, labels));
    }

    @Override
    public DigitClassifier copy(ParamMap extra) {
        return copyValues(new DigitClassifier(uid()), extra);
    }

    @Override
    public MLWriter write() {
        return StagePersistence.writer(this, null);
    }

    /** Reads an estimator written by {@link #write()} (Pipeline's loader calls this). */
    public static MLReader<DigitClassifier> read() {
        return StagePersistence.reader(DigitClassifier.class, (uid, path, sc) -> new DigitClassifier(uid));
    }

    /** {@code read().load(path)}. */
    public static DigitClassifier load(String path) {
        return read().load(path);
    }
}
