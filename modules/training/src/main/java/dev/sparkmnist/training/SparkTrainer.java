package dev.sparkmnist.training;

import dev.sparkmnist.data.MnistRdds;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.evaluation.Evaluator;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
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
 * Parameter-averaged training on Spark: each epoch builds a freshly shuffled RDD whose partitions read their own
 * slices, DL4J's {@link ParameterAveragingTrainingMaster} fits it, and the network is evaluated on the test split
 * across the cluster.
 */
public final class SparkTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(SparkTrainer.class);

    private SparkTrainer() {
    }

    /** Trains a new network. {@code train} must be a training split and {@code test} a test split. */
    public static TrainingResult train(JavaSparkContext sc, MnistSet train, MnistSet test, ModelOptions model,
                                       TrainingOptions options, List<EpochListener> listeners) {
        return train(sc, train, test, model, options, listeners, null);
    }

    /**
     * Trains a new network ({@code start} null) or continues {@code start}'s network from the epoch after the ones it
     * has done, up to {@code options.epochs()}.
     */
    public static TrainingResult train(JavaSparkContext sc, MnistSet train, MnistSet test, ModelOptions model,
                                       TrainingOptions options, List<EpochListener> listeners, Start start) {
        int threads = options.threadsPerTask() > 0 ? options.threadsPerTask()
            : Nd4jRuntime.threadsPerTask(sc.master(), sc.getConf().getInt("spark.task.cpus", 1),
                Runtime.getRuntime().availableProcessors());
        Nd4jRuntime.configure(threads); // the driver (and, in local mode, the executors)
        int partitions = options.numPartitions() > 0 ? options.numPartitions() : sc.defaultParallelism();
        MnistSet trainSet = train.limit(options.limitTrain());
        MnistSet testSet = test.limit(options.limitTest());

        EpochStatsHook hook = new EpochStatsHook(sc.sc(), threads, options.gpuPolicy());
        String exportDir = exportDirectory(sc, options);
        CompleteSplitTrainingMaster master = trainingMaster(options, hook, exportDir);
        MultiLayerNetwork net = start != null ? start.network() : Models.network(model);
        int firstEpoch = start != null ? start.epochsDone() : 0;
        SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net, master);
        LOG.info("training {} ({} parameters) on {} with {} partitions, {} ND4J thread(s) per task; minibatches"
            + " exported under {}", model.architecture(), net.numParams(), trainSet, partitions, threads, exportDir);
        if (firstEpoch > 0) {
            LOG.info("continuing from epoch {} of {}", firstEpoch + 1, options.epochs());
        }
        EpochLoop.Backend backend = new EpochLoop.Backend() {
            @Override
            public EpochLoop.FitStats fitEpoch(int epoch) {
                JavaRDD<DataSet> data = MnistRdds.trainingEpoch(sc, trainSet, partitions,
                    options.batchSizePerWorker(), options.normalization(), options.seed(), epoch);
                hook.reset();
                try {
                    sparkNet.fit(data);
                } finally {
                    master.deleteTempFiles(sc); // exported minibatches of this epoch's RDD (~190 MB)
                }
                return hook.stats();
            }

            @Override
            public EvaluationReport evaluate() {
                return Evaluator.distributed(sc, sparkNet.getNetwork(), testSet, partitions,
                    options.evalBatchSize(), options.normalization());
            }

            @Override
            public MultiLayerNetwork network() {
                return sparkNet.getNetwork();
            }
        };
        List<EpochResult> epochs;
        try {
            epochs = EpochLoop.run(backend, model, options, listeners, firstEpoch);
        } finally {
            master.deleteExportRoot(sc);
        }
        return new TrainingResult(sparkNet.getNetwork(), epochs, threads, partitions, hook.trainerJvms());
    }

    /**
     * The export directory as a fully qualified URI. DL4J's default is a bare {@code hadoop.tmp.dir} path, which
     * executors may resolve against a different file system than the driver (measured: executors wrote to local
     * disk while the readers looked in HDFS, and every task failed with FileNotFoundException).
     */
    static String exportDirectory(JavaSparkContext sc, TrainingOptions o) {
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

    static CompleteSplitTrainingMaster trainingMaster(TrainingOptions o, EpochStatsHook hook, String exportDir) {
        // Each RDD element holds exactly batchSizePerWorker examples (DL4J does not split larger ones).
        return new CompleteSplitTrainingMaster(new ParameterAveragingTrainingMaster.Builder(o.batchSizePerWorker())
            .batchSizePerWorker(o.batchSizePerWorker())
            .averagingFrequency(o.averagingFrequency())
            .workerPrefetchNumBatches(o.workerPrefetch())
            .rddTrainingApproach(o.approach())
            .storageLevel(TrainingOptions.storageLevel(o.storageLevel()))
            .repartionData(o.repartition())
            .repartitionStrategy(o.repartitionStrategy())
            .exportDirectory(exportDir)
            .rngSeed(o.seed())
            .saveUpdater(true)
            .collectTrainingStats(false) // off: its timing asks an NTP server, which fails offline
            .trainingHooks(hook), o.exportDirShared());
    }
}
