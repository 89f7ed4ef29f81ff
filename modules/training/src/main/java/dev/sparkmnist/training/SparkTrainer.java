package dev.sparkmnist.training;

import dev.sparkmnist.runtime.Nd4jRuntime;
import dev.sparkmnist.runtime.TaskSetup;

import dev.sparkmnist.data.MnistRdds;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.evaluation.Evaluator;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.training.resident.ResidentEngine;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parameter-averaged training on Spark with one of two engines, then evaluation on the test split across the
 * cluster after every epoch. The resident engine ({@link ResidentEngine}, the default) keeps one long-lived task per
 * worker and averages executor to executor; DL4J's {@link ParameterAveragingTrainingMaster} (kept for
 * comparison) fits a freshly shuffled RDD whose partitions read their own slices, one Spark job per averaging
 * round.
 */
public final class SparkTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(SparkTrainer.class);

    private SparkTrainer() {
    }

    /** Trains a new network. {@code train} must be a training split and {@code test} a test split. */
    public static TrainingResult train(JavaSparkContext sc, MnistSet train, MnistSet test, ModelOptions model,
                                       TrainingOptions options, List<EpochListener> listeners) {
        return train(sc, train, test, model, options, listeners, null, EpochProgress.NONE);
    }

    /**
     * Trains a new network ({@code start} null) or continues {@code start}'s network from the epoch after the ones it
     * has done, up to {@code options.epochs()}, reporting the examples fitted while each epoch runs to
     * {@code progress} (as executor heartbeats bring them: {@code spark.executor.heartbeatInterval}).
     */
    public static TrainingResult train(JavaSparkContext sc, MnistSet train, MnistSet test, ModelOptions model,
                                       TrainingOptions options, List<EpochListener> listeners, Start start,
                                       EpochProgress progress) {
        TrainingOptions.Workers w = options.workers();
        int threads = w.threadsPerTask() > 0 ? w.threadsPerTask()
            : Nd4jRuntime.threadsPerTask(sc.sc());
        Nd4jRuntime.configure(threads); // the driver (and, in local mode, the executors)
        int partitions = options.averaging().engine() == TrainingOptions.Engine.RESIDENT
            ? ResidentEngine.workers(sc, w.count(), ResidentEngine.DEFAULT_SLOT_WAIT_SECONDS)
            : w.count() > 0 ? w.count() : sc.defaultParallelism();
        MnistSet trainSet = train.limit(options.input().limitTrain());
        MnistSet testSet = test.limit(options.input().limitTest());
        MultiLayerNetwork net = start != null ? start.network() : Models.network(model);
        int firstEpoch = start != null ? start.epochsDone() : 0;
        if (firstEpoch > 0) {
            LOG.info("continuing from epoch {} of {}", firstEpoch + 1, options.epochs());
        }
        TaskSetup setup = new TaskSetup(threads, w.gpuPolicy());
        Evaluation evaluation = trained -> Evaluator.distributed(sc, trained, testSet, partitions,
            options.batching().eval(), options.input().normalization(), setup);
        if (options.averaging().engine() == TrainingOptions.Engine.RESIDENT) {
            return resident(sc, trainSet, model, options, listeners, net, firstEpoch, partitions, setup, evaluation,
                progress);
        }
        return dl4j(sc, trainSet, model, options, listeners, net, firstEpoch, partitions, setup, evaluation,
            progress);
    }

    /** Evaluates the driver's network on the test split across the cluster. */
    private interface Evaluation {
        EvaluationReport run(MultiLayerNetwork trained);
    }

    private static TrainingResult resident(JavaSparkContext sc, MnistSet trainSet, ModelOptions model,
                                           TrainingOptions options, List<EpochListener> listeners,
                                           MultiLayerNetwork net, int firstEpoch, int partitions, TaskSetup setup,
                                           Evaluation evaluation, EpochProgress progress) {
        int threads = setup.threads();
        TrainingOptions.Averaging averaging = options.averaging();
        ResidentEngine engine = new ResidentEngine(sc, trainSet, new ResidentEngine.Settings(partitions,
            options.batching().perWorker(), averaging.frequency(), averaging.roundsPerStage(),
            options.input().normalization(), options.seed(), setup, averaging.exchangeTimeoutSeconds(),
            ResidentEngine.DEFAULT_SLOT_WAIT_SECONDS, averaging.overlap()));
        try {
            int frequency = engine.frequency(net); // with auto: a short probe stage measures what a round costs
            boolean overlapped = partitions > 1 && averaging.overlap(); // one worker exchanges nothing
            LOG.info("training {} ({} parameters) on {} with the resident engine: {} workers, {} ND4J thread(s)"
                + " each, averaging every {} minibatches{}{}", model.architecture(), net.numParams(), trainSet,
                partitions, threads, frequency, averaging.auto() ? " (auto)" : "",
                overlapped ? ", each exchange overlapping the next round" : "");
            TrainingResult.Averaging how = new TrainingResult.Averaging(frequency, averaging.auto() ? "auto"
                : "given", engine.autoFrequency(), overlapped);
            return residentEpochs(sc, trainSet, model, options, listeners, net, firstEpoch, partitions, threads,
                evaluation, progress, engine, how);
        } finally {
            engine.close();
        }
    }

    private static TrainingResult residentEpochs(JavaSparkContext sc, MnistSet trainSet, ModelOptions model,
                                                 TrainingOptions options, List<EpochListener> listeners,
                                                 MultiLayerNetwork net, int firstEpoch, int partitions, int threads,
                                                 Evaluation evaluation, EpochProgress progress,
                                                 ResidentEngine engine, TrainingResult.Averaging how) {
        java.util.Set<String> jvms = new java.util.TreeSet<>();
        SparkProgress watcher = SparkProgress.watch(sc.sc(), engine.examplesFitted(), progress);
        EpochLoop.Backend backend = new EpochLoop.Backend() {
            @Override
            public EpochLoop.FitStats fitEpoch(int epoch) {
                watcher.reset();
                ResidentEngine.EpochFit fit = engine.fitEpoch(net, epoch);
                jvms.clear();
                jvms.addAll(fit.jvms());
                LOG.info("epoch {}: {} rounds in {} stage(s); per worker: fit {}s, averaging {}s (waiting for"
                    + " peers {}s), reading {}s, {} KB moved per round", epoch + 1, fit.rounds(), fit.stages(),
                    String.format(java.util.Locale.ROOT, "%.2f", fit.computeSeconds()),
                    String.format(java.util.Locale.ROOT, "%.2f", fit.exchangeSeconds()),
                    String.format(java.util.Locale.ROOT, "%.2f", fit.waitSeconds()),
                    String.format(java.util.Locale.ROOT, "%.2f", fit.readSeconds()), fit.bytesPerRound() / 1024);
                return new EpochLoop.FitStats(fit.lossSum(), fit.minibatches(), fit.examples(), fit.rounds(),
                    fit.computeSeconds(), fit.stageAttempts() - fit.stages());
            }

            @Override
            public EvaluationReport evaluate() {
                return evaluation.run(net);
            }

            @Override
            public MultiLayerNetwork network() {
                return net;
            }
        };
        List<EpochResult> epochs;
        try {
            epochs = EpochLoop.run(backend, model, options, listeners, firstEpoch, progress, trainSet.size());
        } finally {
            watcher.close();
        }
        return new TrainingResult(net, epochs, threads, partitions, jvms, how);
    }

    private static TrainingResult dl4j(JavaSparkContext sc, MnistSet trainSet, ModelOptions model,
                                       TrainingOptions options, List<EpochListener> listeners,
                                       MultiLayerNetwork net, int firstEpoch, int partitions, TaskSetup setup,
                                       Evaluation evaluation, EpochProgress progress) {
        int threads = setup.threads();
        EpochStatsHook hook = new EpochStatsHook(sc.sc(), setup);
        SparkProgress watcher = SparkProgress.watch(sc.sc(), hook.examplesFitted(), progress);
        String exportDir = exportDirectory(sc, options);
        CompleteSplitTrainingMaster master = trainingMaster(options, hook, exportDir);
        SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net, master);
        LOG.info("training {} ({} parameters) on {} with DL4J's parameter averaging master: {} partitions, {} ND4J"
            + " thread(s) per task; minibatches exported under {}", model.architecture(), net.numParams(), trainSet,
            partitions, threads, exportDir);
        EpochLoop.Backend backend = new EpochLoop.Backend() {
            @Override
            public EpochLoop.FitStats fitEpoch(int epoch) {
                JavaRDD<DataSet> data = MnistRdds.trainingEpoch(sc, trainSet, partitions,
                    options.batching().perWorker(), options.input().normalization(), options.seed(), epoch);
                hook.reset();
                watcher.reset();
                try {
                    sparkNet.fit(data);
                } finally {
                    master.deleteTempFiles(sc); // exported minibatches of this epoch's RDD (~190 MB)
                }
                return hook.stats(partitions, options.averaging().dl4jFrequency());
            }

            @Override
            public EvaluationReport evaluate() {
                return evaluation.run(sparkNet.getNetwork());
            }

            @Override
            public MultiLayerNetwork network() {
                return sparkNet.getNetwork();
            }
        };
        List<EpochResult> epochs;
        try {
            epochs = EpochLoop.run(backend, model, options, listeners, firstEpoch, progress, trainSet.size());
        } finally {
            watcher.close();
            master.deleteExportRoot(sc);
        }
        TrainingResult.Averaging how = new TrainingResult.Averaging(options.averaging().dl4jFrequency(),
            options.averaging().auto() ? "dl4j-auto" : "given", null, false);
        return new TrainingResult(sparkNet.getNetwork(), epochs, threads, partitions, hook.trainerJvms(), how);
    }

    /**
     * The export directory as a fully qualified URI. DL4J's default is a bare {@code hadoop.tmp.dir} path, which
     * executors may resolve against a different file system than the driver (measured: executors wrote to local
     * disk while the readers looked in HDFS, and every task failed with FileNotFoundException).
     */
    static String exportDirectory(JavaSparkContext sc, TrainingOptions options) {
        TrainingOptions.Dl4jMaster o = options.dl4j();
        String dir = o.exportDir() != null && !o.exportDir().isBlank() ? o.exportDir()
            : sc.hadoopConfiguration().get("hadoop.tmp.dir") + "/dl4j";
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(dir);
        try {
            return p.getFileSystem(sc.hadoopConfiguration()).makeQualified(p).toString();
        } catch (java.io.IOException e) {
            throw new dev.sparkmnist.data.InvalidInputException("--export-dir (" + dir + ") is not usable: "
                + e.getMessage(), e);
        }
    }

    static CompleteSplitTrainingMaster trainingMaster(TrainingOptions options, EpochStatsHook hook,
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
