package dev.sparkmnist.data;

import java.io.Serializable;
import java.io.UncheckedIOException;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A validated pair of idx files (images and labels) with its role. Creating one reads only headers and the labels
 * (a few KB); the images are validated by length (raw) or a decompressing scan (gzip) but never held in memory.
 * Test sets are the {@code t10k} files: a training run cannot evaluate on anything built from the training files.
 */
public final class MnistSet implements Serializable {
    private static final long serialVersionUID = 1L;
    /** MNIST and Fashion-MNIST have ten classes, labels 0..9. */
    public static final int NUM_CLASSES = 10;
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

    private final Role role;
    private final String imagesPath;
    private final String labelsPath;
    private final IdxHeader images;
    private final IdxHeader labels;
    private final int size;

    private MnistSet(Role role, String imagesPath, String labelsPath, IdxHeader images, IdxHeader labels,
                     int size) {
        this.size = size;
        this.role = role;
        this.imagesPath = imagesPath;
        this.labelsPath = labelsPath;
        this.images = images;
        this.labels = labels;
    }

    /** The training split in {@code dir}: {@code train-images-idx3-ubyte} and labels, raw or {@code .gz}. */
    public static MnistSet trainFrom(String dir, Configuration conf) {
        return open(Role.TRAIN, locate(dir, TRAIN_IMAGES, conf), locate(dir, TRAIN_LABELS, conf), conf);
    }

    /** The test split in {@code dir}: always the {@code t10k} files, raw or {@code .gz}. */
    public static MnistSet testFrom(String dir, Configuration conf) {
        return open(Role.TEST, locate(dir, TEST_IMAGES, conf), locate(dir, TEST_LABELS, conf), conf);
    }

    /**
     * A held-out set from explicit idx paths (the {@code evaluate} command). Files named like the MNIST training
     * files are refused, so training data cannot be reported as test accuracy.
     */
    public static MnistSet testFiles(String imagesPath, String labelsPath, Configuration conf) {
        for (String p : new String[] {imagesPath, labelsPath}) {
            if (new Path(p).getName().startsWith("train-")) {
                throw new InvalidInputException(p + ": is a training file; evaluation runs on held-out data only"
                    + " (t10k-* or your own test idx files)");
            }
        }
        return open(Role.TEST, imagesPath, labelsPath, conf);
    }

    /** Validates both files and their agreement; reads every label to check its range. */
    public static MnistSet open(Role role, String imagesPath, String labelsPath, Configuration conf) {
        IdxHeader images = IdxReader.readAndValidate(imagesPath, IdxKind.IMAGES, conf);
        IdxHeader labels = IdxReader.readAndValidate(labelsPath, IdxKind.LABELS, conf);
        if (images.count() != labels.count()) {
            throw new InvalidInputException(String.format(
                "%s has %d images but %s has %d labels: counts must be equal",
                imagesPath, images.count(), labelsPath, labels.count()));
        }
        long[] all = new long[labels.count()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        byte[][] values = IdxReader.readRecords(labelsPath, labels, all, conf);
        for (int i = 0; i < values.length; i++) {
            int label = values[i][0] & 0xFF;
            if (label >= NUM_CLASSES) {
                throw new InvalidInputException(String.format(
                    "%s: label %d at record %d must be in 0..%d", labelsPath, label, i, NUM_CLASSES - 1));
            }
        }
        // qualified (file:/abs/..., hdfs://nn/...): executors read the same files whatever their working directory
        return new MnistSet(role, qualified(imagesPath, conf), qualified(labelsPath, conf), images, labels,
            images.count());
    }

    private static String qualified(String path, Configuration conf) {
        Path p = new Path(path);
        try {
            return p.getFileSystem(conf).makeQualified(p).toString();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot resolve " + path, e);
        }
    }

    private static String locate(String dir, String name, Configuration conf) {
        Path raw = new Path(dir, name);
        Path gz = new Path(dir, name + ".gz");
        try {
            FileSystem fs = raw.getFileSystem(conf);
            if (fs.exists(raw)) {
                return raw.toString();
            }
            if (fs.exists(gz)) {
                return gz.toString();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot be listed", e);
        }
        throw new InvalidInputException(String.format(
            "%s: neither %s nor %s.gz exists (run scripts/fetch-mnist.sh, or point --data-dir at the idx files)",
            dir, name, name));
    }

    public Role role() {
        return role;
    }

    public String imagesPath() {
        return imagesPath;
    }

    public String labelsPath() {
        return labelsPath;
    }

    /** Bytes of the records of both files (what {@link IdxCache} holds of them). */
    public long recordBytes() {
        return images.dataBytes() + labels.dataBytes();
    }

    public IdxHeader imagesHeader() {
        return images;
    }

    public IdxHeader labelsHeader() {
        return labels;
    }

    /** Number of examples used (the file's count unless {@link #limit} was applied). */
    public int size() {
        return size;
    }

    /** The same set restricted to its first {@code n} examples ({@code n <= 0} or beyond the count: all). */
    public MnistSet limit(int n) {
        int newSize = n <= 0 ? images.count() : Math.min(n, images.count());
        return new MnistSet(role, imagesPath, labelsPath, images, labels, newSize);
    }

    /** Pixels per image (784 for MNIST). */
    public int pixels() {
        return images.recordBytes();
    }

    @Override
    public String toString() {
        return role + "[" + size() + " x " + images.rows() + "x" + images.cols() + ", " + imagesPath + "]";
    }
}
