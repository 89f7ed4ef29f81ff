package dev.sparkmnist.training;

import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.models.ModelOptions;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** The epoch loop shared by Spark and single-JVM training: fit, evaluate on the test split, time, notify. */
final class EpochLoop {
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

    /** One training backend. */
    interface Backend {
        FitStats fitEpoch(int epoch);

        EvaluationReport evaluate();

        MultiLayerNetwork network();
    }

    private EpochLoop() {
    }

    /** Runs epochs {@code firstEpoch} (0-based) to {@code options.epochs() - 1}. */
    static List<EpochResult> run(Backend backend, ModelOptions model, TrainingOptions options,
                                 List<EpochListener> listeners, int firstEpoch, EpochProgress progress,
                                 long examplesPerEpoch) {
        if (firstEpoch >= options.epochs()) {
            throw new IllegalArgumentException("--epochs (" + options.epochs() + ") must be greater than the "
                + firstEpoch + " epochs the network has already been trained for");
        }
        List<EpochResult> results = new ArrayList<>();
        for (int epoch = firstEpoch; epoch < options.epochs(); epoch++) {
            long t0 = System.nanoTime();
            progress.start(epoch + 1, options.epochs(), examplesPerEpoch);
            FitStats stats;
            try {
                stats = backend.fitEpoch(epoch);
            } finally {
                progress.finish();
            }
            long t1 = System.nanoTime();
            double trainLoss = stats.minibatches() == 0 ? Double.NaN : stats.lossSum() / stats.minibatches();
            double rate = model.schedule().rateAt(model.learningRate(), epoch);
            Listeners.checkFinite(epoch + 1, trainLoss, backend.network(), rate);
            EvaluationReport test = backend.evaluate();
            long t2 = System.nanoTime();
            EpochResult result = new EpochResult(epoch + 1, trainLoss, stats.minibatches(), stats.examples(),
                (t1 - t0) / 1e9, (t2 - t1) / 1e9, rate, test, stats.rounds(), stats.computeSeconds(),
                stats.stageRetries());
            results.add(result);
            for (EpochListener listener : listeners) {
                listener.onEpochEnd(result, backend.network());
            }
        }
        return results;
    }
}
