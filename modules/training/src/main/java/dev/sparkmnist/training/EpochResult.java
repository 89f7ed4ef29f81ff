package dev.sparkmnist.training;

import dev.sparkmnist.evaluation.EpochRow;
import dev.sparkmnist.evaluation.EvaluationReport;
import java.util.Locale;

/**
 * What one epoch did.
 *
 * @param epoch 1-based epoch number
 * @param trainLoss mean minibatch training loss over the epoch (as DL4J scores it, including regularisation)
 * @param fit the engine's counts of the training pass: minibatches and examples fitted, averaging rounds (0 in a
 *     single JVM), the mean compute time per worker (the rest of {@code fitSeconds} is the distribution overhead:
 *     data, averaging, scheduling) and the Spark stage attempts that failed and were retried
 * @param fitSeconds wall time of the training pass
 * @param evalSeconds wall time of the test evaluation
 * @param learningRate learning rate in effect during the epoch
 * @param test evaluation on the test split after the epoch
 */
public record EpochResult(int epoch, double trainLoss, EpochEngine.FitStats fit, double fitSeconds,
                          double evalSeconds, double learningRate, EvaluationReport test) {

    /** Minibatches fitted. */
    public long minibatches() {
        return fit.minibatches();
    }

    /** Examples fitted (should equal the training set size). */
    public long examplesTrained() {
        return fit.examples();
    }

    /** Parameter-averaging rounds in the training pass (0 in a single JVM). */
    public int averagingRounds() {
        return fit.rounds();
    }

    /** Mean per worker of the time spent fitting minibatches. */
    public double computeSeconds() {
        return fit.computeSeconds();
    }

    /** Spark stage attempts that failed and were retried (resident engine), else 0. */
    public int stageRetries() {
        return fit.stageRetries();
    }

    /** Milliseconds of the training pass not spent fitting, per averaging round (NaN without averaging). */
    public double overheadMsPerRound() {
        return averagingRounds() > 0 ? 1000 * Math.max(0, fitSeconds - computeSeconds()) / averagingRounds() : Double.NaN;
    }

    /** The epoch as metrics.json, --resume and the report record it. */
    public EpochRow row() {
        double overhead = overheadMsPerRound();
        return new EpochRow(epoch, trainLoss, test.loss(), test.accuracy(), test.macroF1(), examplesTrained(),
            minibatches(), fitSeconds, evalSeconds, examplesPerSecond(), learningRate, averagingRounds(),
            computeSeconds(), Double.isNaN(overhead) ? null : overhead, stageRetries());
    }

    /** Training throughput: examples fitted per second of the training pass. */
    public double examplesPerSecond() {
        return fitSeconds > 0 ? examplesTrained() / fitSeconds : 0;
    }

    /** The one readable line logged per epoch. */
    public String summaryLine(int totalEpochs) {
        return String.format(Locale.ROOT,
            "epoch %d/%d  train loss %.4f  test loss %.4f  test acc %.2f%%  %.0f ex/s  fit %.1fs  eval %.1fs"
                + "  lr %.3g",
            epoch, totalEpochs, trainLoss, test.loss(), 100 * test.accuracy(), examplesPerSecond(), fitSeconds,
            evalSeconds, learningRate);
    }
}
