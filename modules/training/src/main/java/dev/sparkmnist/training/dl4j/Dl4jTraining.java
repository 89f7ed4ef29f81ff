package dev.sparkmnist.training.dl4j;

import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.MnistRdds;
import dev.sparkmnist.data.RandomShift;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.training.EpochEngine;
import dev.sparkmnist.training.EpochResult;
import dev.sparkmnist.training.SparkProgress;
import dev.sparkmnist.training.SparkRun;
import dev.sparkmnist.training.TrainingOptions;
import dev.sparkmnist.training.TrainingResult;
import java.io.IOException;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training with DL4J's {@link ParameterAveragingTrainingMaster} (kept for comparison with the resident engine): each
 * epoch fits a freshly shuffled RDD whose partitions read their own slices, one Spark job per averaging round.
 */
public final class Dl4jTraining implements EpochEngine {
    private static final Logger LOG = LoggerFactory.getLogger(Dl4jTraining.class);

    private final SparkRun run;
    private final EpochStatsHook hook;
    private final SparkProgress watcher;
    private final CompleteSplitTrainingMaster master;
    private final SparkDl4jMultiLayer sparkNet;

    private Dl4jTraining(SparkRun run, String exportDir) {
        this.run = run;
        JavaSparkContext sc = run.sc();
        this.hook = new EpochStatsHook(sc.sc(), run.setup());
        this.master = trainingMaster(run.options(), hook, exportDir);
        // its workers fit with DL4J's layers and this project's updaters: their kernel warms as the run sets up
        dev.sparkmnist.models.Models.warmUpUpdaterKernel(run.network());
        this.sparkNet = new SparkDl4jMultiLayer(sc, run.network(), master);
        sparkNet.setListeners(new dev.sparkmnist.models.SubnormalFlush()); // DL4J's workers build their own networks
        this.watcher = SparkProgress.watch(sc.sc(), hook.examplesFitted(), run.progress());
    }

    /** Trains {@code run}'s network for the epochs it has still to do. */
    public static TrainingResult train(SparkRun run) {
        JavaSparkContext sc = run.sc();
        String exportDir = exportDirectory(sc, run.options());
        Dl4jTraining engine = new Dl4jTraining(run, exportDir);
        LOG.info("training {} ({} parameters) on {} with DL4J's parameter averaging master: {} partitions, {} ND4J"
            + " thread(s) per task; minibatches exported under {}", run.model().architecture(),
            run.network().numParams(), run.train(), run.partitions(), run.setup().threads(), exportDir);
        List<EpochResult> epochs;
        try {
            epochs = run.epochs(engine);
        } finally {
            engine.watcher.close();
            engine.master.deleteExportRoot(sc);
        }
        TrainingOptions.Averaging averaging = run.options().averaging();
        TrainingResult.Averaging how = new TrainingResult.Averaging(averaging.dl4jFrequency(),
            averaging.auto() ? "dl4j-auto" : "given", null, false, "round"); // DL4J's master averages updaters
        return new TrainingResult(engine.network(), epochs, run.setup().threads(), run.partitions(),
            engine.hook.trainerJvms(), how);
    }

    @Override
    public FitStats fitEpoch(int epoch) {
        TrainingOptions options = run.options();
        JavaRDD<DataSet> data = MnistRdds.trainingEpoch(run.sc(), run.train(), run.partitions(),
            options.batching().perWorker(), options.input().normalization(),
            RandomShift.of(run.model().randomShift(), options.seed()), options.seed(), epoch, run.hadoop());
        hook.reset();
        watcher.reset();
        try {
            sparkNet.fit(data);
        } finally {
            master.deleteTempFiles(run.sc()); // exported minibatches of this epoch's RDD (~190 MB)
        }
        return hook.stats(run.partitions(), options.averaging().dl4jFrequency());
    }

    @Override
    public EvaluationReport evaluate() {
        return run.evaluation().apply(sparkNet.getNetwork());
    }

    @Override
    public MultiLayerNetwork network() {
        return sparkNet.getNetwork();
    }

    /**
     * The export directory as a fully qualified URI. DL4J's default is a bare {@code hadoop.tmp.dir} path, which
     * executors may resolve against a different file system than the driver (measured: executors wrote to local
     * disk while the readers looked in HDFS, and every task failed with FileNotFoundException).
     */
    public static String exportDirectory(JavaSparkContext sc, TrainingOptions options) {
        TrainingOptions.Dl4jMaster o = options.dl4j();
        String dir = o.exportDir() != null && !o.exportDir().isBlank() ? o.exportDir()
            : sc.hadoopConfiguration().get("hadoop.tmp.dir") + "/dl4j";
        Path p = new Path(dir);
        try {
            return p.getFileSystem(sc.hadoopConfiguration()).makeQualified(p).toString();
        } catch (IOException e) {
            throw new InvalidInputException("--export-dir (" + dir + ") is not usable: " + e.getMessage(), e);
        }
    }

    public static CompleteSplitTrainingMaster trainingMaster(TrainingOptions options, EpochStatsHook hook,
                                                      String exportDir) {
        TrainingOptions.Dl4jMaster o = options.dl4j();
        int batch = options.batching().perWorker();
        // Each RDD element holds exactly batchSizePerWorker examples (DL4J does not split larger ones).
        return new CompleteSplitTrainingMaster(new ParameterAveragingTrainingMaster.Builder(batch)
            .batchSizePerWorker(batch)
            .averagingFrequency(options.averaging().dl4jFrequency())
            .workerPrefetchNumBatches(o.workerPrefetch())
            .rddTrainingApproach(o.approach())
            .storageLevel(TrainingOptions.storageLevel(o.storageLevel()))
            .repartionData(o.repartition())
            .repartitionStrategy(o.repartitionStrategy())
            .exportDirectory(exportDir)
            .rngSeed(options.seed())
            .saveUpdater(true)
            .collectTrainingStats(false) // off: its timing asks an NTP server, which fails offline
            .trainingHooks(hook), o.exportDirShared());
    }
}
