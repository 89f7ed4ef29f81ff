package dev.sparkmnist.training;

import dev.sparkmnist.data.Normalization;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;

/**
 * How to train: epochs, batching, and every knob of DL4J's {@code ParameterAveragingTrainingMaster}. Validated on
 * construction; messages name the option, show the value and state the rule.
 *
 * @param epochs passes over the training set, > 0
 * @param batchSizePerWorker examples per minibatch on each worker (each RDD element holds exactly this many)
 * @param averagingFrequency minibatches each worker fits between parameter averagings, > 0
 * @param workerPrefetch minibatches each worker prefetches asynchronously, >= 0
 * @param approach DL4J's RDD training approach: EXPORT (minibatches written to files once) or DIRECT
 * @param storageLevel Spark storage level name for the training RDD (e.g. MEMORY_ONLY)
 * @param repartition when DL4J repartitions the training data
 * @param repartitionStrategy how it repartitions
 * @param numPartitions partitions of the training and test RDDs; 0 = Spark's default parallelism (total cores)
 * @param threadsPerTask ND4J threads per training task; 0 = automatic (cores / concurrent tasks)
 * @param normalization pixel normalisation
 * @param evalBatchSize minibatch size for evaluation, > 0
 * @param seed one seed for weights, data order and DL4J's split RNG
 * @param limitTrain use only the first N training examples (0 = all): smoke runs
 * @param limitTest use only the first N test examples (0 = all): smoke runs
 * @param exportDir where DL4J's export approach writes each epoch's minibatches (any Hadoop path); null or empty =
 *     {@code hadoop.tmp.dir/dl4j} qualified against the default file system, so executors and driver agree
 * @param exportDirShared a {@code file:} export directory is visible to every executor (one host, NFS)
 * @param gpuPolicy what a training task does without an assigned GPU
 */
public record TrainingOptions(int epochs, int batchSizePerWorker, int averagingFrequency, int workerPrefetch,
                              RDDTrainingApproach approach, String storageLevel, Repartition repartition,
                              RepartitionStrategy repartitionStrategy, int numPartitions, int threadsPerTask,
                              Normalization normalization, int evalBatchSize, long seed, int limitTrain,
                              int limitTest, String exportDir, boolean exportDirShared,
                              GpuBinding.Policy gpuPolicy)
    implements java.io.Serializable {
    public static final int DEFAULT_EPOCHS = 5;
    public static final int DEFAULT_BATCH = 32;
    public static final int DEFAULT_AVERAGING = 10;
    public static final int DEFAULT_PREFETCH = 2;
    public static final int DEFAULT_EVAL_BATCH = 500;

    public TrainingOptions {
        positive("--epochs", epochs);
        positive("--batch-size-per-worker", batchSizePerWorker);
        positive("--averaging-frequency", averagingFrequency);
        nonNegative("--worker-prefetch", workerPrefetch);
        nonNegative("--num-partitions", numPartitions);
        nonNegative("--threads-per-task", threadsPerTask);
        positive("--eval-batch-size", evalBatchSize);
        nonNegative("--limit-train", limitTrain);
        nonNegative("--limit-test", limitTest);
        if (approach == null || repartition == null || repartitionStrategy == null || normalization == null
            || gpuPolicy == null) {
            throw new IllegalArgumentException("training options must all be set");
        }
        storageLevel(storageLevel);
    }

    /** Defaults: 5 epochs, batch 32 per worker, averaging every 10 minibatches, export approach. */
    public static TrainingOptions defaults() {
        return new TrainingOptions(DEFAULT_EPOCHS, DEFAULT_BATCH, DEFAULT_AVERAGING, DEFAULT_PREFETCH,
            RDDTrainingApproach.Export, "MEMORY_ONLY", Repartition.Always, RepartitionStrategy.Balanced, 0, 0,
            Normalization.STANDARDIZE, DEFAULT_EVAL_BATCH, 42L, 0, 0, null, false, GpuBinding.Policy.OPTIONAL);
    }

    /** The Spark storage level for the option's name, or a message naming the valid ones. */
    public static StorageLevel storageLevel(String name) {
        try {
            return StorageLevel.fromString(name == null ? "" : name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--storage-level (" + name + ") must be a Spark storage level such"
                + " as MEMORY_ONLY, MEMORY_AND_DISK, MEMORY_ONLY_SER, DISK_ONLY", e);
        }
    }

    public TrainingOptions withEpochs(int n) {
        return new TrainingOptions(n, batchSizePerWorker, averagingFrequency, workerPrefetch, approach,
            storageLevel, repartition, repartitionStrategy, numPartitions, threadsPerTask, normalization,
            evalBatchSize, seed, limitTrain, limitTest, exportDir, exportDirShared, gpuPolicy);
    }

    public TrainingOptions withLimits(int train, int test) {
        return new TrainingOptions(epochs, batchSizePerWorker, averagingFrequency, workerPrefetch, approach,
            storageLevel, repartition, repartitionStrategy, numPartitions, threadsPerTask, normalization,
            evalBatchSize, seed, train, test, exportDir, exportDirShared, gpuPolicy);
    }

    public TrainingOptions withExportDir(String dir) {
        return new TrainingOptions(epochs, batchSizePerWorker, averagingFrequency, workerPrefetch, approach,
            storageLevel, repartition, repartitionStrategy, numPartitions, threadsPerTask, normalization,
            evalBatchSize, seed, limitTrain, limitTest, dir, exportDirShared, gpuPolicy);
    }

    public TrainingOptions withBatching(int batch, int averaging) {
        return new TrainingOptions(epochs, batch, averaging, workerPrefetch, approach, storageLevel, repartition,
            repartitionStrategy, numPartitions, threadsPerTask, normalization, evalBatchSize, seed, limitTrain,
            limitTest, exportDir, exportDirShared, gpuPolicy);
    }

    private static void positive(String option, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(option + " (" + value + ") must be > 0");
        }
    }

    private static void nonNegative(String option, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(option + " (" + value + ") must be >= 0");
        }
    }
}
