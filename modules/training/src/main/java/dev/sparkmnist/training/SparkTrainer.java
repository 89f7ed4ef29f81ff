package dev.sparkmnist.training;

import dev.sparkmnist.data.MnistRdds;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.evaluation.Evaluator;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.runtime.Nd4jRuntime;
import dev.sparkmnist.runtime.TaskSetup;
import dev.sparkmnist.training.dl4j.Dl4jTraining;
import dev.sparkmnist.training.resident.ResidentTraining;
import dev.sparkmnist.training.resident.Slots;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SerializableWritable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parameter-averaged training on Spark with one of two engines, then evaluation on the test split across the
 * cluster after every epoch: the resident engine ({@link ResidentTraining}, the default) keeps one long-lived task
 * per worker and averages executor to executor; DL4J's master ({@link Dl4jTraining}, kept for comparison) runs one
 * Spark job per averaging round. Both are {@link EpochEngine}s under the same {@link EpochLoop}.
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
        int threads = w.threadsPerTask() > 0 ? w.threadsPerTask() : Nd4jRuntime.threadsPerTask(sc.sc());
        Nd4jRuntime.configure(threads); // the driver (and, in local mode, the executors)
        boolean resident = options.averaging().engine() == TrainingOptions.Engine.RESIDENT;
        int partitions = resident ? Slots.workers(sc, w.count(), Slots.waitSeconds(sc.getConf()))
            : w.count() > 0 ? w.count() : sc.defaultParallelism();
        MnistSet testSet = test.limit(options.input().limitTest());
        Start from = start != null ? start : new Start(Models.network(model), 0);
        if (from.epochsDone() > 0) {
            LOG.info("continuing from epoch {} of {}", from.epochsDone() + 1, options.epochs());
        }
        TaskSetup setup = new TaskSetup(threads, w.gpuPolicy());
        // one broadcast of the Hadoop configuration for every read of the run: each epoch's evaluation broadcast its
        // own before (10-20 ms of the driver's time an epoch)
        Broadcast<SerializableWritable<Configuration>> hadoop = MnistRdds.hadoopConf(sc);
        try {
            SparkRun run = new SparkRun(sc, train.limit(options.input().limitTrain()), testSet, model, options,
                listeners, from, partitions, setup, hadoop, (MultiLayerNetwork trained) -> Evaluator.distributed(sc,
                    trained, testSet, partitions, options.batching().eval(), options.input().normalization(), setup,
                    hadoop), progress);
            return resident ? ResidentTraining.train(run) : Dl4jTraining.train(run);
        } finally {
            if (!sc.sc().isStopped()) { // a stopped context has no block manager left to destroy it with
                hadoop.destroy();
            }
        }
    }
}
