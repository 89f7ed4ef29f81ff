package dev.sparkmnist.training;

import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.models.ModelOptions;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** The epoch loop every engine runs under: fit, evaluate on the test split, time, notify the listeners. */
public final class EpochLoop {
    private EpochLoop() {
    }

    /** Runs epochs {@code firstEpoch} (0-based) to {@code options.epochs() - 1}. */
    public static List<EpochResult> run(EpochEngine backend, ModelOptions model, TrainingOptions options,
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
            EpochEngine.FitStats stats;
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
            double inFit = backend.evaluationSecondsInFit(); // the evaluation's share of the fit's wall time
            double measured = backend.fitWallSeconds(); // NaN: the call's own time is the epoch's
            double wall = Double.isNaN(measured) ? (t1 - t0) / 1e9 : measured;
            EpochResult result = new EpochResult(epoch + 1, trainLoss, stats, wall - inFit,
                (t2 - t1) / 1e9 + inFit, rate, test);
            results.add(result);
            for (EpochListener listener : listeners) {
                listener.onEpochEnd(result, backend.network());
            }
        }
        return results;
    }
}
