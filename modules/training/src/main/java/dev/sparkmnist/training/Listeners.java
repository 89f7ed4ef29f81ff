package dev.sparkmnist.training;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The standard listeners: progress logging with ETA, and stopping on divergence with advice. */
public final class Listeners {
    private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);

    private Listeners() {
    }

    /** Logs {@link EpochResult#summaryLine} and an ETA for the remaining epochs. */
    public static EpochListener progress(int totalEpochs) {
        long start = System.nanoTime();
        return (result, net) -> {
            double elapsed = (System.nanoTime() - start) / 1e9;
            double eta = elapsed / result.epoch() * (totalEpochs - result.epoch());
            LOG.info("{}  ETA {}", result.summaryLine(totalEpochs), String.format(Locale.ROOT, "%.0fs", eta));
            if (result.test() != null && result.examplesTrained() > 0 && result.minibatches() == 0) {
                LOG.warn("epoch {}: no minibatch was fitted", result.epoch());
            }
        };
    }

    /** Throws {@link TrainingDivergedException} when an epoch's training or test loss is NaN or infinite. */
    public static EpochListener stopOnDivergence() {
        return (result, net) -> {
            if (!Double.isFinite(result.trainLoss()) || !Double.isFinite(result.test().loss())) {
                throw new TrainingDivergedException(String.format(Locale.ROOT,
                    "loss became %s at epoch %d (train %s, test %s): lower --learning-rate (now %g)"
                        + " or use --updater adam",
                    Double.isNaN(result.trainLoss()) || Double.isNaN(result.test().loss()) ? "NaN" : "infinite",
                    result.epoch(), result.trainLoss(), result.test().loss(), result.learningRate()));
            }
        };
    }
}
