package dev.sparkmnist.training.baseline;

import dev.sparkmnist.runtime.FlushToZero;
import dev.sparkmnist.runtime.Nd4jRuntime;

import dev.sparkmnist.data.MnistBatches;
import dev.sparkmnist.data.SliceReader;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.PartitionPlan;
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
        MnistBatches.prefetch(trainSet, hadoopConf); // read while the test batches and the network set up
        int firstEpoch = start != null ? start.epochsDone() : 0;
        EpochReads reads = new EpochReads(trainSet, options, hadoopConf);
        try {
            reads.open(firstEpoch, List.of()); // its first chunk is read while the test batches and the network set up
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

    /**
     * The training split's reader of each epoch. The next epoch's opens as soon as an epoch's minibatches are fitted,
     * with that epoch's arrays to write into, so its first chunk (32 minibatches, cold: 0.05 s of an MLP epoch's
     * 0.9 s) is read while the network is evaluated, and the first epoch's while the run sets up, not on the epoch's
     * clock. The order of each epoch's examples is {@link PartitionPlan#epochOrder}'s, whenever it is read.
     */
    private static final class EpochReads implements AutoCloseable {
        private final MnistSet set;
        private final TrainingOptions options;
        private final Configuration conf;
        private SliceReader ahead;
        private int aheadEpoch = -1;

        EpochReads(MnistSet set, TrainingOptions options, Configuration conf) {
            this.set = set;
            this.options = options;
            this.conf = conf;
        }

        /** Opens epoch {@code epoch}'s reader, its first reads writing into {@code arrays}. */
        void open(int epoch, List<List<DataSet>> arrays) {
            close();
            int batch = options.batching().perWorker();
            ahead = new SliceReader(set, PartitionPlan.epochOrder(set.size(), options.seed(), epoch), batch,
                batch * BATCHES_PER_CHUNK, options.input().normalization(), conf, true, arrays);
            aheadEpoch = epoch;
        }

        /** Epoch {@code epoch}'s reader, the one opened ahead or a new one; the caller closes it. */
        SliceReader take(int epoch) {
            if (aheadEpoch != epoch) {
                open(epoch, List.of());
            }
            SliceReader reader = ahead;
            ahead = null;
            aheadEpoch = -1;
            return reader;
        }

        /** Epoch {@code epoch}'s minibatches are fitted with {@code reader}: opens the next epoch's, if any. */
        void fitted(int epoch, SliceReader reader) {
            List<List<DataSet>> arrays = reader.handOver();
            if (epoch + 1 < options.epochs()) {
                open(epoch + 1, arrays);
            }
        }

        @Override
        public void close() {
            if (ahead != null) {
                ahead.close();
                ahead = null;
                aheadEpoch = -1;
            }
        }
    }
}
