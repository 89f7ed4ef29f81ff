package dev.sparkmnist.scoring;

import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.MnistSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** How digits are stored: MNIST's idx files, CSV rows, Parquet, or folders of pictures named by class. */
public enum DataFormat {
    /** Decide from the path ({@link #detect}). */
    AUTO,
    /** A directory with MNIST's t10k idx files (raw or .gz), or one idx images file. */
    IDX,
    /** CSV: 784 pixel columns, with the label first or not, with a header (Kaggle's) or not. */
    CSV,
    /** Parquet: a {@code label} column and 784 pixel columns, or a {@code features} vector or array column. */
    PARQUET,
    /** Folders of pictures: DIR/0/*.png ... DIR/9/*.png (the folder names the class), or pictures without labels. */
    IMAGES;

    /** The format of {@code path}: its name or, for a directory, what it holds. */
    public static DataFormat detect(String option, String path, Configuration conf) {
        Path p = new Path(path);
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                throw new InvalidInputException(option + " (" + path + "): file not found");
            }
            FileStatus status = fs.getFileStatus(p);
            if (!status.isDirectory()) {
                return byName(p.getName());
            }
            DataFormat found = null;
            for (FileStatus child : fs.listStatus(p)) {
                String name = child.getPath().getName();
                if (name.startsWith(".") || name.startsWith("_")) {
                    continue;
                }
                DataFormat f = child.isDirectory() ? IMAGES : byName(name);
                if (f == IDX || found == null) {
                    found = f;
                }
            }
            if (found == null) {
                throw new InvalidInputException(option + " (" + path + ") is an empty directory");
            }
            return found;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + path, e);
        }
    }

    private static DataFormat byName(String name) {
        String n = name.toLowerCase(Locale.ROOT).replaceAll("\\.gz$", "");
        if (n.endsWith(".csv")) {
            return CSV;
        }
        if (n.endsWith(".parquet")) {
            return PARQUET;
        }
        if (n.endsWith("-ubyte") || n.equals(MnistSet.TEST_IMAGES) || n.endsWith(".idx")) {
            return IDX;
        }
        if (n.matches(".*\\.(png|jpe?g|bmp|gif)")) {
            return IMAGES;
        }
        return IDX; // idx files need no extension; the reader checks the magic number
    }

    /**
     * A training and a test input inside one directory, as non-idx data is commonly laid out: mnist_train.csv and
     * mnist_test.csv, train.parquet and test.parquet, train/ and test/ folders of pictures by class.
     *
     * @param train the training input
     * @param trainFormat its format
     * @param test the test input
     * @param testFormat its format
     */
    public record Splits(String train, DataFormat trainFormat, String test, DataFormat testFormat) {
    }

    /**
     * The training and test inputs in {@code dir}: null when it holds MNIST's idx files (read as they are) and
     * {@code format} is auto or idx; else the children named train* (or mnist_train*) and test* (or mnist_test*,
     * t10k*), in {@code format} or each in its own detected one.
     */
    public static Splits splits(String option, String dir, DataFormat format, Configuration conf) {
        Path p = new Path(dir);
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p) || !fs.getFileStatus(p).isDirectory()) {
                if (format == AUTO || format == IDX) {
                    return null; // the idx reader names the file it misses
                }
                throw new InvalidInputException(option + " (" + dir + ") is not a directory");
            }
            String train = null;
            String test = null;
            boolean idx = false;
            for (FileStatus child : fs.listStatus(p)) {
                String name = child.getPath().getName();
                String n = name.toLowerCase(Locale.ROOT);
                idx |= n.startsWith(MnistSet.TRAIN_IMAGES);
                if (train == null && (n.startsWith("train") || n.startsWith("mnist_train"))
                    && !n.startsWith(MnistSet.TRAIN_IMAGES) && !n.startsWith(MnistSet.TRAIN_LABELS)) {
                    train = child.getPath().toString();
                } else if (test == null && (n.startsWith("test") || n.startsWith("mnist_test"))) {
                    test = child.getPath().toString();
                }
            }
            if (format == IDX || (format == AUTO && (idx || train == null))) {
                return null; // MNIST's idx files: their reader names what is missing
            }
            if (train == null || test == null) {
                throw new InvalidInputException(option + " (" + dir + ") holds no " + (train == null ? "training"
                    : "test") + " input: MNIST's idx files, or a file or folder named " + (train == null
                    ? "train* (mnist_train.csv, train.parquet, train/ with a folder per class)"
                    : "test* (mnist_test.csv, test.parquet, test/ with a folder per class)"));
            }
            return new Splits(train, format == AUTO ? detect(option, train, conf) : format, test,
                format == AUTO ? detect(option, test, conf) : format);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
