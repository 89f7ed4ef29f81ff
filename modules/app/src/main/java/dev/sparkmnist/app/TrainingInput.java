package dev.sparkmnist.app;

import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.scoring.DataFormat;
import dev.sparkmnist.scoring.DigitReader;
import dev.sparkmnist.scoring.IdxStaging;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * train's {@code --data-dir}: MNIST's idx files are read as they are; a training and a test input in another format
 * (CSV, Parquet, folders of pictures: {@link DataFormat#splits}) are read and checked on the executors, then staged
 * as idx files under {@code hadoop.tmp.dir} (streamed through the driver a partition at a time) for the engines,
 * which read their slices from there, and removed when the run ends.
 */
final class TrainingInput implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TrainingInput.class);
    private final String dir;
    private final FileSystem fs;
    private final Path staged;

    private TrainingInput(String dir, FileSystem fs, Path staged) {
        this.dir = dir;
        this.fs = fs;
        this.staged = staged;
    }

    /**
     * The idx directory for {@code --data-dir}, staging it first when it is not idx; {@code beforeSpark} runs before
     * the staging starts Spark (the master's check).
     */
    static TrainingInput of(String dataDir, DataFormat format, SparkConf sparkConf, Configuration hadoop,
                            Runnable beforeSpark) {
        DataFormat.Splits splits = DataFormat.splits("--data-dir", dataDir, format, hadoop);
        if (splits == null) {
            return new TrainingInput(dataDir, null, null);
        }
        Path stage = new Path(hadoop.get("hadoop.tmp.dir", "/tmp"), "spark-mnist-data-" + UUID.randomUUID());
        beforeSpark.run();
        long t0 = System.nanoTime();
        JavaSparkContext sc = SparkContexts.create(sparkConf.clone().setAppName("spark-mnist train: data"));
        try {
            FileSystem fs = stage.getFileSystem(hadoop);
            TrainingInput input = new TrainingInput(stage.toString(), fs, stage);
            try {
                SparkSession session = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
                long train = IdxStaging.write(DigitReader.read(session, "--data-dir", splits.train(),
                    splits.trainFormat()), "--data-dir (" + splits.train() + ")", fs,
                    new Path(stage, MnistSet.TRAIN_IMAGES), new Path(stage, MnistSet.TRAIN_LABELS));
                long test = IdxStaging.write(DigitReader.read(session, "--data-dir", splits.test(),
                    splits.testFormat()), "--data-dir (" + splits.test() + ")", fs,
                    new Path(stage, MnistSet.TEST_IMAGES), new Path(stage, MnistSet.TEST_LABELS));
                LOG.info("--data-dir: {} training digits ({}) and {} test digits ({}) staged as idx files in {} in"
                    + " {} s", train, splits.trainFormat(), test, splits.testFormat(), stage,
                    String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9));
                return input;
            } catch (RuntimeException e) {
                input.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stage --data-dir under " + stage, e);
        } finally {
            sc.stop();
        }
    }

    /** The directory with the four idx files the run reads. */
    String dir() {
        return dir;
    }

    /** Removes the staged files, if any. */
    @Override
    public void close() {
        if (staged != null) {
            try {
                fs.delete(staged, true);
            } catch (IOException e) {
                LOG.warn("could not remove the staged data in {}: {}", staged, e.getMessage());
            }
        }
    }
}
