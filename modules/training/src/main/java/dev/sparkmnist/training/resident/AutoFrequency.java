package dev.sparkmnist.training.resident;

import java.io.Serializable;
import java.util.Arrays;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code --averaging-frequency auto}: how many minibatches each worker fits between averagings, chosen from what a
 * round and a minibatch cost where the workers are. Before the first epoch a short probe stage runs
 * {@link #PROBE_ROUNDS} rounds of one minibatch and one exchange on every worker (on a throw-away copy of the
 * network; nothing it fits is kept), and each worker reports its median minibatch and median exchange (which includes
 * waiting for the slowest peer, as every real round does). The frequency is the smallest that keeps the exchange
 * under {@link #SHARE} of the training pass:
 * <pre>  f = ceil(x (1 - s) / (s c)),  clamped to [{@link #FLOOR}, {@link #CEILING}]</pre>
 * with c the mean over workers of their median minibatch time, x the mean of their median exchange time and s the
 * share, so that x / (f c + x) &lt;= s. In one JVM (local mode), where a round is a memory copy, it comes out at 1-2
 * minibatches; across executors on a network, higher. The ceiling keeps the workers' models from drifting apart
 * (every example still counts once; what changes is how far each worker's model walks alone).
 *
 * @param frequency the chosen minibatches per round
 * @param minibatchMillis c, milliseconds per minibatch
 * @param exchangeMillis x, milliseconds per averaging round
 */
public record AutoFrequency(int frequency, double minibatchMillis, double exchangeMillis) implements Serializable {
    /** The most of a training pass that averaging may take. */
    public static final double SHARE = 0.05;
    /** Fewest minibatches between averagings. */
    public static final int FLOOR = 1;
    /** Most minibatches between averagings. */
    public static final int CEILING = 32;
    /** Rounds of one minibatch and one exchange in the probe; the first {@link #WARM_UP} are not counted. */
    static final int PROBE_ROUNDS = 12;
    static final int WARM_UP = 4;

    /** The frequency for the measured costs (milliseconds, or any one unit). */
    public static int choose(double minibatch, double exchange) {
        if (!(minibatch > 0)) {
            return CEILING;
        }
        double f = Math.ceil(exchange * (1 - SHARE) / (SHARE * minibatch));
        return (int) Math.max(FLOOR, Math.min(CEILING, f));
    }

    /** The choice from the workers' probe results: each {@code {minibatch ns, exchange ns}}. */
    static AutoFrequency of(long[][] perWorker) {
        double c = Arrays.stream(perWorker).mapToLong(w -> w[0]).average().orElse(0) / 1e6;
        double x = Arrays.stream(perWorker).mapToLong(w -> w[1]).average().orElse(0) / 1e6;
        return new AutoFrequency(choose(c, x), c, x);
    }

    /**
     * The worker's side of the probe: {@link #PROBE_ROUNDS} rounds of fitting one minibatch of {@code batches}
     * and averaging, timed. Returns {@code {median minibatch ns, median exchange ns}}.
     */
    static long[] probe(MultiLayerNetwork net, java.util.function.Supplier<DataSet> batches, PeerExchange exchange) {
        long[] compute = new long[PROBE_ROUNDS];
        long[] averaging = new long[PROBE_ROUNDS];
        float[] vector = null;
        for (int r = 0; r < PROBE_ROUNDS; r++) {
            long t0 = System.nanoTime();
            DataSet batch = batches.get();
            if (batch != null) {
                net.fit(batch);
            }
            long t1 = System.nanoTime();
            vector = NetState.vector(net, vector);
            exchange.average(r, vector, batch != null ? 1f : 0f);
            NetState.apply(net, vector);
            compute[r] = batch != null ? t1 - t0 : -1;
            averaging[r] = System.nanoTime() - t1;
        }
        return new long[] {median(compute), median(averaging)};
    }

    /** Median of the values after the warm-up rounds, ignoring negatives (rounds without a minibatch). */
    private static long median(long[] values) {
        long[] kept = Arrays.stream(values, WARM_UP, values.length).filter(v -> v >= 0).sorted().toArray();
        return kept.length == 0 ? 0 : kept[kept.length / 2];
    }
}
