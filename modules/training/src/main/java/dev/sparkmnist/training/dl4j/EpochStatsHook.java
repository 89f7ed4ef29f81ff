package dev.sparkmnist.training.dl4j;

import dev.sparkmnist.training.EpochEngine;
import dev.sparkmnist.training.TrainLoss;

import dev.sparkmnist.runtime.TaskSetup;

import java.io.IOException;
import java.io.ObjectInputStream;
import org.apache.spark.SparkContext;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.DoubleAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Runs inside each DL4J training worker. When a task deserialises it, it applies the {@link TaskSetup}
 * (GPU check, helpers, threads, GPU binding) before the worker builds its
 * network; after each minibatch it adds the minibatch loss and
 * size to Spark accumulators, so the driver gets the epoch's mean training loss and proof that every example was
 * fitted.
 */
public final class EpochStatsHook implements TrainingHook {
    private static final long serialVersionUID = 1L;
    private final DoubleAccumulator lossSum;
    private final LongAccumulator minibatches;
    private final LongAccumulator examples;
    private final CollectionAccumulator<String> jvms;
    private final LongAccumulator computeNanos;
    /** When the current minibatch's fit started (this task's copy). */
    private transient long fitStart;
    /** Whether this deserialised copy (one per task) has reported its JVM yet. */
    private transient boolean reported;

    private final TaskSetup setup;

    public EpochStatsHook(SparkContext sc, TaskSetup setup) {
        this.setup = setup;
        this.lossSum = sc.doubleAccumulator("train loss sum");
        this.minibatches = sc.longAccumulator("train minibatches");
        this.examples = sc.longAccumulator("train examples");
        this.jvms = sc.collectionAccumulator("trainer JVMs");
        this.computeNanos = sc.longAccumulator("train compute nanos");
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        // DL4J's worker builds its network on this thread right after deserialising its hooks, and offers no
        // earlier call in the task: prepare ND4J (GPU check, threads, helpers, GPU binding) here.
        setup.apply();
    }

    /** Zeroes the counts (driver side, before an epoch). */
    void reset() {
        lossSum.reset();
        minibatches.reset();
        examples.reset();
        jvms.reset();
        computeNanos.reset();
    }

    /** The examples counter, which tasks add to after each minibatch (progress within an epoch). */
    LongAccumulator examplesFitted() {
        return examples;
    }

    /** The JVMs (pid@host) that fitted minibatches since the last reset. */
    Set<String> trainerJvms() {
        return new TreeSet<>(jvms.value());
    }

    /**
     * The pass's counts; {@code workers} and {@code frequency} give the number of averaging rounds DL4J made (each
     * round gives every worker up to {@code frequency} minibatches).
     */
    public EpochEngine.FitStats stats(int workers, int frequency) {
        long n = minibatches.value();
        long perRound = (long) workers * frequency;
        int rounds = (int) ((n + perRound - 1) / perRound);
        return new EpochEngine.FitStats(lossSum.value(), n, examples.value(), rounds,
            computeNanos.value() / 1e9 / Math.max(1, workers), 0);
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
        fitStart = System.nanoTime(); // DL4J's worker calls this right before fitting the minibatch
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
        record(model, minibatch.numExamples());
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
        // MultiDataSet training is not used
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
        record(model, minibatch.getFeatures(0).size(0));
    }

    /** Adds one fitted minibatch: its loss, its size, and (once per task) this JVM. */
    private void record(Model model, long minibatchExamples) {
        if (fitStart != 0) {
            computeNanos.add(System.nanoTime() - fitStart);
            fitStart = 0;
        }
        if (!reported) {
            jvms.add(EpochEngine.thisJvm());
            reported = true;
        }
        lossSum.add(TrainLoss.lastMinibatch(model));
        minibatches.add(1);
        examples.add(minibatchExamples);
    }
}
