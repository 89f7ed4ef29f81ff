package dev.sparkmnist.training.resident;

import dev.sparkmnist.data.MnistBatches;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.PartitionPlan;
import dev.sparkmnist.runtime.TaskSetup;
import dev.sparkmnist.training.TrainLoss;
import java.io.Serializable;
import java.lang.management.ManagementFactory;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SerializableWritable;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import scala.collection.Iterator;
import scala.runtime.AbstractFunction1;

/**
 * One resident worker: the body of one task of the barrier stage. It prepares ND4J and its GPU, rebuilds the
 * network from the stage's broadcast state once, streams its own minibatches of the stage from the idx files
 * ({@link StageReader}), and for every round fits {@code frequency} minibatches and averages parameters and updater state with its peers
 * ({@link BlockExchange}). It returns one {@link WorkerReport}; worker 0's carries the averaged network.
 */
final class WorkerTask extends AbstractFunction1<Iterator<Integer>, Iterator<WorkerReport>> implements Serializable {
    private static final long serialVersionUID = 1L;
    private final Broadcast<NetState> state;
    private final Broadcast<SerializableWritable<Configuration>> hadoop;
    private final MnistSet set;
    private final StagePlan plan;
    private final int stage;
    private final Normalization normalization;
    private final long seed;
    private final int epoch;
    private final TaskSetup setup;
    private final String runPrefix;
    private final long exchangeTimeoutSeconds;
    private final org.apache.spark.util.LongAccumulator examplesFitted;

    WorkerTask(Broadcast<NetState> state, Broadcast<SerializableWritable<Configuration>> hadoop, MnistSet set,
               StagePlan plan, int stage, Normalization normalization, long seed, int epoch, TaskSetup setup,
               String runPrefix, long exchangeTimeoutSeconds, org.apache.spark.util.LongAccumulator examplesFitted) {
        this.state = state;
        this.hadoop = hadoop;
        this.set = set;
        this.plan = plan;
        this.stage = stage;
        this.normalization = normalization;
        this.seed = seed;
        this.epoch = epoch;
        this.setup = setup;
        this.runPrefix = runPrefix;
        this.exchangeTimeoutSeconds = exchangeTimeoutSeconds;
        this.examplesFitted = examplesFitted;
    }

    @Override
    public Iterator<WorkerReport> apply(Iterator<Integer> ignored) {
        TaskContext task = TaskContext.get();
        int worker = task.partitionId();
        setup.apply();
        long t0 = System.nanoTime();
        NetState initial = state.value();
        MultiLayerNetwork net = initial.restore();
        int[] order = PartitionPlan.epochOrder(set.size(), seed, epoch);
        int[] range = plan.positions(worker, stage);

        double lossSum = 0;
        long examples = 0;
        long computeNanos = 0;
        long exchangeNanos = 0;
        long readNanos;
        int minibatches = 0;
        float[] vector = null;
        long bytesMoved;
        long exchangeWaitNanos;
        try (BlockExchange exchange = new BlockExchange(
                BlockExchange.stagePrefix(runPrefix, task.stageId(), task.stageAttemptNumber()), worker,
                plan.workers(), initial.length(), exchangeTimeoutSeconds);
             StageReader reader = new StageReader(set, MnistBatches.positions(order, range[0], range[1]),
                 plan.batch(), plan.batch() * plan.frequency(), normalization, hadoop.value().value())) {
            long startNanos = System.nanoTime() - t0;
            int round = plan.firstRound(stage);
            try {
                for (; round < plan.endRound(stage); round++) {
                    long c0 = System.nanoTime();
                    int fitted = 0;
                    long readBefore = reader.waitNanos();
                    for (int k = 0; k < plan.frequency(); k++) {
                        task.killTaskIfInterrupted();
                        DataSet batch = reader.next();
                        if (batch == null) {
                            break;
                        }
                        net.fit(batch);
                        lossSum += TrainLoss.lastMinibatch(net);
                        examples += batch.numExamples();
                        examplesFitted.add(batch.numExamples());
                        fitted++;
                    }
                    minibatches += fitted;
                    long c1 = System.nanoTime();
                    if (plan.workers() > 1) { // one worker has nobody to average with
                        vector = NetState.vector(net, vector);
                        exchange.average(round, vector, fitted > 0 ? 1f : 0f);
                        NetState.apply(net, vector);
                    }
                    computeNanos += c1 - c0 - (reader.waitNanos() - readBefore);
                    exchangeNanos += System.nanoTime() - c1;
                    ResidentEngine.FaultHook.afterRound(worker, task.stageAttemptNumber(), round);
                }
            } catch (RuntimeException | Error e) {
                exchange.removeOwn(Math.min(round, plan.endRound(stage) - 1)); // the attempt failed: leave no blocks
                throw e;
            }
            readNanos = startNanos + reader.waitNanos();
            bytesMoved = exchange.bytesMoved();
            exchangeWaitNanos = exchange.waitNanos();
        }
        WorkerReport report = new WorkerReport(worker, task.stageId(), task.stageAttemptNumber(),
            ManagementFactory.getRuntimeMXBean().getName(), lossSum, minibatches, examples,
            plan.endRound(stage) - plan.firstRound(stage), readNanos, computeNanos, exchangeNanos,
            exchangeWaitNanos, bytesMoved, net.getIterationCount(),
            worker == 0 ? (vector != null ? vector : NetState.vector(net)) : null);
        return scala.collection.Iterator$.MODULE$.single(report);
    }
}
