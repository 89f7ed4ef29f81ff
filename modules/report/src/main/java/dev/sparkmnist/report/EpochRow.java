package dev.sparkmnist.report;

import java.util.Map;

/**
 * One row of a run's {@code metrics.json}: what one epoch did.
 *
 * @param epoch 1-based epoch
 * @param trainLoss mean minibatch training loss
 * @param testLoss mean test loss after the epoch
 * @param testAccuracy test accuracy after the epoch, in [0, 1]
 * @param testMacroF1 unweighted mean of the per-class F1 scores
 * @param learningRate learning rate in effect
 * @param examplesPerSecond training throughput of the epoch
 * @param fitSeconds wall time of the training pass
 * @param examplesTrained examples fitted in the epoch
 */
public record EpochRow(int epoch, double trainLoss, double testLoss, double testAccuracy, double testMacroF1,
                       double learningRate, double examplesPerSecond, double fitSeconds, long examplesTrained) {

    /** Reads a row as {@code metrics.json} holds it; a missing figure is NaN (or 0 for counts). */
    static EpochRow of(Map<String, Object> row) {
        Object epoch = row.get("epoch");
        if (!(epoch instanceof Number)) {
            throw new IllegalArgumentException("metrics.json: an epoch row has no \"epoch\" number: " + row);
        }
        return new EpochRow(((Number) epoch).intValue(), number(row, "trainLoss"), number(row, "testLoss"),
            number(row, "testAccuracy"), number(row, "testMacroF1"), number(row, "learningRate"),
            number(row, "examplesPerSecond"), number(row, "fitSeconds"),
            row.get("examplesTrained") instanceof Number n ? n.longValue() : 0);
    }

    private static double number(Map<String, Object> row, String key) {
        return row.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
