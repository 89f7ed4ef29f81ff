package dev.sparkmnist.scoring;

import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.runtime.TaskSetup;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A trained network as a Spark ML {@link Model}: {@code transform} adds a {@code prediction} (the class, as a double)
 * and a {@code probability} vector (10 classes) to every row, computed on the executors with the network restored
 * once per executor JVM. The {@code features} column holds a digit's 784 pixels as MNIST stores them (0..255, ink
 * high, row-major): an ML vector or an array of numbers; or it is the {@code image} column of Spark's image data
 * source, whose pictures get MNIST's preprocessing as {@code predict} applies it. Saved and loaded as Spark ML stages are (alone or inside a
 * {@code PipelineModel}): the parameters as Spark's metadata, the network as a DL4J zip.
 */
public final class DigitClassifierModel extends Model<DigitClassifierModel> implements MLWritable {
    private static final long serialVersionUID = 1L;
    private static final String NETWORK = "network.zip";
    private final String uid;
    private final byte[] zip;
    private final Param<String> featuresCol;
    private final Param<String> predictionCol;
    private final Param<String> probabilityCol;
    private final Param<String> normalization;

    private DigitClassifierModel(String uid, byte[] zip) {
        this.uid = uid;
        this.zip = zip;
        featuresCol = new Param<>(this, "featuresCol", "the 784 pixels (0..255) of each digit: vector or array");
        predictionCol = new Param<>(this, "predictionCol", "the predicted class (0..9, as a double)");
        probabilityCol = new Param<>(this, "probabilityCol", "the probability of each class (a vector of 10)");
        normalization = new Param<>(this, "normalization", "how pixels became inputs in training: standardize or"
            + " scale");
        setDefault(featuresCol, "features");
        setDefault(predictionCol, "prediction");
        setDefault(probabilityCol, "probability");
        setDefault(normalization, Normalization.STANDARDIZE.name());
    }

    /** The model of a trained network and the normalisation it was trained with. */
    public static DigitClassifierModel of(MultiLayerNetwork net, Normalization trainedWith) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ModelSerializer.writeModel(net, bytes, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise the network", e);
        }
        DigitClassifierModel model = new DigitClassifierModel("digitClassifier_" + UUID.randomUUID().toString()
            .substring(0, 12), bytes.toByteArray());
        model.set(model.normalization, trainedWith.name());
        return model;
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> featuresCol() {
        return featuresCol;
    }

    public Param<String> predictionCol() {
        return predictionCol;
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public Param<String> normalization() {
        return normalization;
    }

    public DigitClassifierModel setFeaturesCol(String value) {
        return (DigitClassifierModel) set(featuresCol, value);
    }

    public DigitClassifierModel setPredictionCol(String value) {
        return (DigitClassifierModel) set(predictionCol, value);
    }

    public DigitClassifierModel setProbabilityCol(String value) {
        return (DigitClassifierModel) set(probabilityCol, value);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        return outputSchema(schema, $(featuresCol), $(predictionCol), $(probabilityCol));
    }

    /** {@code schema} with the prediction and probability columns, once the features column is checked. */
    static StructType outputSchema(StructType schema, String features, String prediction, String probability) {
        if (!Arrays.asList(schema.fieldNames()).contains(features)) {
            throw new IllegalArgumentException("featuresCol (" + features + ") is not a column; the columns are "
                + String.join(", ", schema.fieldNames()));
        }
        DataType type = schema.apply(features).dataType();
        boolean vector = type.equals(SQLDataTypes.VectorType());
        boolean numbers = type instanceof ArrayType a && a.elementType() instanceof NumericType;
        if (!vector && !numbers && !FeatureRows.isImage(type)) {
            throw new IllegalArgumentException("featuresCol (" + features + ") is " + type.simpleString()
                + ": it must be a vector or an array of numbers (784 pixels, 0..255), or the image column of Spark's"
                + " image data source");
        }
        for (String out : List.of(prediction, probability)) {
            if (Arrays.asList(schema.fieldNames()).contains(out)) {
                throw new IllegalArgumentException("output column " + out + " already exists");
            }
        }
        return schema.add(DataTypes.createStructField(prediction, DataTypes.DoubleType, false))
            .add(DataTypes.createStructField(probability, SQLDataTypes.VectorType(), false));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        int column = dataset.schema().fieldIndex($(featuresCol));
        String name = $(featuresCol);
        Normalization norm = Normalization.valueOf($(normalization));
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
        Broadcast<byte[]> network = sc.broadcast(zip);
        String id = uid + "@" + Arrays.hashCode(zip);
        TaskSetup setup = new TaskSetup(dev.sparkmnist.runtime.Nd4jRuntime.threadsPerTask(sc.sc()),
            GpuBinding.Policy.OPTIONAL);
        JavaRDD<Row> rows = dataset.toDF().toJavaRDD().mapPartitions((Iterator<Row> it) -> Scorer.partition(it,
            setup, id, network, norm, row -> FeatureRows.pixels(row, column, name), DigitClassifierModel::withScores));
        return dataset.sparkSession().createDataFrame(rows, out);
    }

    /** A row with its prediction (the most probable class) and its probabilities appended. */
    private static Row withScores(Row row, float[] probabilities) {
        Object[] values = new Object[row.size() + 2];
        for (int c = 0; c < row.size(); c++) {
            values[c] = row.get(c);
        }
        double[] p = new double[probabilities.length];
        for (int c = 0; c < p.length; c++) {
            p[c] = probabilities[c];
        }
        values[row.size()] = (double) Scorer.top(probabilities)[0];
        values[row.size() + 1] = new DenseVector(p);
        return RowFactory.create(values);
    }

    @Override
    public DigitClassifierModel copy(ParamMap extra) {
        DigitClassifierModel copy = new DigitClassifierModel(uid, zip);
        return copyValues(copy, extra).setParent(parent());
    }

    @Override
    public MLWriter write() {
        return StagePersistence.writer(this, (path, sc) -> {
            Path file = new Path(path, NETWORK);
            try (OutputStream o = file.getFileSystem(sc.hadoopConfiguration()).create(file, true)) {
                o.write(zip);
            }
        });
    }

    /** Reads a model written by {@link #write()} (Spark ML's loaders, PipelineModel's among them, call this). */
    public static MLReader<DigitClassifierModel> read() {
        return StagePersistence.reader(DigitClassifierModel.class, (uid, path, sc) -> {
            Path file = new Path(path, NETWORK);
            try (InputStream in = file.getFileSystem(sc.hadoopConfiguration()).open(file)) {
                return new DigitClassifierModel(uid, in.readAllBytes());
            }
        });
    }

    /** {@code read().load(path)}. */
    public static DigitClassifierModel load(String path) {
        return read().load(path);
    }

    /** The network (restored from the model's bytes). */
    public MultiLayerNetwork network() {
        try {
            return ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(zip), false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore the network", e);
        }
    }
}
