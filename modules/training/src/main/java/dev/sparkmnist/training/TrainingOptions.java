package dev.sparkmnist.training;

import dev.sparkmnist.runtime.GpuBinding;

import dev.sparkmnist.data.Normalization;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;

/**
 * How to train, as one small validated record per concern with a single seed. Messages name the option, show the
 * value and state the rule; comparisons are written so that they fail on bad values.
 *
 * @param epochs passes over the training set, > 0
 * @param seed one seed for weights, data order and DL4J's split RNG
 * @param input which examples and how they are normalised
 * @param batching minibatch sizes
 * @param averaging which engine averages the workers' parameters, and how often
 * @param workers how many workers and how each task uses its machine
 * @param dl4j knobs of DL4J's {@code ParameterAveragingTrainingMaster} (only for {@link Engine#DL4J})
 */
public record TrainingOptions(int epochs, long seed, Input input, Batching batching, Averaging averaging,
                              Workers workers, Dl4jMaster dl4j) implements java.io.Serializable {
    public static final int DEFAULT_EPOCHS = 5;
    public static final int DEFAULT_BATCH = 32;
    /** {@code --averaging-frequency auto}: chosen from measured costs (resident engine; {@code AutoFrequency}). */
    public static final int AUTO_AVERAGING = 0;
    public static final int DEFAULT_AVERAGING = AUTO_AVERAGING;
    /** What {@code auto} means for DL4J's master, whose rounds are Spark jobs: its long-standing default. */
    public static final int DL4J_AUTO_AVERAGING = 10;
    /** Default seconds a resident worker waits for a peer before failing the stage attempt. */
    public static final long DEFAULT_EXCHANGE_TIMEOUT_SECONDS = 120;
    /** Resident engine: whether a round's exchange runs while the next round's minibatches are fitted. */
    public static final boolean DEFAULT_AVERAGING_OVERLAP = true;
    /** Resident engine: when the updater state is averaged (BENCHMARKS.md, "Round 17"). */
    public static final UpdaterAveraging DEFAULT_UPDATER_AVERAGING = UpdaterAveraging.AUTO;
    public static final int DEFAULT_PREFETCH = 2;
    public static final int DEFAULT_EVAL_BATCH = 500;
    public static final long DEFAULT_SEED = 42L;

    public TrainingOptions {
        positive("--epochs", epochs);
        if (input == null || batching == null || averaging == null || workers == null || dl4j == null) {
            throw new IllegalArgumentException("training options must all be set");
        }
    }

    /** The engine that averages parameters across workers in {@code --mode spark}. */
    public enum Engine {
        /** Long-lived barrier tasks that keep their network resident and average executor to executor. */
        RESIDENT,
        /** DL4J's {@code ParameterAveragingTrainingMaster}: one Spark job per averaging round. */
        DL4J
    }

    /**
     * When the resident engine averages the updater state (momentum, Adam's moments) with the parameters
     * ({@code --updater-averaging}).
     */
    public enum UpdaterAveraging {
        /**
         * {@link #ROUND} when the workers average every {@link #AUTO_ROUND_UP_TO} minibatches or more often, else
         * {@link #STAGE}. With 2-4 workers (BENCHMARKS.md, "Round 17"): averaging every 2, the default LeNet-5 job
         * (Nesterov) reached 99.26 % (median of 3 seeds) with the state averaged every round and 99.17 % with it
         * averaged at stage ends; averaging every 8-32, stage ends were better in 11 of 12 comparisons after 3
         * epochs (the MLP with Adam by 0.1-1.3 points, LeNet-5 with momentum by 0.1-1.4) and 0.14 points worse in one
         * (LeNet-5, 4 workers, every 8). The default job at every 4: 99.22 % (every round) against 99.20 %; at every
         * 6: 99.14 % against 99.23 %; at every 8: 99.13 % against 99.21 % (medians of seeds 1-3; a 2-Worker cluster
         * chooses 5-8).
         */
        AUTO,
        /** In every round, with the parameters (DL4J's parameter averaging does the same). */
        ROUND,
        /**
         * At the end of each stage (an epoch, or {@code --rounds-per-stage} rounds); in between each worker's updater
         * state follows its own minibatches, and the rounds move the parameters alone.
         */
        STAGE;

        /** The largest averaging frequency at which {@link #AUTO} averages the updater state every round. */
        public static final int AUTO_ROUND_UP_TO = 3;

        /** The value as {@code --updater-averaging} and {@code provenance.json} spell it: auto, round or stage. */
        public String optionValue() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** What this means at {@code frequency} minibatches per round: {@link #ROUND} or {@link #STAGE}. */
        public UpdaterAveraging at(int frequency) {
            return this != AUTO ? this : frequency <= AUTO_ROUND_UP_TO ? ROUND : STAGE;
        }
    }

    /**
     * @param normalization pixel normalisation
     * @param limitTrain use only the first N training examples (0 = all): smoke runs
     * @param limitTest use only the first N test examples (0 = all): smoke runs
     */
    public record Input(Normalization normalization, int limitTrain, int limitTest) implements java.io.Serializable {
        public Input {
            if (normalization == null) {
                throw new IllegalArgumentException("--normalization must be given");
            }
            nonNegative("--limit-train", limitTrain);
            nonNegative("--limit-test", limitTest);
        }
    }

    /**
     * @param perWorker examples per minibatch on each worker
     * @param eval minibatch size for evaluation
     */
    public record Batching(int perWorker, int eval) implements java.io.Serializable {
        public Batching {
            positive("--batch-size-per-worker", perWorker);
            positive("--eval-batch-size", eval);
        }
    }

    /**
     * @param engine which engine averages
     * @param frequency minibatches each worker fits between averagings, > 0, or {@link #AUTO_AVERAGING}
     * @param roundsPerStage resident engine: averaging rounds per Spark stage, the work lost when an executor dies
     *     (0 = whole epochs: one stage for the run's epochs, or one an epoch with spans switched off)
     * @param exchangeTimeoutSeconds resident engine: how long a worker waits for a peer's slice, > 0
     * @param overlap resident engine: exchange a round's state while fitting the next round's minibatches, and add
     *     the worker's progress meanwhile to the mean when it arrives ({@code --[no-]averaging-overlap})
     * @param updaterAveraging resident engine: when the updater state is averaged ({@code --updater-averaging})
     */
    public record Averaging(Engine engine, int frequency, int roundsPerStage, long exchangeTimeoutSeconds,
                            boolean overlap, UpdaterAveraging updaterAveraging) implements java.io.Serializable {
        public Averaging {
            if (engine == null) {
                throw new IllegalArgumentException("--engine must be given");
            }
            if (updaterAveraging == null) {
                throw new IllegalArgumentException("--updater-averaging must be given");
            }
            if (frequency < 0) {
                throw new IllegalArgumentException("--averaging-frequency (" + frequency + ") must be auto or > 0");
            }
            nonNegative("--rounds-per-stage", roundsPerStage);
            if (!(exchangeTimeoutSeconds > 0)) {
                throw new IllegalArgumentException("--exchange-timeout (" + exchangeTimeoutSeconds + ") must be > 0"
                    + " seconds");
            }
        }

        /** With the default {@code --exchange-timeout}, overlap and updater averaging. */
        public Averaging(Engine engine, int frequency, int roundsPerStage) {
            this(engine, frequency, roundsPerStage, DEFAULT_EXCHANGE_TIMEOUT_SECONDS, DEFAULT_AVERAGING_OVERLAP,
                DEFAULT_UPDATER_AVERAGING);
        }

        /** The same averaging with {@code frequency}. */
        public Averaging withFrequency(int f) {
            return new Averaging(engine, f, roundsPerStage, exchangeTimeoutSeconds, overlap, updaterAveraging);
        }

        /** The same averaging with {@code overlap}. */
        public Averaging withOverlap(boolean o) {
            return new Averaging(engine, frequency, roundsPerStage, exchangeTimeoutSeconds, o, updaterAveraging);
        }

        /** The same averaging with {@code u}. */
        public Averaging withUpdaterAveraging(UpdaterAveraging u) {
            return new Averaging(engine, frequency, roundsPerStage, exchangeTimeoutSeconds, overlap, u);
        }

        /** Whether the frequency is to be chosen from measured costs. */
        public boolean auto() {
            return frequency == AUTO_AVERAGING;
        }

        /** The frequency DL4J's master uses: the given one, or {@link #DL4J_AUTO_AVERAGING} for auto. */
        public int dl4jFrequency() {
            return auto() ? DL4J_AUTO_AVERAGING : frequency;
        }
    }

    /**
     * @param count workers (partitions of the training and test RDDs); 0 = Spark's default parallelism
     * @param threadsPerTask ND4J threads per training task; 0 = automatic (cores / concurrent tasks; a task alone in
     *                       its JVM: cores - 1)
     * @param gpuPolicy what a training task does without an assigned GPU
     */
    public record Workers(int count, int threadsPerTask, GpuBinding.Policy gpuPolicy)
        implements java.io.Serializable {
        public Workers {
            nonNegative("--num-partitions", count);
            nonNegative("--threads-per-task", threadsPerTask);
            if (gpuPolicy == null) {
                throw new IllegalArgumentException("--gpu-policy must be given");
            }
        }
    }

    /**
     * @param workerPrefetch minibatches each worker prefetches asynchronously, >= 0
     * @param approach DL4J's RDD training approach: EXPORT (minibatches written to files once) or DIRECT
     * @param storageLevel Spark storage level name for the training RDD (e.g. MEMORY_ONLY)
     * @param repartition when DL4J repartitions the training data
     * @param repartitionStrategy how it repartitions
     * @param exportDir where the export approach writes each epoch's minibatches (any Hadoop path); null or empty =
     *     {@code hadoop.tmp.dir/dl4j} qualified against the default file system, so executors and driver agree
     * @param exportDirShared a {@code file:} export directory is visible to every executor (one host, NFS)
     */
    public record Dl4jMaster(int workerPrefetch, RDDTrainingApproach approach, String storageLevel,
                             Repartition repartition, RepartitionStrategy repartitionStrategy, String exportDir,
                             boolean exportDirShared) implements java.io.Serializable {
        public Dl4jMaster {
            nonNegative("--worker-prefetch", workerPrefetch);
            if (approach == null || repartition == null || repartitionStrategy == null) {
                throw new IllegalArgumentException("DL4J training master options must all be set");
            }
            TrainingOptions.storageLevel(storageLevel);
        }

        /** DL4J's defaults as this project uses them: export approach, balanced repartitioning. */
        public static Dl4jMaster defaults() {
            return new Dl4jMaster(DEFAULT_PREFETCH, RDDTrainingApproach.Export, "MEMORY_ONLY", Repartition.Always,
                RepartitionStrategy.Balanced, null, false);
        }
    }

    /** Defaults: 5 epochs, batch 32 per worker, the resident engine averaging as often as {@code auto} chooses. */
    public static TrainingOptions defaults() {
        return new TrainingOptions(DEFAULT_EPOCHS, DEFAULT_SEED, new Input(Normalization.STANDARDIZE, 0, 0),
            new Batching(DEFAULT_BATCH, DEFAULT_EVAL_BATCH), new Averaging(Engine.RESIDENT, DEFAULT_AVERAGING, 0),
            new Workers(0, 0, GpuBinding.Policy.OPTIONAL), Dl4jMaster.defaults());
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
        return new TrainingOptions(n, seed, input, batching, averaging, workers, dl4j);
    }

    public TrainingOptions withSeed(long s) {
        return new TrainingOptions(epochs, s, input, batching, averaging, workers, dl4j);
    }

    public TrainingOptions withLimits(int train, int test) {
        return new TrainingOptions(epochs, seed, new Input(input.normalization(), train, test), batching, averaging,
            workers, dl4j);
    }

    public TrainingOptions withBatching(int batch, int averagingFrequency) {
        return new TrainingOptions(epochs, seed, input, new Batching(batch, batching.eval()),
            averaging.withFrequency(averagingFrequency), workers, dl4j);
    }

    public TrainingOptions with(Averaging a) {
        return new TrainingOptions(epochs, seed, input, batching, a, workers, dl4j);
    }

    public TrainingOptions with(Workers w) {
        return new TrainingOptions(epochs, seed, input, batching, averaging, w, dl4j);
    }

    public TrainingOptions with(Dl4jMaster d) {
        return new TrainingOptions(epochs, seed, input, batching, averaging, workers, d);
    }

    /** The same options with {@code engine} (frequency and stage length kept). */
    public TrainingOptions withEngine(Engine engine) {
        return with(new Averaging(engine, averaging.frequency(), averaging.roundsPerStage(),
            averaging.exchangeTimeoutSeconds(), averaging.overlap(), averaging.updaterAveraging()));
    }

    public TrainingOptions withExportDir(String dir) {
        return with(new Dl4jMaster(dl4j.workerPrefetch(), dl4j.approach(), dl4j.storageLevel(), dl4j.repartition(),
            dl4j.repartitionStrategy(), dir, dl4j.exportDirShared()));
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
