package dev.sparkmnist.evaluation;

import java.util.Locale;

/**
 * The result of scoring a model on a test set.
 *
 * @param examples number of test examples scored
 * @param accuracy fraction correct
 * @param loss average per-example loss
 * @param macroF1 unweighted mean of the per-class F1 scores
 * @param precision per-class precision (0 for a class never predicted)
 * @param recall per-class recall
 * @param f1 per-class F1
 * @param confusion counts, {@code confusion[actual][predicted]}
 */
public record EvaluationReport(long examples, double accuracy, double loss, double macroF1, double[] precision,
                               double[] recall, double[] f1, long[][] confusion) {

    /** The report of {@code counts[actual][predicted]} (copied) and the per-example losses' sum. */
    static EvaluationReport of(long[][] counts, double lossSum, long examples) {
        int classes = counts.length;
        long[][] confusion = new long[classes][];
        double[] precision = new double[classes];
        double[] recall = new double[classes];
        double[] f1 = new double[classes];
        long correct = 0;
        for (int a = 0; a < classes; a++) {
            confusion[a] = counts[a].clone();
            correct += confusion[a][a];
        }
        double f1Sum = 0;
        for (int c = 0; c < classes; c++) {
            long predicted = 0;
            long actual = 0;
            for (int k = 0; k < classes; k++) {
                predicted += confusion[k][c];
                actual += confusion[c][k];
            }
            precision[c] = predicted == 0 ? 0 : (double) confusion[c][c] / predicted;
            recall[c] = actual == 0 ? 0 : (double) confusion[c][c] / actual;
            double sum = precision[c] + recall[c];
            f1[c] = sum == 0 ? 0 : 2 * precision[c] * recall[c] / sum;
            f1Sum += f1[c];
        }
        return new EvaluationReport(examples, examples == 0 ? 0 : (double) correct / examples,
            examples == 0 ? Double.NaN : lossSum / examples, classes == 0 ? 0 : f1Sum / classes,
            precision, recall, f1, confusion);
    }

    /** Number of correctly classified examples. */
    public long correct() {
        long c = 0;
        for (int i = 0; i < confusion.length; i++) {
            c += confusion[i][i];
        }
        return c;
    }

    /** A plain-text report: headline, per-class table, confusion matrix. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "test accuracy %.4f (%d/%d)  test loss %.4f  macro F1 %.4f%n",
            accuracy, correct(), examples, loss, macroF1));
        sb.append("class  precision  recall     f1\n");
        for (int c = 0; c < precision.length; c++) {
            sb.append(String.format(Locale.ROOT, "%5d  %9.4f  %6.4f  %6.4f%n", c, precision[c], recall[c], f1[c]));
        }
        sb.append("confusion (rows actual, columns predicted)\n      ");
        for (int p = 0; p < confusion.length; p++) {
            sb.append(String.format(Locale.ROOT, "%6d", p));
        }
        sb.append('\n');
        for (int a = 0; a < confusion.length; a++) {
            sb.append(String.format(Locale.ROOT, "%6d", a));
            for (long v : confusion[a]) {
                sb.append(String.format(Locale.ROOT, "%6d", v));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
