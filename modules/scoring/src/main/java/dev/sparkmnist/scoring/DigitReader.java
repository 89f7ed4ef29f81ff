package dev.sparkmnist.scoring;

import dev.sparkmnist.data.DigitImage;
import dev.sparkmnist.data.IdxHeader;
import dev.sparkmnist.data.IdxKind;
import dev.sparkmnist.data.IdxReader;
import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.PartitionPlan;
import dev.sparkmnist.data.Pictures;
import dev.sparkmnist.data.Slice;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SerializableWritable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import scala.Tuple2;

/**
 * Reads digits in any {@link DataFormat} from any Hadoop path as an RDD whose partitions are read on the executors
 * (the driver reads at most a header or a file listing). Rows that are not digits are kept as bad rows
 * ({@link DigitRow#error}) for the caller to count and report.
 */
public final class DigitReader {
    /** Partitions of an idx file (its records are read by position). */
    private static final int IDX_PARTITIONS_PER_CORE = 2;

    private DigitReader() {
    }

    /** The digits at {@code path}; {@code option} names the path in messages. */
    public static JavaRDD<DigitRow> read(SparkSession spark, String option, String path, DataFormat format) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        DataFormat f = format == DataFormat.AUTO ? DataFormat.detect(option, path, sc.hadoopConfiguration()) : format;
        return switch (f) {
            case IDX -> idx(sc, option, path);
            case CSV -> csv(sc, option, path);
            case PARQUET -> parquet(spark, option, path);
            case IMAGES -> images(sc, path);
            case AUTO -> throw new IllegalStateException("detected AUTO");
        };
    }

    /** A directory with MNIST's t10k files (labelled), or one idx images file (unlabelled). */
    static JavaRDD<DigitRow> idx(JavaSparkContext sc, String option, String path) {
        Configuration conf = sc.hadoopConfiguration();
        String images;
        String labels;
        try {
            Path p = new Path(path);
            if (p.getFileSystem(conf).getFileStatus(p).isDirectory()) {
                MnistSet test = MnistSet.testFrom(path, conf);
                images = test.imagesPath();
                labels = test.labelsPath();
            } else {
                images = path;
                labels = null;
            }
        } catch (IOException e) {
            throw new InvalidInputException(option + " (" + path + ") cannot be read: " + e.getMessage(), e);
        }
        IdxHeader imageHeader = IdxReader.readAndValidate(images, IdxKind.IMAGES, conf);
        IdxHeader labelHeader = labels == null ? null : IdxReader.readAndValidate(labels, IdxKind.LABELS, conf);
        if (imageHeader.recordBytes() != DigitRow.PIXELS) {
            throw new InvalidInputException(option + " (" + images + ") holds " + imageHeader.rows() + "x"
                + imageHeader.cols() + " images: MNIST's are 28x28");
        }
        List<Slice> plan = PartitionPlan.balanced(imageHeader.count(),
            Math.max(1, sc.defaultParallelism() * IDX_PARTITIONS_PER_CORE));
        Broadcast<SerializableWritable<Configuration>> hadoop = sc.broadcast(new SerializableWritable<>(conf));
        String imagesPath = images;
        String labelsPath = labels;
        return sc.parallelize(plan, plan.size()).flatMap(slice -> {
            long[] positions = new long[slice.end() - slice.start()];
            for (int i = 0; i < positions.length; i++) {
                positions[i] = slice.start() + i;
            }
            Configuration c = hadoop.value().value();
            byte[][] pixels = IdxReader.readRecords(imagesPath, imageHeader, positions, c);
            byte[][] classes = labelsPath == null ? null : IdxReader.readRecords(labelsPath, labelHeader, positions, c);
            List<DigitRow> rows = new ArrayList<>(positions.length);
            for (int i = 0; i < positions.length; i++) {
                rows.add(DigitRow.ok(imagesPath, positions[i], classes == null ? DigitRow.NO_LABEL : classes[i][0],
                    pixels[i]));
            }
            return rows.iterator();
        });
    }

    /**
     * CSV as MNIST is commonly distributed: 785 columns with the label first (mnist_train.csv), or a header naming
     * the columns (Kaggle's train.csv: label,pixel0..pixel783; its test.csv: pixel0..pixel783, no label). Header
     * lines (any line with no number in its first field) are skipped wherever they appear (one per part file). A
     * digit's index counts digits, not lines; messages name the line.
     */
    static JavaRDD<DigitRow> csv(JavaSparkContext sc, String option, String path) {
        String source = path;
        // numbered twice: lines (for messages), then digits (headers and blank lines are not digits)
        return sc.textFile(path).zipWithIndex().map((Tuple2<String, Long> line) -> parseCsv(source, line._2(),
            line._1())).filter(row -> row != null).zipWithIndex().map((Tuple2<DigitRow, Long> t) ->
                new DigitRow(t._1().source(), t._2(), t._1().label(), t._1().pixels(), t._1().error()));
    }

    /** One CSV line as a digit, a bad row, or null for a header or blank line. */
    static DigitRow parseCsv(String source, long lineIndex, String line) {
        String text = line.strip();
        if (text.isEmpty()) {
            return null;
        }
        String[] fields = text.split(",", -1);
        if (!fields[0].strip().matches("-?\\d+(\\.0*)?")) {
            return null; // a header
        }
        int offset;
        if (fields.length == DigitRow.PIXELS + 1) {
            offset = 1;
        } else if (fields.length == DigitRow.PIXELS) {
            offset = 0;
        } else {
            return DigitRow.bad(source, lineIndex, "line " + (lineIndex + 1) + " has " + fields.length
                + " fields, not 784 pixels (with or without a label first): " + abbreviate(text));
        }
        try {
            int label = DigitRow.NO_LABEL;
            if (offset == 1) {
                label = value(fields[0], 9, "label");
            }
            byte[] pixels = new byte[DigitRow.PIXELS];
            for (int i = 0; i < DigitRow.PIXELS; i++) {
                pixels[i] = (byte) value(fields[i + offset], 255, "pixel");
            }
            return DigitRow.ok(source, lineIndex, label, pixels);
        } catch (IllegalArgumentException e) {
            return DigitRow.bad(source, lineIndex, "line " + (lineIndex + 1) + ": " + e.getMessage() + ": "
                + abbreviate(text));
        }
    }

    private static int value(String field, int max, String what) {
        String f = field.strip();
        double v;
        try {
            v = Double.parseDouble(f);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + f + "' is not a number");
        }
        if (!(v >= 0 && v <= max) || v != Math.rint(v)) {
            throw new IllegalArgumentException(what + " " + f + " is not a whole number in [0, " + max + "]");
        }
        return (int) v;
    }

    private static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }

    /**
     * Parquet with a {@code label} column (optional) and either a {@code features} column (an ML vector or a numeric
     * array of 784 values) or 784 other numeric columns, in order.
     */
    static JavaRDD<DigitRow> parquet(SparkSession spark, String option, String path) {
        Dataset<Row> frame = spark.read().parquet(path);
        StructField[] fields = frame.schema().fields();
        int label = -1;
        int vector = -1;
        List<Integer> pixels = new ArrayList<>();
        for (int i = 0; i < fields.length; i++) {
            String name = fields[i].name().toLowerCase(Locale.ROOT);
            DataType type = fields[i].dataType();
            if (name.equals("label")) {
                if (!(type instanceof NumericType)) {
                    throw new InvalidInputException(option + " (" + path + "): column label is " + type.simpleString()
                        + ", not a number");
                }
                label = i;
            } else if (name.equals("features")) {
                vector = i;
            } else if (type instanceof NumericType) {
                pixels.add(i);
            }
        }
        if (vector < 0 && pixels.size() != DigitRow.PIXELS) {
            throw new InvalidInputException(option + " (" + path + ") has " + pixels.size() + " numeric pixel columns"
                + " and no features column: it needs 784 pixel columns (beside label) or a features vector");
        }
        int labelColumn = label;
        int vectorColumn = vector;
        int[] pixelColumns = pixels.stream().mapToInt(Integer::intValue).toArray();
        String source = path;
        return frame.toJavaRDD().zipWithIndex().map((Tuple2<Row, Long> t) -> {
            Row row = t._1();
            long index = t._2();
            try {
                double[] values = vectorColumn >= 0 ? FeatureRows.values(row.get(vectorColumn))
                    : Arrays.stream(pixelColumns).mapToDouble(c -> number(row, c)).toArray();
                if (values.length != DigitRow.PIXELS) {
                    throw new IllegalArgumentException("features has " + values.length + " values, not 784");
                }
                byte[] bytes = new byte[DigitRow.PIXELS];
                for (int i = 0; i < bytes.length; i++) {
                    double v = values[i];
                    if (!(v >= 0 && v <= 255) || v != Math.rint(v)) {
                        throw new IllegalArgumentException("pixel " + i + " is " + v + ", not a whole number in [0, 255]");
                    }
                    bytes[i] = (byte) v;
                }
                int cls = DigitRow.NO_LABEL;
                if (labelColumn >= 0 && !row.isNullAt(labelColumn)) {
                    double l = number(row, labelColumn);
                    if (!(l >= 0 && l <= 9) || l != Math.rint(l)) {
                        throw new IllegalArgumentException("label " + l + " is not a class 0..9");
                    }
                    cls = (int) l;
                }
                return DigitRow.ok(source, index, cls, bytes);
            } catch (IllegalArgumentException | NullPointerException e) {
                return DigitRow.bad(source, index, "row " + (index + 1) + ": " + e.getMessage());
            }
        });
    }

    private static double number(Row row, int column) {
        if (row.isNullAt(column)) {
            throw new IllegalArgumentException("column " + row.schema().fields()[column].name() + " is null");
        }
        return ((Number) row.get(column)).doubleValue();
    }

    /**
     * Pictures (PNG, JPEG, BMP, GIF) with MNIST's preprocessing, as {@code predict} applies it, within the same
     * bounds ({@link Pictures}): DIR/3/x.png is a 3; pictures directly in DIR, or in folders not named 0-9, have no
     * label. A picture that cannot be read, or is too large, is a bad row naming the file and the rule.
     */
    static JavaRDD<DigitRow> images(JavaSparkContext sc, String path) {
        Configuration conf = sc.hadoopConfiguration();
        List<String> globs = new ArrayList<>();
        try {
            Path p = new Path(path);
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.getFileStatus(p).isDirectory()) {
                globs.add(path);
            } else {
                boolean files = false;
                boolean dirs = false;
                for (var child : fs.listStatus(p)) {
                    String name = child.getPath().getName();
                    if (!name.startsWith(".") && !name.startsWith("_")) {
                        files |= child.isFile();
                        dirs |= child.isDirectory();
                    }
                }
                if (files) {
                    globs.add(new Path(p, "*").toString());
                }
                if (dirs) {
                    globs.add(new Path(p, "*/*").toString());
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException("cannot list " + path + ": " + e.getMessage(), e);
        }
        return sc.binaryFiles(String.join(",", globs)).map(file -> {
            String name = file._1();
            String parent = new Path(name).getParent().getName();
            int label = parent.matches("[0-9]") ? Integer.parseInt(parent) : DigitRow.NO_LABEL;
            try (java.io.InputStream in = file._2().open()) {
                BufferedImage picture = Pictures.read(in); // bounded: size and declared pixels before decoding
                return DigitRow.ok(name, 0, label, DigitImage.preprocess(picture));
            } catch (IOException | IllegalArgumentException e) {
                return DigitRow.bad(name, 0, name + ": " + e.getMessage());
            }
        });
    }
}
