package dev.sparkmnist.report;

import dev.sparkmnist.evaluation.EpochRow;
import dev.sparkmnist.data.MnistBatches;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/** A real small run for the report tests: a network fitted on the MNIST slice, scored on its test split. */
final class RunFixture {
    static final Normalization NORM = Normalization.STANDARDIZE;
    static final int TRAIN = 600;
    static final int EPOCHS = 2;

    final MultiLayerNetwork net;
    final TestDigits digits;
    final RunFigures data;

    private RunFixture(MultiLayerNetwork net, TestDigits digits, RunFigures data) {
        this.net = net;
        this.digits = digits;
        this.data = data;
    }

    /** Fits {@link #EPOCHS} epochs on the slice's first {@link #TRAIN} examples and scores the 500 test digits. */
    static RunFixture fit(ModelOptions options, int partitions) {
        Configuration conf = new Configuration();
        MnistSet train = MnistSet.trainFrom(TestData.sliceDir(), conf);
        MnistSet test = MnistSet.testFrom(TestData.sliceDir(), conf);
        int[] indices = java.util.stream.IntStream.range(0, TRAIN).toArray();
        List<DataSet> batches = MnistBatches.read(train, indices, 32, NORM, conf);
        MultiLayerNetwork net = Models.network(options);
        TestDigits digits = TestDigits.read(test, 0, conf);
        List<EpochRow> rows = new ArrayList<>();
        EvaluationReport report = null;
        for (int epoch = 1; epoch <= EPOCHS; epoch++) {
            double lossSum = 0;
            for (DataSet batch : batches) {
                net.fit(batch);
                lossSum += net.score();
            }
            report = score(net, digits);
            rows.add(new EpochRow(epoch, lossSum / batches.size(), report.loss(), report.accuracy(),
                report.macroF1(), TRAIN, batches.size(), 1.5, 0.5, 1000 + epoch, options.learningRate(), 0, 1.5, null,
                0));
        }
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("model", Map.of("architecture", options.architecture().name()));
        provenance.put("partitions", partitions);
        provenance.put("seed", options.seed());
        provenance.put("commandLine", "spark-mnist train --model " + options.architecture() + " <fixture>");
        return new RunFixture(net, digits, new RunFigures(rows, report, provenance));
    }

    /** Accuracy, loss, per-class figures and confusion from the network's outputs, computed here. */
    static EvaluationReport score(MultiLayerNetwork net, TestDigits digits) {
        int n = digits.size();
        INDArray probs = net.output(digits.features(0, n, NORM), false);
        long[][] confusion = new long[10][10];
        double loss = 0;
        for (int i = 0; i < n; i++) {
            int predicted = probs.getRow(i).argMax().getInt(0);
            confusion[digits.labels()[i]][predicted]++;
            loss -= Math.log(Math.max(1e-12, probs.getDouble(i, digits.labels()[i])));
        }
        double[] precision = new double[10];
        double[] recall = new double[10];
        double[] f1 = new double[10];
        long correct = 0;
        double f1Sum = 0;
        for (int c = 0; c < 10; c++) {
            long predicted = 0;
            long actual = 0;
            for (int k = 0; k < 10; k++) {
                predicted += confusion[k][c];
                actual += confusion[c][k];
            }
            correct += confusion[c][c];
            precision[c] = predicted == 0 ? 0 : (double) confusion[c][c] / predicted;
            recall[c] = actual == 0 ? 0 : (double) confusion[c][c] / actual;
            f1[c] = precision[c] + recall[c] == 0 ? 0 : 2 * precision[c] * recall[c] / (precision[c] + recall[c]);
            f1Sum += f1[c];
        }
        return new EvaluationReport(n, (double) correct / n, loss / n, f1Sum / 10, precision, recall, f1,
            confusion);
    }
}
