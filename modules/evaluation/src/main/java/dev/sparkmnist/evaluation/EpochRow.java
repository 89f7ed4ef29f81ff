package dev.sparkmnist.evaluation;

import java.util.Map;

/**
 * One epoch's figures: the one shape a finished epoch takes from the engines ({@code EpochResult.row()}) to a run's
 * {@code metrics.json} and {@code metrics.csv} (written in this order, under these names), to {@code --resume}
 * (the interrupted run's rows) and to the report.
 *
 * @param epoch 1-based epoch
 * @param trainLoss mean minibatch training loss (as DL4J scores it, including regularisation)
 * @param testLoss mean test loss after the epoch
 * @param testAccuracy test accuracy after the epoch, in [0, 1]
 * @param testMacroF1 unweighted mean of the per-class F1 scores
 * @param examplesTrained examples fitted in the epoch
 * @param minibatches minibatches fitted
 * @param fitSeconds wall time of the training pass
 * @param evalSeconds wall time of the test evaluation
 * @param examplesPerSecond training throughput of the epoch
 * @param learningRate learning rate in effect
 * @param averagingRounds parameter-averaging rounds (0 in one JVM)
 * @param computeSeconds mean per worker of the time spent fitting minibatches
 * @param overheadMsPerRound milliseconds of the training pass not spent fitting, per round; null without averaging
 * @param stageRetries Spark stage attempts that failed and were retried
 */
public record EpochRow(int epoch, double trainLoss, double testLoss, double testAccuracy, double testMacroF1,
                       long examplesTrained, long minibatches, double fitSeconds, double evalSeconds,
                       double examplesPerSecond, double learningRate, int averagingRounds, double computeSeconds,
                       Double overheadMsPerRound, int stageRetries) {

    /**
     * Reads a row as {@code metrics.json} holds it, also one written by an earlier version: a missing figure is NaN
     * (null for the overhead, 0 for counts).
     */
    public static EpochRow of(Map<String, Object> row) {
        if (!(row.get("epoch") instanceof Number epoch)) {
            throw new IllegalArgumentException("metrics.json: an epoch row has no \"epoch\" number: " + row);
        }
        return new EpochRow(epoch.intValue(), number(row, "trainLoss"), number(row, "testLoss"),
            number(row, "testAccuracy"), number(row, "testMacroF1"), count(row, "examplesTrained"),
            count(row, "minibatches"), number(row, "fitSeconds"), number(row, "evalSeconds"),
            number(row, "examplesPerSecond"), number(row, "learningRate"), (int) count(row, "averagingRounds"),
            number(row, "computeSeconds"), row.get("overheadMsPerRound") instanceof Number n ? n.doubleValue() : null,
            (int) count(row, "stageRetries"));
    }

    private static double number(Map<String, Object> row, String key) {
        return row.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private static long count(Map<String, Object> row, String key) {
        return row.get(key) instanceof Number n ? n.longValue() : 0;
    }
}
