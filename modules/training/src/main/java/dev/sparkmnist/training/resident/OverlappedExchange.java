package dev.sparkmnist.training.resident;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.TaskContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Averaging that runs each round's exchange while the worker fits the next round's minibatches
 * ({@code --averaging-overlap}, the default): the wait for the slowest worker and the exchange's latency are hidden
 * behind computation unless a worker falls more than a whole round behind.
 *
 * <p>At the end of round r a worker holding state {@code v} (parameters and updater state) first collects round
 * r-1's exchange, the mean {@code m} of what the workers sent then, and moves to {@code m + (v - s)}, where
 * {@code s} is what it sent in round r-1: the mean plus its own progress since (one round of delay, each worker's
 * progress counted once). Then it sends that corrected state as round r's contribution, in the background, and goes
 * on fitting. At the end of a stage {@link #finish} waits for the last exchange; nothing was fitted after it was
 * sent, so every worker then holds the same mean, as without overlap. The reference this defines is written out in
 * the tests' {@code AveragingOracle.simulate}.
 */
final class OverlappedExchange implements AutoCloseable {
    /** How often a worker waiting for the exchange in flight looks whether Spark killed its task. */
    private static final long KILL_CHECK_MILLIS = 50;

    private final PeerExchange exchange;
    private final ExecutorService thread;
    private Future<?> pending;
    /** How many floats of the vector the exchange in flight averages. */
    private int pendingLength;
    /** What this worker contributed to the exchange in flight (parameters and updater state, one vector). */
    private final float[] sent;
    /** The same, replaced by the mean by the exchange's thread; reused every round. */
    private final float[] inFlight;
    private long blockedNanos;

    OverlappedExchange(PeerExchange exchange, int worker) {
        this(exchange, worker, new ExchangeBuffers());
    }

    /**
     * As above, holding the state in {@code buffers}' arrays: the worker's overlapped exchange of the epoch before
     * must be finished ({@link #finish}) and closed.
     */
    OverlappedExchange(PeerExchange exchange, int worker, ExchangeBuffers buffers) {
        this.exchange = exchange;
        this.sent = buffers.floats("sent", exchange.length());
        this.inFlight = buffers.floats("in-flight", exchange.length());
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "resident-exchange-worker-" + worker);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The end of round {@code round}: the network's state becomes the previous round's mean plus this worker's
     * progress since (for what that exchange averaged: the parameters, or the parameters and the updater state), and
     * its first {@code length} floats (the parameters alone, or all) are sent as this round's contribution with
     * {@code weight} (0: the worker fitted nothing this round).
     */
    void round(int round, MultiLayerNetwork net, float weight, TaskContext task, int length) {
        int collected = collect(task) ? pendingLength : 0;
        NetState.blend(net, inFlight, sent, collected, length);
        pendingLength = length;
        pending = thread.submit(() -> exchange.average(round, inFlight, weight, length));
    }

    /**
     * The end of the stage: waits for the last exchange and leaves its mean (plus any progress since) in the network
     * (the engine makes a stage's last round average the whole vector, so every worker then holds the same state).
     */
    void finish(MultiLayerNetwork net, TaskContext task) {
        if (collect(task)) {
            NetState.blend(net, inFlight, sent, pendingLength, pendingLength);
        }
    }

    /** Waits for the exchange in flight, if any; true when there was one (its mean is then in {@code inFlight}). */
    private boolean collect(TaskContext task) {
        if (pending == null) {
            return false;
        }
        long t0 = System.nanoTime();
        try {
            while (true) {
                try {
                    pending.get(KILL_CHECK_MILLIS, TimeUnit.MILLISECONDS);
                    return true;
                } catch (TimeoutException e) {
                    if (task != null) {
                        task.killTaskIfInterrupted(); // the stage failed elsewhere: stop waiting
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the exchange in flight", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        } finally {
            pending = null;
            blockedNanos += System.nanoTime() - t0;
        }
    }

    /** Nanoseconds the worker was held up waiting for an exchange in flight. */
    long blockedNanos() {
        return blockedNanos;
    }

    /** Stops an exchange still in flight (the stage failed) and the exchange's thread. */
    @Override
    public void close() {
        if (pending != null) {
            pending.cancel(true);
        }
        thread.shutdownNow();
    }
}
