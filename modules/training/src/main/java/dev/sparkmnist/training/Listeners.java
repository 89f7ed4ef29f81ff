package dev.sparkmnist.training;

import java.util.Locale;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The standard listeners: progress logging with ETA, and stopping on divergence with advice. */
public final class Listeners {
    private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);

    private Listeners() {
    }

    /**
     * Logs {@link EpochResult#summaryLine} and an ETA for the remaining epochs (from the epochs run so far in this
     * run, which may have resumed at a later epoch).
     */
    public static EpochListener progress(int totalEpochs) {
        long start = System.nanoTime();
        java.util.concurrent.atomic.AtomicInteger run = new java.util.concurrent.atomic.AtomicInteger();
        return (result, net) -> {
            double elapsed = (System.nanoTime() - start) / 1e9;
            double eta = elapsed / run.incrementAndGet() * (totalEpochs - result.epoch());
            LOG.info("{}  ETA {}", result.summaryLine(totalEpochs), String.format(Locale.ROOT, "%.0fs", eta));
        };
    }

    /** Throws {@link TrainingDivergedException} when an epoch's test loss is NaN or infinite. */
    public static EpochListener stopOnDivergence() {
        return (result, net) -> {
            if (!Double.isFinite(result.test().loss())) {
                throw diverged(result.epoch(), "test loss " + result.test().loss(), result.test().loss(),
                    result.learningRate());
            }
        };
    }

    /**
     * Checked after every training pass, before evaluation: the mean training loss and the parameters must be
     * finite, else {@link TrainingDivergedException} with advice.
     */
    static void checkFinite(int epoch, double trainLoss, MultiLayerNetwork net, double learningRate) {
        if (!Double.isFinite(trainLoss)) {
            throw diverged(epoch, "train loss " + trainLoss, trainLoss, learningRate);
        }
        double paramSum = net.params().sumNumber().doubleValue();
        if (!Double.isFinite(paramSum)) {
            throw diverged(epoch, "parameters", paramSum, learningRate);
        }
    }

    private static TrainingDivergedException diverged(int epoch, String what, double value, double learningRate) {
        return new TrainingDivergedException(String.format(Locale.ROOT,
            "loss became %s at epoch %d (%s): lower --learning-rate (now %g) or use --updater adam",
            Double.isNaN(value) ? "NaN" : "infinite", epoch, what, learningRate));
    }
}
