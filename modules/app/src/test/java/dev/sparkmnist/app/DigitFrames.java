package dev.sparkmnist.app;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Digits (pixels and labels) in the shapes users have them: CSV lines, Parquet, a DataFrame of ML vectors. */
final class DigitFrames {
    private DigitFrames() {
    }

    /** Every image of a split, 784 pixel bytes each. */
    static byte[][] pixels(dev.sparkmnist.data.MnistSet set) {
        return dev.sparkmnist.data.IdxReader.readRecords(set.imagesPath(), set.imagesHeader(), all(set),
            new org.apache.hadoop.conf.Configuration());
    }

    /** Every label of a split. */
    static int[] labels(dev.sparkmnist.data.MnistSet set) {
        return java.util.Arrays.stream(dev.sparkmnist.data.IdxReader.readRecords(set.labelsPath(), set.labelsHeader(),
            all(set), new org.apache.hadoop.conf.Configuration())).mapToInt(b -> b[0] & 0xFF).toArray();
    }

    private static long[] all(dev.sparkmnist.data.MnistSet set) {
        return java.util.stream.LongStream.range(0, set.size()).toArray();
    }

    /** The model.zip of a small network trained in this JVM on the MNIST slice (train --mode local). */
    static Path trainedModel(Path runDir, String model, int epochs) {
        CliIT.Run train = CliIT.run("train", "--mode", "local", "--model", model, "--epochs", Integer.toString(epochs),
            "--data-dir", dev.sparkmnist.data.testing.TestData.sliceDir(), "--output", runDir.toString());
        org.junit.jupiter.api.Assertions.assertEquals(0, train.exit(), train.err());
        return runDir.resolve("model.zip");
    }

    /** mnist_train.csv's lines: the label, then the 784 pixels. */
    static List<String> csvLines(byte[][] pixels, int[] labels) {
        return IntStream.range(0, pixels.length).mapToObj(i -> labels[i] + "," + IntStream.range(0, 784)
            .mapToObj(p -> Integer.toString(pixels[i][p] & 0xFF)).collect(Collectors.joining(","))).toList();
    }

    /** Parquet with an int label column and 784 int pixel columns, in one file. */
    static void writeParquet(SparkSession spark, Path dir, byte[][] pixels, int[] labels) {
        List<StructField> fields = new ArrayList<>(List.of(DataTypes.createStructField("label",
            DataTypes.IntegerType, false)));
        IntStream.range(0, 784).forEach(i -> fields.add(DataTypes.createStructField("pixel" + i,
            DataTypes.IntegerType, false)));
        List<Row> rows = IntStream.range(0, pixels.length).mapToObj(i -> {
            Object[] v = new Object[785];
            v[0] = labels[i];
            for (int q = 0; q < 784; q++) {
                v[q + 1] = pixels[i][q] & 0xFF;
            }
            return RowFactory.create(v);
        }).toList();
        spark.createDataFrame(rows, DataTypes.createStructType(fields)).coalesce(1).write().parquet(dir.toString());
    }

    /** A DataFrame of (label: double, features: ML vector of 784 pixels, id: idPrefix-i). */
    static Dataset<Row> vectors(SparkSession spark, byte[][] pixels, int[] labels, String idPrefix) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < pixels.length; i++) {
            double[] v = new double[784];
            for (int p = 0; p < 784; p++) {
                v[p] = pixels[i][p] & 0xFF;
            }
            rows.add(RowFactory.create((double) labels[i], Vectors.dense(v), idPrefix + "-" + i));
        }
        StructType schema = new StructType().add("label", DataTypes.DoubleType).add("features",
            SQLDataTypes.VectorType()).add("id", DataTypes.StringType);
        return spark.createDataFrame(rows, schema);
    }
}
