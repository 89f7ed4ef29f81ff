package dev.sparkmnist.app;

import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.training.TrainingOptions;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import picocli.CommandLine.Option;

/** train's training options: where it runs, the engine and its averaging, batches, workers, seed. */
final class TrainingArgs {
    /** Where training runs: Spark parameter averaging, one JVM, or MLlib's perceptron as a baseline. */
    enum Mode { SPARK, LOCAL, MLLIB }

    @Option(names = "--mode", defaultValue = "spark", paramLabel = "MODE",
        description = "spark (parameter averaging), local (single-JVM MultiLayerNetwork.fit baseline) or mllib"
            + " (Spark MLlib's MultilayerPerceptronClassifier 784-256-128-10 with L-BFGS, the baseline a Spark user"
            + " would reach for; --model mlp only). Defaults to ${DEFAULT-VALUE}.")
    Mode mode;

    @Option(names = "--mllib-max-iter", defaultValue = "100", paramLabel = "N",
        description = "--mode mllib: L-BFGS iterations (each a pass over the training set). Defaults to"
            + " ${DEFAULT-VALUE}.")
    int mllibMaxIter;

    @Option(names = "--engine", defaultValue = "resident", paramLabel = "E",
        description = "Averaging engine for --mode spark: resident (one long-lived barrier task per worker,"
            + " averaging executor to executor) or dl4j (DL4J's ParameterAveragingTrainingMaster, one"
            + " Spark job per averaging round). Defaults to ${DEFAULT-VALUE}.")
    TrainingOptions.Engine engine;

    @Option(names = "--rounds-per-stage", defaultValue = "0", paramLabel = "N",
        description = "resident engine: averaging rounds per Spark stage (0 = one stage for the run's epochs, each"
            + " retried from its start when an executor is lost). Defaults to ${DEFAULT-VALUE}.")
    int roundsPerStage;

    @Option(names = "--epochs", defaultValue = "" + TrainingOptions.DEFAULT_EPOCHS, paramLabel = "N",
        description = "Passes over the training set. Defaults to ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--batch-size-per-worker", defaultValue = "" + TrainingOptions.DEFAULT_BATCH,
        paramLabel = "N", description = "Minibatch size on each worker. Defaults to ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--averaging-frequency", defaultValue = "auto", paramLabel = "N|auto",
        converter = AveragingFrequencyConverter.class,
        description = "Minibatches per worker between parameter averagings, or auto: the resident engine measures"
            + " a round and a minibatch in a short probe before epoch 1 and averages as often as keeps the exchange"
            + " under 5%% of training (1 to 8; DL4J's master: 10). Defaults to ${DEFAULT-VALUE}.")
    int averagingFrequency;

    @Option(names = "--exchange-timeout", defaultValue = "" + TrainingOptions.DEFAULT_EXCHANGE_TIMEOUT_SECONDS,
        paramLabel = "SECONDS", description = "resident engine: how long a worker waits for a peer's parameters"
            + " (or for its peers to start) before failing the stage attempt. Defaults to ${DEFAULT-VALUE}.")
    long exchangeTimeout;

    @Option(names = "--averaging-overlap", negatable = true,
        defaultValue = "" + TrainingOptions.DEFAULT_AVERAGING_OVERLAP, fallbackValue = "true",
        description = "resident engine: exchange each round while the next round's minibatches are fitted, adding"
            + " each worker's progress meanwhile to the mean when it arrives (hides the wait for the slowest"
            + " worker and the network); --no-averaging-overlap waits for every exchange. Defaults to"
            + " ${DEFAULT-VALUE}.")
    boolean averagingOverlap;

    @Option(names = "--updater-averaging", defaultValue = "auto", paramLabel = "auto|round|stage",
        description = "resident engine: when the updater state (momentum, Adam's moments) is averaged: round (with"
            + " the parameters in every round, as DL4J's master does), stage (at the end of each stage, an epoch"
            + " or --rounds-per-stage rounds; in between each worker's follows its own minibatches and the rounds"
            + " move the parameters alone) or auto (round when averaging every 1 to 3 minibatches, else stage)."
            + " Defaults to ${DEFAULT-VALUE}.")
    TrainingOptions.UpdaterAveraging updaterAveraging;

    @Option(names = "--worker-prefetch", defaultValue = "" + TrainingOptions.DEFAULT_PREFETCH,
        paramLabel = "N", description = "dl4j engine: minibatches each worker prefetches. Defaults to"
            + " ${DEFAULT-VALUE}.")
    int workerPrefetch;

    @Option(names = "--rdd-training-approach", defaultValue = "Export", paramLabel = "A",
        description = "dl4j engine: Export (minibatches written to files once per epoch; fast) or Direct."
            + " Defaults to ${DEFAULT-VALUE}.")
    RDDTrainingApproach approach;

    @Option(names = "--storage-level", defaultValue = "MEMORY_ONLY", paramLabel = "LEVEL",
        description = "dl4j engine: Spark storage level of the training RDD. Defaults to ${DEFAULT-VALUE}.")
    String storageLevel;

    @Option(names = "--repartition", defaultValue = "Always", paramLabel = "WHEN",
        description = "dl4j engine: Always, Never, NumPartitionsWorkersDiffers. Defaults to ${DEFAULT-VALUE}.")
    Repartition repartition;

    @Option(names = "--repartition-strategy", defaultValue = "Balanced", paramLabel = "S",
        description = "dl4j engine: Balanced or SparkDefault. Defaults to ${DEFAULT-VALUE}.")
    RepartitionStrategy repartitionStrategy;

    @Option(names = "--num-partitions", defaultValue = "0", paramLabel = "N",
        description = "Workers (partitions of the data RDDs); 0 = total executor cores. The resident engine"
            + " needs this many task slots at once. Defaults to 0.")
    int numPartitions;

    @Option(names = "--threads-per-task", defaultValue = "0", paramLabel = "N",
        description = "ND4J threads per training task; 0 = cores / concurrent tasks (a task alone in its JVM: cores - 1,"
            + " at least 1). Defaults to 0.")
    int threadsPerTask;

    @Option(names = "--eval-batch-size", defaultValue = "" + TrainingOptions.DEFAULT_EVAL_BATCH,
        paramLabel = "N", description = "Minibatch size for evaluation. Defaults to ${DEFAULT-VALUE}.")
    int evalBatchSize;

    @Option(names = "--export-dir", paramLabel = "DIR",
        description = "dl4j engine: where the Export approach writes each epoch's minibatches (any Hadoop path, shared by"
            + " driver and executors; removed after each epoch). Defaults to hadoop.tmp.dir/dl4j on the"
            + " default file system.")
    String exportDir;

    @Option(names = "--export-dir-shared", defaultValue = "false",
        description = "A file: --export-dir is visible to every executor (single-host cluster, NFS); without it"
            + " a local export directory is refused for cluster masters. Defaults to false.")
    boolean exportDirShared;

    @Option(names = "--gpu-policy", defaultValue = "optional", paramLabel = "P",
        description = "optional (bind each task to its Spark-assigned GPU when it has one, else use the loaded"
            + " backend's default device) or required (fail a task that got no GPU). Defaults to"
            + " ${DEFAULT-VALUE}.")
    GpuBinding.Policy gpuPolicy;

    @Option(names = "--progress", defaultValue = "auto", paramLabel = "HOW",
        description = "Progress within an epoch: bar (a progress bar on standard error), log (a line every "
            + ProgressDisplay.LOG_INTERVAL_SECONDS + " s), none, or auto (bar on a terminal, else log). On Spark it"
            + " advances with executor heartbeats (spark.executor.heartbeatInterval, 2s unless set). Defaults to"
            + " ${DEFAULT-VALUE}.")
    ProgressDisplay.Kind progress;

    @Option(names = "--dry-run", defaultValue = "false",
        description = "Check the options and the data, print ND4J's estimated off-heap need per JVM and how it"
            + " compares with the limits of the master's JVMs (org.bytedeco.javacpp.maxbytes; on YARN and"
            + " Kubernetes spark.executor.memoryOverhead), and stop before any Spark work. Defaults to false.")
    boolean dryRun;

    @Option(names = "--seed", defaultValue = "" + ModelOptions.DEFAULT_SEED, paramLabel = "S",
        description = "One seed for weights, data order and DL4J's splits. Defaults to ${DEFAULT-VALUE}.")
    long seed;

    /** The training options these arguments and the data arguments resolve to. */
    TrainingOptions resolve(DataArgs data) {
        return new TrainingOptions(epochs, seed,
            new TrainingOptions.Input(data.normalization, data.limitTrain, data.limitTest),
            new TrainingOptions.Batching(batchSize, evalBatchSize),
            new TrainingOptions.Averaging(engine, averagingFrequency, roundsPerStage, exchangeTimeout,
                averagingOverlap, updaterAveraging),
            new TrainingOptions.Workers(numPartitions, threadsPerTask, gpuPolicy),
            new TrainingOptions.Dl4jMaster(workerPrefetch, approach, storageLevel, repartition, repartitionStrategy,
                exportDir, exportDirShared));
    }
}
