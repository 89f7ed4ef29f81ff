package dev.sparkmnist.training;

import java.util.Locale;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
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
        float bad = firstNonFinite(net.params());
        if (!Float.isFinite(bad)) {
            throw diverged(epoch, "parameters", bad, learningRate);
        }
    }

    /**
     * The first NaN or infinite value of {@code params}, or 0 when all are finite. A Java loop over a host copy, not
     * ND4J's sum: that reduction made arrays of other data types (its dimensions as an int array) on the driver's
     * thread after every epoch, and C2 threw away the compiled ND4J methods the resident workers share with it
     * ({@code DataType.toInt}, {@code BaseNDArray}'s constructor, {@code isScalar}, the shape cache's look-up), which
     * they then ran interpreted until compiled again in the next epoch (BENCHMARKS.md, round 25).
     */
    static float firstNonFinite(INDArray params) {
        float[] values = new float[(int) params.length()];
        dev.sparkmnist.models.HostArrays.read(params, values, 0);
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return v;
            }
        }
        return 0f;
    }

    private static TrainingDivergedException diverged(int epoch, String what, double value, double learningRate) {
        return new TrainingDivergedException(String.format(Locale.ROOT,
            "loss became %s at epoch %d (%s): lower --learning-rate (now %g) or use --updater adam",
            Double.isNaN(value) ? "NaN" : "infinite", epoch, what, learningRate));
    }
}
