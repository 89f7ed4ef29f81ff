package dev.sparkmnist.app;

import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.HiddenActivation;
import dev.sparkmnist.models.Init;
import dev.sparkmnist.models.Loss;
import dev.sparkmnist.models.LrSchedule;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Optimizer;
import dev.sparkmnist.training.EpochListener;
import dev.sparkmnist.training.Listeners;
import dev.sparkmnist.training.LocalTrainer;
import dev.sparkmnist.training.SparkTrainer;
import dev.sparkmnist.training.Start;
import dev.sparkmnist.training.TrainingOptions;
import dev.sparkmnist.training.TrainingResult;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code train}: trains MLP or LeNet-5 on MNIST with Spark parameter averaging (or in one JVM) and writes outputs. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Train a network on MNIST and evaluate it on the t10k test split after every epoch.")
public final class TrainCommand implements Callable<Integer> {

    /** Where training runs: Spark parameter averaging, one JVM, or MLlib's perceptron as a baseline. */
    public enum Mode { SPARK, LOCAL, MLLIB }

    static final class DataOptions {
        @Option(names = "--data-dir", defaultValue = "data/mnist", paramLabel = "DIR",
            description = "Directory (any Hadoop path) with the four MNIST idx files, raw or .gz. Defaults to"
                + " ${DEFAULT-VALUE}.")
        String dataDir = "data/mnist";

        @Option(names = "--normalization", defaultValue = "standardize", paramLabel = "KIND",
            description = "standardize ((x/255-0.1307)/0.3081) or scale (x/255). Defaults to ${DEFAULT-VALUE}.")
        Normalization normalization = Normalization.STANDARDIZE;

        @Option(names = "--limit-train", defaultValue = "0", paramLabel = "N",
            description = "Use only the first N training examples (0 = all; smoke runs). Defaults to 0.")
        int limitTrain;

        @Option(names = "--limit-test", defaultValue = "0", paramLabel = "N",
            description = "Use only the first N test examples (0 = all; smoke runs). Defaults to 0.")
        int limitTest;
    }

    static final class ModelArgs {
        @Option(names = "--model", defaultValue = "lenet", paramLabel = "NAME",
            description = "mlp (784-256-128-10) or lenet (LeNet-5). Defaults to ${DEFAULT-VALUE}.")
        Architecture architecture = Architecture.LENET;

        @Option(names = "--activation", defaultValue = "relu", paramLabel = "NAME",
            description = "Hidden activation: relu, leakyrelu, tanh, sigmoid. Defaults to ${DEFAULT-VALUE}.")
        HiddenActivation activation = HiddenActivation.RELU;

        @Option(names = "--weight-init", defaultValue = "xavier", paramLabel = "NAME",
            converter = ModelConverters.InitConverter.class,
            description = "xavier or relu (alias he, kaiming). Defaults to ${DEFAULT-VALUE}.")
        Init weightInit = Init.XAVIER;

        @Option(names = "--loss", defaultValue = "mcxent", paramLabel = "NAME",
            description = "mcxent (cross-entropy), negativeloglikelihood, mse, bce (binary cross-entropy on sigmoid"
                + " outputs), l1 (mean absolute error), smoothl1 (PyTorch's, beta 1). Defaults to ${DEFAULT-VALUE}.")
        Loss loss = Loss.MCXENT;

        @Option(names = "--updater", paramLabel = "NAME", converter = ModelConverters.OptimizerConverter.class,
            description = "sgd, momentum (classical heavy-ball, as PyTorch's SGD momentum), nesterov, adam. Defaults"
                + " to adam for mlp, nesterov for lenet.")
        Optimizer optimizer;

        @Option(names = "--learning-rate", paramLabel = "LR",
            description = "Initial learning rate. Defaults to 0.03 for lenet with its default updater, 0.001 for"
                + " adam, 0.01 otherwise.")
        Double learningRate;

        @Option(names = "--momentum", defaultValue = "0.9", paramLabel = "M",
            description = "Momentum of the momentum and nesterov updaters. Defaults to ${DEFAULT-VALUE}.")
        double momentum = ModelOptions.MOMENTUM;

        @Option(names = "--lr-schedule", paramLabel = "KIND",
            description = "none, step, multistep, exponential (per epoch). Defaults to multistep at epochs 2,4 with"
                + " gamma 0.25 for lenet with its default updater and learning rate, none otherwise.")
        LrSchedule.Kind schedule;

        @Option(names = "--lr-gamma", defaultValue = "0.1", paramLabel = "G",
            description = "Decay factor of the schedule, in (0, 1]. Defaults to ${DEFAULT-VALUE}.")
        double gamma = 0.1;

        @Option(names = "--lr-step-epochs", defaultValue = "1", paramLabel = "N",
            description = "step: decay every N epochs. Defaults to ${DEFAULT-VALUE}.")
        int stepEpochs = 1;

        @Option(names = "--lr-milestones", split = ",", paramLabel = "E",
            description = "multistep: 0-based epochs at which the rate decays, e.g. 3,4. No default.")
        int[] milestones = new int[0];

        @Option(names = "--l2", paramLabel = "W",
            description = "L2 weight decay. Defaults to 0.001 for lenet, 0 for mlp.")
        Double l2;

        @Option(names = "--input-padding", paramLabel = "P",
            description = "lenet: zero pixels added on each side of the 28x28 digit before the first convolution,"
                + " 0-5 (2 = LeCun's 32x32 input). Defaults to 2 for lenet.")
        Integer inputPadding;

        @Option(names = "--dropout", defaultValue = "0", paramLabel = "P",
            description = "Drop probability on dense hidden layers, in [0, 1). Defaults to ${DEFAULT-VALUE}.")
        double dropout;
    }

    static final class TrainingArgs {
        @Option(names = "--mode", defaultValue = "spark", paramLabel = "MODE",
            description = "spark (parameter averaging), local (single-JVM MultiLayerNetwork.fit baseline) or mllib"
                + " (Spark MLlib's MultilayerPerceptronClassifier 784-256-128-10 with L-BFGS, the baseline a Spark user"
                + " would reach for; --model mlp only). Defaults to ${DEFAULT-VALUE}.")
        Mode mode = Mode.SPARK;

        @Option(names = "--mllib-max-iter", defaultValue = "100", paramLabel = "N",
            description = "--mode mllib: L-BFGS iterations (each a pass over the training set). Defaults to"
                + " ${DEFAULT-VALUE}.")
        int mllibMaxIter = 100;

        @Option(names = "--engine", defaultValue = "resident", paramLabel = "E",
            description = "Averaging engine for --mode spark: resident (one long-lived barrier task per worker,"
                + " averaging executor to executor) or dl4j (DL4J's ParameterAveragingTrainingMaster, one"
                + " Spark job per averaging round). Defaults to ${DEFAULT-VALUE}.")
        TrainingOptions.Engine engine = TrainingOptions.Engine.RESIDENT;

        @Option(names = "--rounds-per-stage", defaultValue = "0", paramLabel = "N",
            description = "resident engine: averaging rounds per Spark stage, the most work redone when an executor"
                + " is lost (0 = one stage per epoch). Defaults to ${DEFAULT-VALUE}.")
        int roundsPerStage;

        @Option(names = "--epochs", defaultValue = "" + TrainingOptions.DEFAULT_EPOCHS, paramLabel = "N",
            description = "Passes over the training set. Defaults to ${DEFAULT-VALUE}.")
        int epochs = TrainingOptions.DEFAULT_EPOCHS;

        @Option(names = "--batch-size-per-worker", defaultValue = "" + TrainingOptions.DEFAULT_BATCH,
            paramLabel = "N", description = "Minibatch size on each worker. Defaults to ${DEFAULT-VALUE}.")
        int batchSize = TrainingOptions.DEFAULT_BATCH;

        @Option(names = "--averaging-frequency", defaultValue = "auto", paramLabel = "N|auto",
            converter = AveragingFrequencyConverter.class,
            description = "Minibatches per worker between parameter averagings, or auto: the resident engine measures"
                + " a round and a minibatch in a short probe before epoch 1 and averages as often as keeps the exchange"
                + " under 5%% of training (1 to 32; DL4J's master: 10). Defaults to ${DEFAULT-VALUE}.")
        int averagingFrequency = TrainingOptions.AUTO_AVERAGING;

        @Option(names = "--exchange-timeout", defaultValue = "" + TrainingOptions.DEFAULT_EXCHANGE_TIMEOUT_SECONDS,
            paramLabel = "SECONDS", description = "resident engine: how long a worker waits for a peer's parameters"
                + " (or for its peers to start) before failing the stage attempt. Defaults to ${DEFAULT-VALUE}.")
        long exchangeTimeout = TrainingOptions.DEFAULT_EXCHANGE_TIMEOUT_SECONDS;

        @Option(names = "--averaging-overlap", negatable = true,
            defaultValue = "" + TrainingOptions.DEFAULT_AVERAGING_OVERLAP, fallbackValue = "true",
            description = "resident engine: exchange each round while the next round's minibatches are fitted, adding"
                + " each worker's progress meanwhile to the mean when it arrives (hides the wait for the slowest"
                + " worker and the network); --no-averaging-overlap waits for every exchange. Defaults to"
                + " ${DEFAULT-VALUE}.")
        boolean averagingOverlap = TrainingOptions.DEFAULT_AVERAGING_OVERLAP;

        @Option(names = "--worker-prefetch", defaultValue = "" + TrainingOptions.DEFAULT_PREFETCH,
            paramLabel = "N", description = "dl4j engine: minibatches each worker prefetches. Defaults to"
                + " ${DEFAULT-VALUE}.")
        int workerPrefetch = TrainingOptions.DEFAULT_PREFETCH;

        @Option(names = "--rdd-training-approach", defaultValue = "Export", paramLabel = "A",
            description = "dl4j engine: Export (minibatches written to files once per epoch; fast) or Direct."
                + " Defaults to ${DEFAULT-VALUE}.")
        RDDTrainingApproach approach = RDDTrainingApproach.Export;

        @Option(names = "--storage-level", defaultValue = "MEMORY_ONLY", paramLabel = "LEVEL",
            description = "dl4j engine: Spark storage level of the training RDD. Defaults to ${DEFAULT-VALUE}.")
        String storageLevel = "MEMORY_ONLY";

        @Option(names = "--repartition", defaultValue = "Always", paramLabel = "WHEN",
            description = "dl4j engine: Always, Never, NumPartitionsWorkersDiffers. Defaults to ${DEFAULT-VALUE}.")
        Repartition repartition = Repartition.Always;

        @Option(names = "--repartition-strategy", defaultValue = "Balanced", paramLabel = "S",
            description = "dl4j engine: Balanced or SparkDefault. Defaults to ${DEFAULT-VALUE}.")
        RepartitionStrategy repartitionStrategy = RepartitionStrategy.Balanced;

        @Option(names = "--num-partitions", defaultValue = "0", paramLabel = "N",
            description = "Workers (partitions of the data RDDs); 0 = total executor cores. The resident engine"
                + " needs this many task slots at once. Defaults to 0.")
        int numPartitions;

        @Option(names = "--threads-per-task", defaultValue = "0", paramLabel = "N",
            description = "ND4J threads per training task; 0 = cores / concurrent tasks. Defaults to 0.")
        int threadsPerTask;

        @Option(names = "--eval-batch-size", defaultValue = "" + TrainingOptions.DEFAULT_EVAL_BATCH,
            paramLabel = "N", description = "Minibatch size for evaluation. Defaults to ${DEFAULT-VALUE}.")
        int evalBatchSize = TrainingOptions.DEFAULT_EVAL_BATCH;

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
        dev.sparkmnist.runtime.GpuBinding.Policy gpuPolicy = dev.sparkmnist.runtime.GpuBinding.Policy.OPTIONAL;

        @Option(names = "--progress", defaultValue = "auto", paramLabel = "HOW",
            description = "Progress within an epoch: bar (a progress bar on standard error), log (a line every "
                + ProgressDisplay.LOG_INTERVAL_SECONDS + " s), none, or auto (bar on a terminal, else log). On Spark it"
                + " advances with executor heartbeats (spark.executor.heartbeatInterval, 2s unless set). Defaults to"
                + " ${DEFAULT-VALUE}.")
        ProgressDisplay.Kind progress = ProgressDisplay.Kind.AUTO;

        @Option(names = "--dry-run", defaultValue = "false",
            description = "Check the options and the data, print ND4J's estimated off-heap need per JVM and how it"
                + " compares with the limits of the master's JVMs (org.bytedeco.javacpp.maxbytes; on YARN and"
                + " Kubernetes spark.executor.memoryOverhead), and stop before any Spark work. Defaults to false.")
        boolean dryRun;

        @Option(names = "--seed", defaultValue = "42", paramLabel = "S",
            description = "One seed for weights, data order and DL4J's splits. Defaults to ${DEFAULT-VALUE}.")
        long seed = ModelOptions.DEFAULT_SEED;
    }

    static final class CheckpointArgs {
        @Option(names = "--checkpoint-dir", paramLabel = "DIR",
            description = "Write the model (as model.zip: parameters, updater state, normalization; evaluate"
                + " --model-path reads it) to DIR/epoch-NNN.zip every --checkpoint-every epochs and after the last"
                + " one. Any Hadoop path; it must hold no epoch-*.zip yet. Checkpoints are kept when a run fails."
                + " No default (no checkpoints).")
        String dir;

        @Option(names = "--checkpoint-every", paramLabel = "N",
            description = "Epochs between checkpoints (needs --checkpoint-dir). Defaults to 1.")
        Integer every;

        /** --checkpoint-every, or its default. */
        int interval() {
            return every == null ? 1 : every;
        }

        @Option(names = "--resume", defaultValue = "false",
            description = "Continue from the newest checkpoint in --checkpoint-dir (a run killed or stopped early:"
                + " run the same command again with --resume) and keep writing checkpoints there; the earlier"
                + " epochs' figures (metrics.json beside the checkpoints) stay in the report. Model options may be"
                + " given only as the checkpoint has them. With no checkpoint yet it starts from epoch 1 and says so."
                + " Defaults to false.")
        boolean resume;

        @Option(names = "--resume-from", paramLabel = "ZIP",
            description = "Continue training a checkpoint (or a run's model.zip) written by this program, from the"
                + " epoch after the ones it holds up to --epochs: its parameters, updater state, model options,"
                + " normalization and seed are used, so model options may not be given (--model only if it names"
                + " the checkpoint's). No default.")
        String resumeFrom;
    }

    /** Options a resumed run takes from the checkpoint, which must not be given with --resume-from. */
    static final List<String> MODEL_OPTIONS = List.of("--model", "--activation", "--weight-init", "--loss",
        "--updater", "--learning-rate", "--momentum", "--lr-schedule", "--lr-gamma", "--lr-step-epochs",
        "--lr-milestones", "--l2", "--dropout", "--input-padding");

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** The checkpoint this run continues (--resume-from, or the one --resume found), or null. */
    String resumedFrom;

    /** The memory plan, its check and the measured peaks of this JVM, for provenance.json. */
    final Map<String, Object> memory = new java.util.LinkedHashMap<>();

    @ArgGroup(validate = false, heading = "%nData%n")
    DataOptions data = new DataOptions();

    @ArgGroup(validate = false, heading = "%nModel%n")
    ModelArgs model = new ModelArgs();

    @ArgGroup(validate = false, heading = "%nTraining%n")
    TrainingArgs training = new TrainingArgs();

    @ArgGroup(validate = false, heading = "%nSpark%n")
    SparkArgs spark = new SparkArgs();

    @ArgGroup(validate = false, heading = "%nOutput%n")
    OutputArgs output = new OutputArgs();

    @picocli.CommandLine.Mixin
    StoreArgs stores = new StoreArgs();

    @ArgGroup(validate = false, heading = "%nCheckpoints%n")
    CheckpointArgs checkpoints = new CheckpointArgs();

    /**
     * Resolved model options: the architecture's job defaults ({@link ModelOptions#jobDefaults}) where the user gave
     * neither the updater nor the learning rate nor the schedule, else the teaching-material rates, then the user's;
     * L2 and the input padding default to the job's for the architecture whatever the rates.
     */
    ModelOptions modelOptions() {
        ModelOptions base = ModelOptions.jobDefaults(model.architecture);
        Optimizer optimizer = model.optimizer != null ? model.optimizer : base.optimizer();
        boolean baseRate = optimizer == base.optimizer() && model.learningRate == null;
        double lr = model.learningRate != null ? model.learningRate : baseRate ? base.learningRate()
            : optimizer == Optimizer.ADAM ? ModelOptions.ADAM_LEARNING_RATE : ModelOptions.SGD_LEARNING_RATE;
        LrSchedule schedule = model.schedule == null ? (baseRate ? base.schedule() : LrSchedule.NONE)
            : model.schedule == LrSchedule.Kind.NONE ? LrSchedule.NONE
            : new LrSchedule(model.schedule, model.gamma, model.stepEpochs, model.milestones);
        return new ModelOptions(model.architecture, model.activation, model.weightInit, model.loss, optimizer, lr,
            model.momentum, schedule, model.l2 != null ? model.l2 : base.l2(), model.dropout,
            model.inputPadding != null ? model.inputPadding : base.inputPadding(), training.seed);
    }

    /** Training options for an architecture. */
    TrainingOptions trainingOptions(Architecture architecture) {
        return new TrainingOptions(training.epochs, training.seed,
            new TrainingOptions.Input(data.normalization, data.limitTrain, data.limitTest),
            new TrainingOptions.Batching(training.batchSize, training.evalBatchSize),
            new TrainingOptions.Averaging(training.engine, training.averagingFrequency, training.roundsPerStage,
                training.exchangeTimeout, training.averagingOverlap),
            new TrainingOptions.Workers(training.numPartitions, training.threadsPerTask, training.gpuPolicy),
            new TrainingOptions.Dl4jMaster(training.workerPrefetch, training.approach, training.storageLevel,
                training.repartition, training.repartitionStrategy, training.exportDir, training.exportDirShared));
    }

    /** The output directory: --output, or runs/MODEL-TIMESTAMP. */
    String outputDir(Architecture architecture) {
        if (output.output != null) {
            return output.output;
        }
        return "runs/" + architecture.name().toLowerCase(Locale.ROOT) + "-"
            + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TrainCommand.class);

    /** Tasks per JVM in Spark local mode: --num-partitions, else the N of local[N] (all cores for local[*]). */
    int localTasks(org.apache.spark.SparkConf conf) {
        return training.numPartitions > 0 ? training.numPartitions
            : SparkContexts.localThreads(conf.get("spark.master", SparkContexts.EMBEDDED_MASTER));
    }

    @Override
    public Integer call() {
        TrainOutcome outcome = run();
        if (outcome.result() == null) {
            return 0; // --dry-run: the plan is printed
        }
        System.out.println();
        System.out.print(outcome.result().last().test().toText());
        System.out.printf(Locale.ROOT, "%nmodel, metrics and provenance written to %s%n", outcome.output());
        System.out.printf(Locale.ROOT, "report: %s/%s (open it in a browser; charts/ holds the PNGs)%n",
            outcome.output(), dev.sparkmnist.report.Report.HTML);
        return 0;
    }

    /** Validates everything, trains, evaluates, writes the outputs atomically; returns what happened. */
    public TrainOutcome run() {
        if (checkpoints.every != null && checkpoints.dir == null) {
            throw new IllegalArgumentException("--checkpoint-every (" + checkpoints.every + ") needs"
                + " --checkpoint-dir");
        }
        if (checkpoints.every != null && checkpoints.every <= 0) {
            throw new IllegalArgumentException("--checkpoint-every (" + checkpoints.every + ") must be > 0");
        }
        if (training.mode == Mode.MLLIB && (model.architecture != Architecture.MLP || checkpoints.dir != null
            || checkpoints.resumeFrom != null)) {
            throw new IllegalArgumentException("--mode mllib trains MLlib's perceptron (784-256-128-10, sigmoid): it"
                + " needs --model mlp and takes no --checkpoint-dir, --resume or --resume-from");
        }
        // The driver runs ND4J too: with the CUDA build its GPUs must be ones the build's kernels run on.
        dev.sparkmnist.runtime.CudaCompatibility.requireSupported(-1);
        org.apache.spark.SparkConf sparkConf = SparkContexts.conf("spark-mnist train", spark.master, spark.conf);
        Configuration hadoop = SparkContexts.hadoop(sparkConf); // what sc.hadoopConfiguration() will be
        Stores.check(Stores.paths("--data-dir", data.dataDir, "--output", output.output, "--checkpoint-dir",
            checkpoints.dir, "--resume-from", checkpoints.resumeFrom), hadoop, stores.timeoutSeconds);
        Start start = null;
        ModelOptions m;
        List<Map<String, Object>> earlier = List.of();
        String checkpoint = checkpointToResume(hadoop);
        if (checkpoint != null) {
            ModelFiles.Loaded ckpt = resumable(checkpoint, hadoop);
            m = ckpt.modelOptions();
            String source = (checkpoints.resume ? "--resume" : "--resume-from") + " (" + checkpoint + ")";
            if (!given("--normalization")) {
                data.normalization = ckpt.normalization();
            } else if (data.normalization != ckpt.normalization()) {
                throw new IllegalArgumentException("--normalization (" + name(data.normalization)
                    + ") differs from the " + name(ckpt.normalization()) + " that " + source + " was trained with");
            }
            if (!given("--seed")) {
                training.seed = m.seed(); // the same epoch order as the interrupted run
            }
            if (training.epochs <= ckpt.epochs()) {
                throw new IllegalArgumentException("--epochs (" + training.epochs + ") must be greater than the "
                    + ckpt.epochs() + " epochs " + source + " holds");
            }
            start = new Start(dev.sparkmnist.models.Models.skipInputGradient(ckpt.network()), ckpt.epochs());
            resumedFrom = checkpoint;
            if (checkpoints.resume) {
                earlier = Checkpoints.earlierRows(checkpoints.dir, ckpt.epochs(), hadoop);
                LOG.info("--resume: continuing {} from epoch {}", checkpoint, ckpt.epochs() + 1);
            }
        } else if (training.mode == Mode.MLLIB) {
            m = dev.sparkmnist.training.MllibBaseline.equivalentModel(training.seed);
        } else {
            m = modelOptions();
        }
        TrainingOptions t = trainingOptions(m.architecture());
        MnistSet trainSet = MnistSet.trainFrom(data.dataDir, hadoop);
        MnistSet testSet = MnistSet.testFrom(data.dataDir, hadoop);
        int tasks = localTasks(sparkConf);
        boolean singleJvm = training.mode == Mode.LOCAL;
        MemoryPlan plan = MemoryPlan.estimate(m, t, trainSet.limit(t.input().limitTrain()).size(),
            testSet.limit(t.input().limitTest()).size(), singleJvm ? 1 : training.numPartitions > 0
                ? training.numPartitions : tasks, singleJvm);
        MemoryCheck check = MemoryCheck.of(plan, sparkConf, singleJvm, tasks);
        if (training.dryRun) {
            System.out.print(plan.describe(check.tasks(), check.withDriver()));
            System.out.println(check.message());
            if (check.refused()) {
                throw new dev.sparkmnist.data.InvalidInputException(check.message());
            }
            return new TrainOutcome(null, null);
        }
        if (check.refused() && training.mode != Mode.MLLIB) { // MLlib keeps its arrays on the heap
            throw new dev.sparkmnist.data.InvalidInputException(check.message());
        }
        if (check.close()) {
            LOG.warn("{}", check.message());
        } else {
            LOG.info("{}", check.message());
        }
        memory.put("estimatedTaskBytes", plan.taskBytes());
        memory.put("estimatedJvmBytes", check.need());
        memory.put("limitBytes", check.limit());
        memory.put("limitSetting", check.setting());
        String target = outputDir(m.architecture());
        try (AtomicOutput out = AtomicOutput.open(target, output.overwrite, hadoop);
             dev.sparkmnist.runtime.OffHeapMeter meter = dev.sparkmnist.runtime.OffHeapMeter.start()) {
            List<EpochListener> listeners = new ArrayList<>(List.of(
                Listeners.progress(t.epochs()), Listeners.stopOnDivergence()));
            List<java.util.function.BiConsumer<String, String>> metricsTargets = new ArrayList<>();
            metricsTargets.add(out::replaceText);
            Checkpoints ckpts = null;
            if (checkpoints.dir != null) {
                ckpts = Checkpoints.open(checkpoints.dir, checkpoints.interval(), t.epochs(),
                    t.input().normalization(), m, checkpoints.resume && start != null ? start.epochsDone() : 0,
                    hadoop);
                metricsTargets.add(ckpts::replaceText);
            }
            // the epoch's figures are on disk before its checkpoint: a run killed in between resumes from the
            // checkpoint before, and the figures beyond it are dropped then
            EpochMetrics metrics = new EpochMetrics(m, earlier, metricsTargets);
            listeners.add(metrics);
            if (ckpts != null) {
                listeners.add(ckpts); // after the divergence check: a diverged network is not written
            }
            TrainingResult result;
            String sparkVersion = "none";
            if (training.mode == Mode.LOCAL) {
                result = LocalTrainer.train(trainSet, testSet, m, t, hadoop, listeners, start,
                    ProgressDisplay.of(training.progress));
            } else {
                JavaSparkContext sc = SparkContexts.create(sparkConf.setAppName("spark-mnist train "
                    + m.architecture()));
                try {
                    sparkVersion = sc.version();
                    result = training.mode == Mode.MLLIB
                        ? dev.sparkmnist.training.MllibBaseline.train(sc, trainSet, testSet, t,
                            training.mllibMaxIter, listeners)
                        : SparkTrainer.train(sc, trainSet, testSet, m, t, listeners, start,
                            ProgressDisplay.of(training.progress));
                } finally {
                    sc.stop();
                }
            }
            memory.put("peakOffHeapBytes", meter.peakOffHeapBytes());
            memory.put("peakResidentBytes", meter.peakResidentBytes());
            memory.put("measuredIn", "the driver JVM (where local modes train)");
            RunReport.write(out, this, m, t, trainSet, testSet, result, metrics.rows(), sparkVersion, hadoop);
            out.commit();
            return new TrainOutcome(out.target().toString(), result);
        }
    }

    /** The command line as given ({@code spark-mnist ARGS}), or null when run() is called without picocli. */
    String commandLine() {
        if (spec == null || spec.commandLine().getParseResult() == null) {
            return null;
        }
        return "spark-mnist " + Secrets.current().commandLine(spec.commandLine().getParseResult().originalArgs());
    }

    /** Whether the user gave this option on the command line (false when run() is called without picocli). */
    private boolean given(String option) {
        return spec != null && spec.commandLine().getParseResult() != null
            && spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /**
     * The checkpoint to continue: --resume-from's, or with --resume the newest in --checkpoint-dir (null, logged,
     * when there is none yet).
     */
    private String checkpointToResume(Configuration hadoop) {
        if (!checkpoints.resume) {
            return checkpoints.resumeFrom;
        }
        if (checkpoints.resumeFrom != null) {
            throw new IllegalArgumentException("--resume and --resume-from (" + checkpoints.resumeFrom + ") cannot be"
                + " combined: --resume continues the newest checkpoint in --checkpoint-dir");
        }
        if (checkpoints.dir == null) {
            throw new IllegalArgumentException("--resume needs --checkpoint-dir (the directory of the run to"
                + " continue)");
        }
        List<org.apache.hadoop.fs.Path> found = Checkpoints.newestFirst(checkpoints.dir, hadoop);
        if (found.isEmpty()) {
            LOG.warn("--resume: no checkpoint in {} yet: starting from epoch 1", checkpoints.dir);
            return null;
        }
        return found.get(0).toString();
    }

    /**
     * The checkpoint to continue, checked: written by this program, and no model option given beside
     * --resume-from (except a --model naming the checkpoint's architecture, which scripts pass by default); beside
     * --resume, model options may repeat the interrupted command's, so they must resolve to the checkpoint's.
     */
    private ModelFiles.Loaded resumable(String path, Configuration hadoop) {
        String option = checkpoints.resume ? "--resume" : "--resume-from";
        if (!checkpoints.resume) {
            for (String o : MODEL_OPTIONS) {
                if (given(o) && !o.equals("--model")) {
                    throw new IllegalArgumentException(o + " cannot be combined with --resume-from: the"
                        + " checkpoint's model options are used");
                }
            }
        }
        ModelFiles.Loaded ckpt = ModelFiles.load(option, path, hadoop);
        if (ckpt.modelOptions() == null || ckpt.epochs() == null || ckpt.normalization() == null) {
            throw new dev.sparkmnist.data.InvalidInputException(option + " (" + path + ") does not record its"
                + " model options, epochs and normalization: only checkpoints and model.zip files written by this"
                + " version of train can be resumed");
        }
        Architecture saved = ckpt.modelOptions().architecture();
        if (given("--model") && model.architecture != saved) {
            throw new IllegalArgumentException("--model (" + name(model.architecture) + ") differs from the "
                + name(saved) + " that " + option + " (" + path + ") holds");
        }
        if (checkpoints.resume && MODEL_OPTIONS.stream().anyMatch(o -> !o.equals("--model") && given(o))) {
            ModelOptions asGiven = modelOptions().withSeed(ckpt.modelOptions().seed());
            if (!asGiven.equals(ckpt.modelOptions())) {
                throw new IllegalArgumentException("the model options given (" + asGiven + ") differ from those of"
                    + " the checkpoint --resume found (" + path + ": " + ckpt.modelOptions() + "): give the"
                    + " interrupted run's options, or none");
            }
        }
        return ckpt;
    }

    private static String name(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    /**
     * What a train run produced.
     *
     * @param output where the outputs are
     * @param result the network and per-epoch figures
     */
    public record TrainOutcome(String output, TrainingResult result) {
    }
}
