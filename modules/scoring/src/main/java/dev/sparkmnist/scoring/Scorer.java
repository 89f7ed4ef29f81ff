package dev.sparkmnist.scoring;

import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.models.HostArrays;
import dev.sparkmnist.runtime.TaskSetup;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * Scores digits with a trained network on the executors: the model travels once as a broadcast zip and is restored
 * once per executor JVM ({@link NetworkPool}); each partition is fed to it in batches. The result has one row per
 * digit: its source, index and label (null when unknown), the predicted class and its probability, and the
 * {@code topK} most probable classes with their probabilities.
 */
public final class Scorer {
    /** Digits per forward pass. */
    public static final int BATCH = 500;
    /** Classes of MNIST. */
    public static final int CLASSES = 10;

    private final String id = UUID.randomUUID().toString();
    private final byte[] zip;
    private final Normalization normalization;
    private final int topK;
    private final TaskSetup setup;

    /**
     * @param net the trained network
     * @param normalization the input normalisation it was trained with
     * @param topK classes reported per digit, 1..10
     * @param setup what each task does first (ND4J threads, GPU binding)
     */
    public Scorer(MultiLayerNetwork net, Normalization normalization, int topK, TaskSetup setup) {
        if (topK < 1 || topK > CLASSES) {
            throw new IllegalArgumentException("--top-k (" + topK + ") must be in [1, " + CLASSES + "]");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ModelSerializer.writeModel(net, bytes, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise the model", e);
        }
        this.zip = bytes.toByteArray();
        this.normalization = normalization;
        this.topK = topK;
        this.setup = setup;
    }

    /** The output's columns. */
    public StructType schema() {
        List<StructField> fields = new ArrayList<>(List.of(
            DataTypes.createStructField("source", DataTypes.StringType, false),
            DataTypes.createStructField("index", DataTypes.LongType, false),
            DataTypes.createStructField("label", DataTypes.IntegerType, true),
            DataTypes.createStructField("prediction", DataTypes.IntegerType, false),
            DataTypes.createStructField("probability", DataTypes.DoubleType, false)));
        for (int k = 1; k <= topK; k++) {
            fields.add(DataTypes.createStructField("class_" + k, DataTypes.IntegerType, false));
            fields.add(DataTypes.createStructField("probability_" + k, DataTypes.DoubleType, false));
        }
        return DataTypes.createStructType(fields);
    }

    /** Scores the good rows of {@code digits} (bad rows are the caller's to report) on the executors. */
    public Dataset<Row> score(SparkSession spark, JavaRDD<DigitRow> digits) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<byte[]> model = sc.broadcast(zip);
        String modelId = id;
        Normalization norm = normalization;
        int k = topK;
        TaskSetup taskSetup = setup;
        JavaRDD<Row> rows = digits.filter(d -> !d.isBad()).mapPartitions((Iterator<DigitRow> it) ->
            partition(it, taskSetup, modelId, model, norm, DigitRow::values, (d, p) -> row(d, p, k)));
        return spark.createDataFrame(rows, schema());
    }

    /**
     * Scores one partition on an executor, in batches of {@link #BATCH}, with this JVM's copy of the network
     * ({@link NetworkPool}: restored once per JVM, borrowed for the partition, given back): {@code pixels} gives an
     * item's 784 pixel values (0..255), {@code row} its output row from its class probabilities.
     */
    static <T> Iterator<Row> partition(Iterator<T> items, TaskSetup setup, String modelId, Broadcast<byte[]> model,
                                       Normalization norm, Function<T, double[]> pixels,
                                       BiFunction<T, float[], Row> row) {
        setup.apply();
        List<Row> out = new ArrayList<>();
        MultiLayerNetwork net = NetworkPool.borrow(modelId, model.value());
        try {
            List<T> batch = new ArrayList<>(BATCH);
            while (items.hasNext()) {
                batch.add(items.next());
                if (batch.size() == BATCH || !items.hasNext()) {
                    float[] input = new float[batch.size() * DigitRow.PIXELS];
                    for (int i = 0; i < batch.size(); i++) {
                        double[] values = pixels.apply(batch.get(i));
                        for (int p = 0; p < DigitRow.PIXELS; p++) {
                            input[i * DigitRow.PIXELS + p] = norm.apply(values[p]);
                        }
                    }
                    float[][] probabilities = net.output(HostArrays.create(input, 0, batch.size(),
                        DigitRow.PIXELS)).toFloatMatrix();
                    for (int i = 0; i < batch.size(); i++) {
                        out.add(row.apply(batch.get(i), probabilities[i]));
                    }
                    batch.clear();
                }
            }
        } finally {
            NetworkPool.giveBack(modelId, net);
        }
        return out.iterator();
    }

    /** A digit's output row: source, index, label, prediction and its probability, the top-k classes. */
    static Row row(DigitRow d, float[] p, int k) {
        Integer[] order = top(p);
        Object[] values = new Object[5 + 2 * k];
        values[0] = d.source();
        values[1] = d.index();
        values[2] = d.labelled() ? d.label() : null;
        values[3] = order[0];
        values[4] = (double) p[order[0]];
        for (int j = 0; j < k; j++) {
            values[5 + 2 * j] = order[j];
            values[6 + 2 * j] = (double) p[order[j]];
        }
        return RowFactory.create(values);
    }

    /** Classes by falling probability (the lower class first on a tie, as argmax picks it). */
    static Integer[] top(float[] probabilities) {
        Integer[] order = new Integer[probabilities.length];
        for (int c = 0; c < order.length; c++) {
            order[c] = c;
        }
        java.util.Arrays.sort(order, (a, b) -> probabilities[a] != probabilities[b]
            ? Float.compare(probabilities[b], probabilities[a]) : Integer.compare(a, b));
        return order;
    }
}
