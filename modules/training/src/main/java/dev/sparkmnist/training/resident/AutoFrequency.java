package dev.sparkmnist.training.resident;

import java.io.Serializable;
import java.util.Arrays;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code --averaging-frequency auto}: how many minibatches each worker fits between averagings, chosen from what an
 * exchange and a minibatch cost where the workers are. Before the first epoch a short probe stage runs
 * {@link #PROBE_EXCHANGES} exchanges back to back on every worker, which measure the exchange alone (the workers are
 * lined up after the first), then {@link #PROBE_ROUNDS} rounds of one minibatch and one exchange (on a throw-away
 * copy of the network; nothing it fits is kept), which measure a minibatch and the wait for the slowest worker.
 * Each worker reports the lower quartiles of its minibatches (their CPU time on its thread where {@link #cpuTimed})
 * and of its exchanges alone; the frequency is the smallest
 * that keeps the exchange under {@link #SHARE} of the training pass:
 * <pre>  f = ceil(x (1 - s) / (s c)),  clamped to [{@link #FLOOR}, {@link #CEILING}]</pre>
 * with c the mean over workers of their minibatch time's lower quartile, x the mean of their exchange time's, and s the
 * share, so that x / (f c + x) &lt;= s. Lower quartiles, not medians: the probe shares the cores with the JIT's
 * compiler threads and the driver, so many of its exchanges wait for a peer that was descheduled and many of its
 * minibatches are interrupted; the medians measured the same 0.5 ms memory copy in one JVM at 0.4-2.5 ms from run to
 * run, which made the default LeNet-5 job average every 1 to 4 minibatches and, at 4, lose 0.1 points of accuracy
 * (BENCHMARKS.md, round 31). Noise only adds time, so a lower quartile stays nearer the undisturbed cost. The wait for
 * the slowest worker is measured and recorded but not charged to the exchange (it is load imbalance, and on a machine
 * whose cores the workers share it is most of a round, noisy and cold-started): charged, it made the default LeNet job
 * average every 3 minibatches in one JVM and lose accuracy. In one JVM (local mode), where an exchange is a memory
 * copy, f came out at 1-2 minibatches, and at 3-6 since the native step shortened the steps (BENCHMARKS.md, rounds
 * 41-42); across executors on a network, higher. The ceiling keeps the workers' models
 * from drifting apart (every example still counts once; what changes is how far each worker's model walks alone): the
 * share rule counts time, not drift.
 *
 * @param frequency the chosen minibatches per round
 * @param minibatchMillis c, milliseconds per minibatch
 * @param exchangeMillis x, milliseconds per exchange, workers already lined up: of the parameters alone with
 *     {@code --updater-averaging stage}, of the parameters and the updater state with {@code round} and {@code auto}
 *     (the default, whose rounds move the parameters alone from every 4 minibatches on: cheaper than x)
 * @param waitMillis how much longer a round took when it first had to wait for the slowest worker
 */
public record AutoFrequency(int frequency, double minibatchMillis, double exchangeMillis, double waitMillis)
    implements Serializable {
    /**
     * The most of a training pass the exchange may take. (2.5 % was tried: in one JVM the probe's noise then chose
     * 2 to 5 from run to run and the default job fell to 99.22 % median; BENCHMARKS.md.)
     */
    public static final double SHARE = 0.05;
    /** Fewest minibatches between averagings. */
    public static final int FLOOR = 1;
    /**
     * Most minibatches between averagings. Workers that fit alone for longer drift apart, and their mean loses
     * accuracy: with 2 workers on the resident engine (the exchange overlapped, so a worker's progress reaches the
     * mean one round late), the MLP's test accuracy after 3 epochs was 97.4-97.6 % averaging every 2-4 minibatches,
     * 97.2 % every 8, 97.0 % every 12, 96.4 % every 16 and 95.6 % every 24; LeNet-5's 98.6 % every 2, 98.4 % every 10
     * and 96.9 % every 32, the former ceiling (BENCHMARKS.md, "Round 16").
     */
    public static final int CEILING = 8;
    /** Exchanges alone in the probe (the first {@link #WARM_UP} of each kind are not counted). */
    static final int PROBE_EXCHANGES = 64;
    /** Rounds of one minibatch and one exchange in the probe. */
    static final int PROBE_ROUNDS = 16;
    static final int WARM_UP = 8;

    /** The frequency for the measured costs (milliseconds, or any one unit). */
    public static int choose(double minibatch, double exchange) {
        if (!(minibatch > 0)) {
            return CEILING;
        }
        double f = Math.ceil(exchange * (1 - SHARE) / (SHARE * minibatch));
        return (int) Math.max(FLOOR, Math.min(CEILING, f));
    }

    /** The choice from the workers' probe results: each {@code {minibatch ns, exchange ns, wait ns}}. */
    static AutoFrequency of(long[][] perWorker) {
        double c = mean(perWorker, 0);
        double x = mean(perWorker, 1);
        return new AutoFrequency(choose(c, x), c, x, mean(perWorker, 2));
    }

    /** The choice from the probe's outcomes ({@link WorkerOutcome#probe}), one a worker. */
    static AutoFrequency of(java.util.List<WorkerOutcome> probes) {
        return of(probes.stream().map(r -> r.probe).toArray(long[][]::new));
    }

    private static double mean(long[][] perWorker, int i) {
        return Arrays.stream(perWorker).mapToLong(w -> w[i]).average().orElse(0) / 1e6;
    }

    /**
     * The worker's side of the probe: {@link #PROBE_EXCHANGES} exchanges back to back (after the first, the workers
     * are lined up, so each measures the exchange alone), then {@link #PROBE_ROUNDS} rounds of fitting one
     * minibatch of {@code batches} and averaging, timed; each exchange averages the first {@code length} floats of
     * the vector, what a training round averages. Returns {@code {minibatch ns, exchange ns, wait ns}}: the lower
     * quartiles of the minibatches and of the exchanges alone, and how much longer the median round's exchange took.
     */
    static long[] probe(MultiLayerNetwork net, java.util.function.Supplier<DataSet> batches, PeerExchange exchange,
                        int length) {
        float[] vector = NetState.vector(net);
        long[] alone = new long[PROBE_EXCHANGES];
        for (int r = 0; r < PROBE_EXCHANGES; r++) {
            long t0 = System.nanoTime();
            exchange.average(r, vector, 1f, length);
            alone[r] = System.nanoTime() - t0;
        }
        NetState.apply(net, vector, length);
        long[] compute = new long[PROBE_ROUNDS];
        long[] rounds = new long[PROBE_ROUNDS];
        dev.sparkmnist.models.TrainingStep step = dev.sparkmnist.models.TrainingStep.of(net);
        boolean cpu = cpuTimed(step.isNative(), dev.sparkmnist.runtime.Nd4jRuntime.currentThreads());
        for (int r = 0; r < PROBE_ROUNDS; r++) {
            long t0 = System.nanoTime();
            DataSet batch = batches.get();
            long c0 = cpu ? THREADS.getCurrentThreadCpuTime() : t0;
            if (batch != null) {
                step.fit(batch);
            }
            long t1 = System.nanoTime();
            long c1 = cpu ? THREADS.getCurrentThreadCpuTime() : t1;
            vector = NetState.vector(net, vector, length);
            exchange.average(PROBE_EXCHANGES + r, vector, batch != null ? 1f : 0f, length);
            NetState.apply(net, vector, length);
            compute[r] = batch != null ? c1 - c0 : -1;
            rounds[r] = System.nanoTime() - t1;
        }
        long x = quantile(alone, 0.25);
        return new long[] {quantile(compute, 0.25), x, Math.max(0, quantile(rounds, 0.5) - x)};
    }

    private static final java.lang.management.ThreadMXBean THREADS =
        java.lang.management.ManagementFactory.getThreadMXBean();

    /**
     * Whether the probe times a minibatch by its thread's CPU time rather than by the clock: where the whole step runs
     * on the calling thread ({@code nativeStep}: {@code NativeStep}, whose products are OpenBLAS's on that thread at
     * one ND4J thread a task, {@code threads}), and the JVM measures a thread's CPU time. The clock counts the time the
     * thread waited for a core too, which in the probe, in a JVM's first seconds, went to the JIT's compilers and the
     * kernels' warm-ups: in six starts of the default job the clock's lower quartile was 2.5-6.1 ms, about half the
     * rounds twice their CPU time of 2.5-3.6 ms, and in ten more the three starts whose clock measured 4.4-5.7 ms
     * averaged every 3-4 minibatches, the others every 5-7 (BENCHMARKS.md, round 45). Elsewhere (a step in ND4J's Java, several threads, a GPU) the work is not the thread's alone, and the clock
     * stays.
     */
    static boolean cpuTimed(boolean nativeStep, int threads) {
        return nativeStep && threads == 1 && THREADS.isCurrentThreadCpuTimeSupported()
            && THREADS.isThreadCpuTimeEnabled();
    }

    /**
     * The frequency every worker of a probe that a stage goes on from picks, the same on each without asking the
     * driver: each worker's figures ({@code mine}, {@link #probe}'s) go into its own three floats of a vector the
     * workers average in round {@code round} of {@code exchange} (every other worker's floats 0 there), so each worker
     * gets every worker's figures divided by the workers' count, the same floats on each (the exchange gives every
     * worker the same mean), and applies {@link #of} to them multiplied back. In float a figure keeps 24 bits, a few
     * nanoseconds of a probe's milliseconds: the choice is the driver's {@link #of} on the exact figures except where
     * a few nanoseconds move it across a whole minibatch's boundary (the driver then takes the workers' choice).
     */
    static int agree(long[] mine, PeerExchange exchange, int round, int worker, int workers) {
        float[] vector = new float[exchange.length()];
        for (int i = 0; i < 3; i++) {
            vector[3 * worker + i] = mine[i];
        }
        exchange.average(round, vector, 1f, 3 * workers);
        long[][] all = new long[workers][3];
        for (int w = 0; w < workers; w++) {
            for (int i = 0; i < 3; i++) {
                all[w][i] = Math.round((double) vector[3 * w + i] * workers);
            }
        }
        return of(all).frequency();
    }

    /**
     * The {@code q} quantile (0.5: the median; 0.25: the lower quartile) of the values after the warm-up rounds,
     * ignoring negatives (rounds without a minibatch); 0 when none is left.
     */
    static long quantile(long[] values, double q) {
        long[] kept = Arrays.stream(values, Math.min(WARM_UP, values.length), values.length).filter(v -> v >= 0)
            .sorted().toArray();
        return kept.length == 0 ? 0 : kept[(int) Math.min(kept.length - 1, Math.floor(q * kept.length))];
    }
}
