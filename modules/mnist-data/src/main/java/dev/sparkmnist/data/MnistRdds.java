package dev.sparkmnist.data;

import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SerializableWritable;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Builds RDDs of mini-batch DataSets in which each partition reads its own slice of the idx files on the executor.
 * The driver ships only the plan (a {@link Slice} per partition, the file paths and headers), never the data.
 */
public final class MnistRdds {
    private MnistRdds() {
    }

    /**
     * The Spark context's Hadoop configuration as a broadcast: what executors open the idx files with. A read below
     * without one broadcasts the configuration itself (every property, serialised on the driver: 10-20 ms a read
     * measured on this project's machines, and deserialised again on every executor), so a run that reads the data
     * every epoch (each epoch's evaluation, DL4J's master's training data) makes one with this, passes it to every
     * read and destroys it when done.
     */
    public static Broadcast<SerializableWritable<Configuration>> hadoopConf(JavaSparkContext sc) {
        return sc.broadcast(new SerializableWritable<>(sc.hadoopConfiguration()));
    }

    /**
     * One epoch of training data: the examples in the seeded order of {@link PartitionPlan#epochOrder}, split into
     * {@code partitions} balanced slices, batched into DataSets of {@code batchSize}.
     */
    public static JavaRDD<DataSet> trainingEpoch(JavaSparkContext sc, MnistSet set, int partitions, int batchSize,
                                                 Normalization normalization, long seed, int epoch) {
        return trainingEpoch(sc, set, partitions, batchSize, normalization, seed, epoch, null);
    }

    /** The same, read with {@code conf} ({@link #hadoopConf}; null: broadcasts the context's configuration). */
    public static JavaRDD<DataSet> trainingEpoch(JavaSparkContext sc, MnistSet set, int partitions, int batchSize,
                                                 Normalization normalization, long seed, int epoch,
                                                 Broadcast<SerializableWritable<Configuration>> conf) {
        return trainingEpoch(sc, set, partitions, batchSize, normalization, RandomShift.NONE, seed, epoch, conf);
    }

    /**
     * As above, each picture moved by {@code shift} at this epoch ({@link RandomShift}: a function of the seed, the
     * epoch and the example, whatever the partitions).
     *
     * @param shift the run's shift of the training pictures ({@link RandomShift#atEpoch} is applied here), or
     *     {@link RandomShift#NONE}
     */
    public static JavaRDD<DataSet> trainingEpoch(JavaSparkContext sc, MnistSet set, int partitions, int batchSize,
                                                 Normalization normalization, RandomShift shift, long seed, int epoch,
                                                 Broadcast<SerializableWritable<Configuration>> conf) {
        if (set.role() != Role.TRAIN) {
            throw new IllegalArgumentException("training data must be the training split, got " + set);
        }
        return build(sc, set, partitions, batchSize, normalization, new Shuffle(seed, epoch, shift.atEpoch(epoch)),
            conf);
    }

    /** The test set in file order, split into {@code partitions} slices (evaluation). */
    public static JavaRDD<DataSet> evaluation(JavaSparkContext sc, MnistSet set, int partitions, int batchSize,
                                              Normalization normalization) {
        return evaluation(sc, set, partitions, batchSize, normalization, null);
    }

    /** The same, read with {@code conf} ({@link #hadoopConf}; null: broadcasts the context's configuration). */
    public static JavaRDD<DataSet> evaluation(JavaSparkContext sc, MnistSet set, int partitions, int batchSize,
                                              Normalization normalization,
                                              Broadcast<SerializableWritable<Configuration>> conf) {
        if (set.role() != Role.TEST) {
            throw new IllegalArgumentException("evaluation data must be a test split, got " + set);
        }
        return build(sc, set, partitions, batchSize, normalization, null, conf);
    }

    /**
     * Partition {@code partition} of {@link #evaluation}'s RDD of {@code partitions}, read where the caller runs: the
     * same slice of the test split and the same batches, for code that scores a partition without that job (the
     * resident engine's workers at the end of an epoch's last stage). The caller closes the reader.
     */
    public static SliceReader evaluationPartition(MnistSet set, int partitions, int partition, int batchSize,
                                                  Normalization normalization, Configuration conf) {
        if (set.role() != Role.TEST) {
            throw new IllegalArgumentException("evaluation data must be a test split, got " + set);
        }
        return reader(set, null, PartitionPlan.balanced(set.size(), partitions).get(partition), batchSize,
            normalization, RandomShift.NONE, conf);
    }

    /** The reader of one slice of a plan in {@code order} (null: file order), as every partition reads it. */
    private static SliceReader reader(MnistSet set, int[] order, Slice slice, int batchSize,
                                      Normalization normalization, RandomShift shift, Configuration conf) {
        return new SliceReader(set, MnistBatches.positions(order, slice.start(), slice.end()), batchSize,
            batchSize * ReadSlices.BATCHES_PER_CHUNK, normalization, shift, conf, false, List.of());
    }

    private static JavaRDD<DataSet> build(JavaSparkContext sc, MnistSet set, int partitions, int batchSize,
                                          Normalization normalization, Shuffle shuffle,
                                          Broadcast<SerializableWritable<Configuration>> given) {
        List<Slice> plan = PartitionPlan.balanced(set.size(), partitions);
        Broadcast<SerializableWritable<Configuration>> conf = given != null ? given : hadoopConf(sc);
        return SparkJobs.mapPartitions(sc.parallelize(plan, plan.size()),
            new ReadSlices(set, batchSize, normalization, shuffle, conf), true);
    }

    /** The seed and epoch that fix an epoch's order, and the epoch's shift of the pictures. */
    private record Shuffle(long seed, int epoch, RandomShift shift) implements java.io.Serializable {
    }

    /** Runs on the executor: streams the partition's slices through a {@link SliceReader}. */
    private static final class ReadSlices implements FlatMapFunction<Iterator<Slice>, DataSet> {
        private static final long serialVersionUID = 1L;
        /** Minibatches read at once (the next chunk is read while the task works on this one). */
        private static final int BATCHES_PER_CHUNK = 16;
        private final MnistSet set;
        private final int batchSize;
        private final Normalization normalization;
        private final Shuffle shuffle;
        private final Broadcast<SerializableWritable<Configuration>> conf;

        ReadSlices(MnistSet set, int batchSize, Normalization normalization, Shuffle shuffle,
                   Broadcast<SerializableWritable<Configuration>> conf) {
            this.set = set;
            this.batchSize = batchSize;
            this.normalization = normalization;
            this.shuffle = shuffle;
            this.conf = conf;
        }

        @Override
        public Iterator<DataSet> call(Iterator<Slice> slices) {
            int[] order = shuffle == null ? null
                : PartitionPlan.epochOrder(set.size(), shuffle.seed(), shuffle.epoch());
            Configuration hadoop = conf.value().value();
            TaskContext task = TaskContext.get();
            return new Iterator<>() {
                private SliceReader reader;
                private DataSet next;

                @Override
                public boolean hasNext() {
                    while (next == null) {
                        if (reader != null) {
                            next = reader.next();
                            if (next != null) {
                                break;
                            }
                            reader.close();
                            reader = null;
                        }
                        if (!slices.hasNext()) {
                            return false;
                        }
                        Slice slice = slices.next();
                        reader = reader(set, order, slice, batchSize, normalization,
                            shuffle == null ? RandomShift.NONE : shuffle.shift(), hadoop);
                        if (task != null) { // a consumer that stops early: the read-ahead thread ends with the task
                            SliceReader opened = reader;
                            task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) context -> opened.close());
                        }
                    }
                    return true;
                }

                @Override
                public DataSet next() {
                    if (!hasNext()) {
                        throw new java.util.NoSuchElementException();
                    }
                    DataSet out = next;
                    next = null;
                    return out;
                }
            };
        }
    }
}
