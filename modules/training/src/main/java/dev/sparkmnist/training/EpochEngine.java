package dev.sparkmnist.training;

import dev.sparkmnist.evaluation.EvaluationReport;
import java.lang.management.ManagementFactory;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What every engine does for one epoch, the one interface {@link EpochLoop} drives: the resident engine
 * ({@code resident}), DL4J's parameter-averaging master ({@code dl4j}) and the baselines ({@code baseline}).
 */
public interface EpochEngine {
    /** Fits one pass over the training split (epoch 0-based: it fixes the example order). */
    FitStats fitEpoch(int epoch);

    /** Evaluates the current network on the test split. */
    EvaluationReport evaluate();

    /**
     * Seconds of the last {@link #fitEpoch} that went to evaluating the network it ended with (an engine that scores
     * the test split inside its last stage, as the resident engine does); {@link EpochLoop} counts them as the
     * epoch's evaluation, not its fit. 0 for engines that evaluate in {@link #evaluate} alone.
     */
    default double evaluationSecondsInFit() {
        return 0;
    }

    /**
     * The last {@link #fitEpoch}'s training time where the engine measures it itself, NaN where the call's own wall
     * time is it. The resident engine's workers go on from one epoch to the next within one stage while the driver
     * takes the epoch's outcome (a stage that spans epochs): the epoch then took from the outcome of the one before
     * to its own, not from the call to its return.
     */
    default double fitWallSeconds() {
        return Double.NaN;
    }

    /** The network as trained so far. */
    MultiLayerNetwork network();

    /**
     * Counts from one training pass.
     *
     * @param lossSum sum of minibatch losses
     * @param minibatches minibatches fitted
     * @param examples examples fitted
     * @param rounds averaging rounds (0 without averaging)
     * @param computeSeconds mean per worker of the time spent fitting minibatches
     * @param stageRetries Spark stage attempts that failed and were retried
     */
    record FitStats(double lossSum, long minibatches, long examples, int rounds, double computeSeconds,
                    int stageRetries) {
    }

    /** This JVM's name (pid@host), as engines report the JVMs that trained. */
    static String thisJvm() {
        return ManagementFactory.getRuntimeMXBean().getName();
    }
}
