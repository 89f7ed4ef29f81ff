package dev.sparkmnist.training.baseline;

import dev.sparkmnist.runtime.FlushToZero;
import dev.sparkmnist.runtime.Nd4jRuntime;

import dev.sparkmnist.data.EpochReaders;
import dev.sparkmnist.data.MnistBatches;
import dev.sparkmnist.data.SliceReader;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.PartitionPlan;
import dev.sparkmnist.data.RandomShift;
import dev.sparkmnist.data.Role;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.evaluation.Evaluator;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.training.EpochEngine;
import dev.sparkmnist.training.EpochListener;
import dev.sparkmnist.training.EpochLoop;
import dev.sparkmnist.training.EpochProgress;
import dev.sparkmnist.training.Start;
import dev.sparkmnist.training.TrainLoss;
import dev.sparkmnist.training.TrainingOptions;
import dev.sparkmnist.training.TrainingResult;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-JVM baseline: {@code MultiLayerNetwork.fit} on the same model, batches, epoch order and test split as
 * {@link dev.sparkmnist.training.SparkTrainer}, with no Spark involved. Users want this figure to judge what the cluster buys.
 */
public final class LocalTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(LocalTrainer.class);
    /** Minibatches read at a time (the next chunk on a background thread while this one is fitted). */
    private static final int BATCHES_PER_CHUNK = 32;

    private LocalTrainer() {
    }

    /** Trains a new network in this JVM with all cores (or {@code threadsPerTask} when set). */
    public static TrainingResult train(MnistSet train, MnistSet test, ModelOptions model, TrainingOptions options,
                                       Configuration hadoopConf, List<EpochListener> listeners) {
        return train(train, test, model, options, hadoopConf, listeners, null, EpochProgress.NONE);
    }

    /**
     * As above, continuing {@code start}'s network when it is not null (see {@link Start}), reporting each fitted
     * minibatch to {@code progress}.
     */
    public static TrainingResult train(MnistSet train, MnistSet test, ModelOptions model, TrainingOptions options,
                                       Configuration hadoopConf, List<EpochListener> listeners, Start start,
                                       EpochProgress progress) {
        if (train.role() != Role.TRAIN || test.role() != Role.TEST) {
            throw new IllegalArgumentException("need a training split and a test split, got " + train + ", " + test);
        }
        int threads = options.workers().threadsPerTask() > 0 ? options.workers().threadsPerTask()
            : Nd4jRuntime.singleTaskThreads(Runtime.getRuntime().availableProcessors());
        Nd4jRuntime.configure(threads);
        MnistSet trainSet = train.limit(options.input().limitTrain());
        MnistSet testSet = test.limit(options.input().limitTest());
        int firstEpoch = start != null ? start.epochsDone() : 0;
        int batchSize = options.batching().perWorker();
        EpochReaders reads = new EpochReaders(trainSet,
            epoch -> PartitionPlan.epochOrder(trainSet.size(), options.seed(), epoch), batchSize,
            batchSize * BATCHES_PER_CHUNK, options.input().normalization(),
            RandomShift.of(model.randomShift(), options.seed()), hadoopConf, options.epochs());
        try {
            // its first chunk (and the training files, into IdxCache) read while the test batches and the network set up
            reads.open(firstEpoch);
            List<DataSet> testBatches = MnistBatches.read(testSet, MnistBatches.positions(null, 0, testSet.size()),
                options.batching().eval(), options.input().normalization(), hadoopConf);
            MultiLayerNetwork net = start != null ? start.network() : Models.network(model);
            LOG.info("training {} ({} parameters) in one JVM on {} with {} ND4J thread(s)", model.architecture(),
                net.numParams(), trainSet, threads);
            EpochEngine backend = new EpochEngine() {
                @Override
                public EpochEngine.FitStats fitEpoch(int epoch) {
                    double lossSum = 0;
                    long examples = 0;
                    long minibatches = 0;
                    long t0 = System.nanoTime();
                    long readNanos;
                    // streamed, read ahead on another thread, each chunk written into the arrays of one already fitted
                    SliceReader reader = reads.take(epoch);
                    try {
                        try (FlushToZero.Scope ftz = FlushToZero.enable()) { // subnormals as zero while fitting
                            dev.sparkmnist.models.TrainingStep step = dev.sparkmnist.models.TrainingStep.of(net);
                            for (DataSet batch = reader.next(); batch != null; batch = reader.next()) {
                                step.fit(batch);
                                lossSum += TrainLoss.lastMinibatch(net);
                                examples += batch.numExamples();
                                minibatches++;
                                progress.update(examples);
                            }
                        }
                        readNanos = reader.waitNanos();
                        reads.fitted(epoch, reader); // the next epoch's first chunk is read during the evaluation
                    } finally {
                        reader.close();
                    }
                    long computeNanos = System.nanoTime() - t0 - readNanos;
                    net.incrementEpochCount();
                    return new EpochEngine.FitStats(lossSum, minibatches, examples, 0, computeNanos / 1e9, 0);
                }

                @Override
                public EvaluationReport evaluate() {
                    return Evaluator.local(net, testBatches);
                }

                @Override
                public MultiLayerNetwork network() {
                    return net;
                }
            };
            return new TrainingResult(net, EpochLoop.run(backend, model, options, listeners, firstEpoch, progress,
                trainSet.size()), threads, 1,
                java.util.Set.of(EpochEngine.thisJvm()));
        } finally {
            reads.close(); // an epoch opened ahead that did not run (the run stopped, or failed)
        }
    }
}
