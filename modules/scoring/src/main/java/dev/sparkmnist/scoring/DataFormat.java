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
}
