package dev.sparkmnist.app;

import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.runs.AtomicOutput;
import dev.sparkmnist.runs.Checkpoints;
import dev.sparkmnist.runs.EpochMetrics;
import dev.sparkmnist.runs.RunFiles;
import dev.sparkmnist.runs.RunRecord;
import dev.sparkmnist.runs.Secrets;
import dev.sparkmnist.runs.Stores;
import dev.sparkmnist.runtime.CudaCompatibility;
import dev.sparkmnist.runtime.OffHeapMeter;
import dev.sparkmnist.training.EpochListener;
import dev.sparkmnist.training.Listeners;
import dev.sparkmnist.training.baseline.LocalTrainer;
import dev.sparkmnist.training.baseline.MllibBaseline;
import dev.sparkmnist.training.SparkTrainer;
import dev.sparkmnist.training.Start;
import dev.sparkmnist.training.TrainingOptions;
import dev.sparkmnist.training.TrainingResult;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code train}: trains MLP or LeNet-5 on MNIST with Spark parameter averaging (or in one JVM) and writes the run's
 * directory. The options live in their groups ({@link DataArgs}, {@link ModelArgs}, {@link TrainingArgs},
 * {@link CheckpointArgs}, ...), each default once; this class orchestrates the run.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Train a network on MNIST and evaluate it on the t10k test split after every epoch.")
public final class TrainCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

    @Spec
    CommandSpec spec;

    @ArgGroup(validate = false, heading = "%nData%n")
    DataArgs data = new DataArgs();

    @ArgGroup(validate = false, heading = "%nModel%n")
    ModelArgs model = new ModelArgs();

    @ArgGroup(validate = false, heading = "%nTraining%n")
    TrainingArgs training = new TrainingArgs();

    @ArgGroup(validate = false, heading = "%nSpark%n")
    SparkArgs spark = new SparkArgs();

    @ArgGroup(validate = false, heading = "%nOutput%n")
    OutputArgs output = new OutputArgs();

    @Mixin
    StoreArgs stores = new StoreArgs();

    @ArgGroup(validate = false, heading = "%nCheckpoints%n")
    CheckpointArgs checkpoints = new CheckpointArgs();

    /** Resolved model options (see {@link ModelArgs#resolve}). */
    ModelOptions modelOptions() {
        return model.resolve(training.seed);
    }

    /** Resolved training options. */
    TrainingOptions trainingOptions() {
        return training.resolve(data);
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
            outcome.output(), dev.sparkmnist.report.HtmlReport.HTML);
        return 0;
    }

    /** Validates everything, trains, evaluates, writes the outputs atomically; returns what happened. */
    public TrainOutcome run() {
        checkCombinations();
        // the options' own rules first, before ND4J, Spark or a store is touched: one line and exit 2 in a second
        // (resolved again below, after a resumption has taken the seed and normalisation from its checkpoint)
        trainingOptions();
        if (training.mode != TrainingArgs.Mode.MLLIB && !checkpoints.resume && checkpoints.resumeFrom == null) {
            modelOptions();
        }
        // The driver runs ND4J too: with the CUDA build its GPUs must be ones the build's kernels run on.
        CudaCompatibility.requireSupported(-1);
        SparkConf sparkConf = SparkContexts.conf("spark-mnist train", spark.master, spark.conf);
        Configuration hadoop = SparkContexts.hadoop(sparkConf); // what sc.hadoopConfiguration() will be
        Stores.check(Stores.paths("--data-dir", data.dataDir, "--output", output.output, "--checkpoint-dir",
            checkpoints.dir, "--resume-from", checkpoints.resumeFrom), hadoop, stores.timeoutSeconds);
        if (!training.dryRun) { // a memory plan needs no cluster manager: planned from a machine outside the cluster
            MasterCheck.requireClusterManager(sparkConf);
        }
        Resumption.Point resumed = new Resumption(checkpoints, this::given).find(model, data, training, hadoop);
        ModelOptions m = resumed != null ? resumed.model()
            : training.mode == TrainingArgs.Mode.MLLIB ? MllibBaseline.equivalentModel(training.seed)
            : modelOptions();
        TrainingOptions t = trainingOptions();
        try (TrainingInput input = TrainingInput.of(data.dataDir, data.format, sparkConf, hadoop,
            () -> requireMaster(sparkConf, hadoop))) {
            return run(m, t, resumed, input, sparkConf, hadoop);
        }
    }

    /** The run on the training input's idx files: plan, train, write. */
    private TrainOutcome run(ModelOptions m, TrainingOptions t, Resumption.Point resumed, TrainingInput input,
                             SparkConf sparkConf, Configuration hadoop) {
        MnistSet trainSet = MnistSet.trainFrom(input.dir(), hadoop);
        MnistSet testSet = MnistSet.testFrom(input.dir(), hadoop);
        Map<String, Object> memory = new LinkedHashMap<>();
        if (!memoryFits(m, t, trainSet, testSet, sparkConf, memory)) {
            return new TrainOutcome(null, null); // --dry-run: a memory plan needs no master
        }
        if (training.mode != TrainingArgs.Mode.LOCAL) { // one JVM trains without the master
            requireMaster(sparkConf, hadoop); // after the plan's numbers, which refuse without a cluster
        }
        try (AtomicOutput out = AtomicOutput.open(outputDir(m.architecture()), output.overwrite, hadoop);
             OffHeapMeter meter = OffHeapMeter.start()) {
            List<BiConsumer<String, String>> metricsTargets = new ArrayList<>(List.of(out::replaceText));
            Checkpoints ckpts = checkpoints.dir == null ? null : Checkpoints.open(checkpoints.dir,
                checkpoints.interval(), t.epochs(), t.input().normalization(), m,
                checkpoints.resume && resumed != null ? resumed.start().epochsDone() : 0, hadoop);
            if (ckpts != null) {
                metricsTargets.add(ckpts::replaceText);
            }
            // the epoch's figures are on disk before its checkpoint: a run killed in between resumes from the
            // checkpoint before, and the figures beyond it are dropped then
            EpochMetrics metrics = new EpochMetrics(m, resumed != null ? resumed.earlierRows() : List.of(),
                metricsTargets);
            List<EpochListener> listeners = new ArrayList<>(List.of(
                Listeners.progress(t.epochs()), Listeners.stopOnDivergence(), metrics));
            if (ckpts != null) {
                listeners.add(ckpts); // after the divergence check: a diverged network is not written
            }
            Trained trained = train(sparkConf, trainSet, testSet, m, t, listeners,
                resumed != null ? resumed.start() : null);
            memory.put("peakOffHeapBytes", meter.peakOffHeapBytes());
            memory.put("peakResidentBytes", meter.peakResidentBytes());
            memory.put("measuredIn", "the driver JVM (where local modes train)");
            RunRecord record = new RunRecord(invocation(), m, t, trainSet, testSet, memory,
                resumed != null ? resumed.path() : null, checkpoints.dir == null ? null
                : new RunRecord.Checkpointing(checkpoints.dir, checkpoints.interval()));
            RunFiles.write(out, record, trained.result(), metrics.rows(), trained.sparkVersion(), hadoop);
            out.commit();
            return new TrainOutcome(out.target().toString(), trained.result());
        }
    }

    /** Whether {@link #requireMaster} has asked the master. */
    private boolean masterAnswered;

    /** Asks the master for a connection before the run's first Spark work, once ({@link MasterCheck}). */
    private void requireMaster(SparkConf sparkConf, Configuration hadoop) {
        if (!masterAnswered) {
            MasterCheck.requireReachable(sparkConf, hadoop, stores.timeoutSeconds);
            masterAnswered = true;
        }
    }

    /** Options that are each valid but not together. */
    private void checkCombinations() {
        if (checkpoints.every != null && checkpoints.dir == null) {
            throw new IllegalArgumentException("--checkpoint-every (" + checkpoints.every + ") needs"
                + " --checkpoint-dir");
        }
        if (checkpoints.every != null && checkpoints.every <= 0) {
            throw new IllegalArgumentException("--checkpoint-every (" + checkpoints.every + ") must be > 0");
        }
        if (training.mode == TrainingArgs.Mode.MLLIB && (model.architecture != Architecture.MLP
            || checkpoints.dir != null || checkpoints.resumeFrom != null
            || model.randomShift != null && model.randomShift != 0)) {
            throw new IllegalArgumentException("--mode mllib trains MLlib's perceptron (784-256-128-10, sigmoid): it"
                + " needs --model mlp and takes no --checkpoint-dir, --resume, --resume-from or --random-shift");
        }
    }

    /**
     * The memory plan against the JVMs' limits: refuses a plan that cannot fit, prints it for --dry-run (then
     * false: stop), and records its figures in {@code memory} for provenance.json.
     */
    private boolean memoryFits(ModelOptions m, TrainingOptions t, MnistSet trainSet, MnistSet testSet,
                               SparkConf sparkConf, Map<String, Object> memory) {
        int tasks = localTasks(sparkConf);
        boolean singleJvm = training.mode == TrainingArgs.Mode.LOCAL;
        MemoryPlan plan = MemoryPlan.estimate(m, t, trainSet.limit(t.input().limitTrain()).size(),
            testSet.limit(t.input().limitTest()).size(), singleJvm ? 1 : training.numPartitions > 0
                ? training.numPartitions : tasks, singleJvm);
        MemoryCheck check = MemoryCheck.of(plan, sparkConf, singleJvm, tasks);
        if (training.dryRun) {
            System.out.print(plan.describe(check.tasks(), check.withDriver()));
            System.out.println(check.message());
            System.out.println(MemoryPlan.heapLine(trainSet.recordBytes() + testSet.recordBytes(),
                MemoryCheck.trainingHeap(sparkConf, singleJvm)));
            if (check.refused()) {
                throw new InvalidInputException(check.message());
            }
            return false;
        }
        if (check.refused() && training.mode != TrainingArgs.Mode.MLLIB) { // MLlib keeps its arrays on the heap
            throw new InvalidInputException(check.message());
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
        return true;
    }

    /** A training pass's result and the Spark version it ran on ("none" in one JVM). */
    private record Trained(TrainingResult result, String sparkVersion) {
    }

    /** Trains in the mode asked for: one JVM, MLlib's baseline, or an averaging engine on Spark. */
    private Trained train(SparkConf sparkConf, MnistSet trainSet, MnistSet testSet, ModelOptions m,
                          TrainingOptions t, List<EpochListener> listeners, Start start) {
        if (training.mode == TrainingArgs.Mode.LOCAL) {
            return new Trained(LocalTrainer.train(trainSet, testSet, m, t, SparkContexts.hadoop(sparkConf),
                listeners, start, ProgressDisplay.of(training.progress)), "none");
        }
        JavaSparkContext sc = SparkContexts.create(sparkConf.setAppName("spark-mnist train " + m.architecture()));
        try {
            TrainingResult result = training.mode == TrainingArgs.Mode.MLLIB
                ? MllibBaseline.train(sc, trainSet, testSet, t, training.mllibMaxIter, listeners)
                : SparkTrainer.train(sc, trainSet, testSet, m, t, listeners, start,
                    ProgressDisplay.of(training.progress));
            return new Trained(result, sc.version());
        } finally {
            sc.stop();
        }
    }

    /** How this run was started, as provenance.json records it. */
    private RunRecord.Invocation invocation() {
        String master = training.mode == TrainingArgs.Mode.LOCAL ? null : spark.master != null ? spark.master
            : System.getProperty("spark.master", SparkContexts.EMBEDDED_MASTER);
        return new RunRecord.Invocation(training.mode.name().toLowerCase(Locale.ROOT), master, commandLine(),
            data.dataDir);
    }

    /** The output directory: --output, or runs/MODEL-TIMESTAMP. */
    String outputDir(Architecture architecture) {
        if (output.output != null) {
            return output.output;
        }
        return "runs/" + architecture.name().toLowerCase(Locale.ROOT) + "-"
            + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }

    /** Tasks per JVM in Spark local mode: --num-partitions, else the N of local[N] (all cores for local[*]). */
    int localTasks(SparkConf conf) {
        return training.numPartitions > 0 ? training.numPartitions
            : SparkContexts.localThreads(conf.get("spark.master", SparkContexts.EMBEDDED_MASTER));
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
     * What a train run produced.
     *
     * @param output where the outputs are
     * @param result the network and per-epoch figures
     */
    public record TrainOutcome(String output, TrainingResult result) {
    }
}
