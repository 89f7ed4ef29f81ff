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
        int threads = options.threadsPerTask() > 0 ? options.threadsPerTask()
            : Nd4jRuntime.threadsPerTask(sc.master(), sc.getConf().getInt("spark.task.cpus", 1),
                Runtime.getRuntime().availableProcessors());
        Nd4jRuntime.configure(threads); // the driver (and, in local mode, the executors)
        int partitions = options.numPartitions() > 0 ? options.numPartitions() : sc.defaultParallelism();
        MnistSet trainSet = train.limit(options.limitTrain());
        MnistSet testSet = test.limit(options.limitTest());

        EpochStatsHook hook = new EpochStatsHook(sc.sc(), threads);
        ParameterAveragingTrainingMaster master = trainingMaster(options, hook);
        MultiLayerNetwork net = Models.network(model.withSeed(model.seed()));
        SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net, master);
        LOG.info("training {} ({} parameters) on {} with {} partitions, {} ND4J thread(s) per task",
            model.architecture(), net.numParams(), trainSet, partitions, threads);
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
        List<EpochResult> epochs = EpochLoop.run(backend, model, options, listeners);
        return new TrainingResult(sparkNet.getNetwork(), epochs, threads, partitions);
    }

    static ParameterAveragingTrainingMaster trainingMaster(TrainingOptions o, EpochStatsHook hook) {
        // Each RDD element holds exactly batchSizePerWorker examples (DL4J does not split larger ones).
        return new CompleteSplitTrainingMaster(new ParameterAveragingTrainingMaster.Builder(o.batchSizePerWorker())
            .batchSizePerWorker(o.batchSizePerWorker())
            .averagingFrequency(o.averagingFrequency())
            .workerPrefetchNumBatches(o.workerPrefetch())
            .rddTrainingApproach(o.approach())
            .storageLevel(TrainingOptions.storageLevel(o.storageLevel()))
            .repartionData(o.repartition())
            .repartitionStrategy(o.repartitionStrategy())
            .rngSeed(o.seed())
            .saveUpdater(true)
            .collectTrainingStats(false)
            .trainingHooks(hook));
    }
}
