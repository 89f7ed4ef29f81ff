package dev.sparkmnist.training.resident;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.spark.TaskContext;

/**
 * The parcels addressed to one worker of one stage attempt, as they arrive from the network (or, for peers in the
 * same JVM, straight from their thread). The worker blocks until the parcel it needs is here: it is woken by the
 * arrival itself, so nothing polls and no driver is asked where a slice is.
 */
final class Inbox {
    /** How often a waiting worker wakes to see whether Spark killed its task (the stage failed elsewhere). */
    private static final long KILL_CHECK_MILLIS = 50;

    /** Arrays kept for the values of parcels from other JVMs: at most 2(N-1) arrive a round. */
    private static final int SPARE_ARRAYS = 64;

    private final Map<String, Parcel> parcels = new HashMap<>();
    /** Values arrays of received parcels, given back by the worker once read, for the next parcels of their length. */
    private final ArrayDeque<float[]> spare = new ArrayDeque<>();
    private RuntimeException failure;

    synchronized void deliver(Parcel p) {
        parcels.put(p.key(), p);
        notifyAll();
    }

    /** A send of this worker failed: wake it with the cause instead of letting it wait for the timeout. */
    synchronized void fail(RuntimeException cause) {
        if (failure == null) {
            failure = cause;
        }
        notifyAll();
    }

    /**
     * Waits for the parcel {@code key} and removes it.
     *
     * @param timeoutNanos how long to wait before failing with {@code timeoutMessage}
     */
    synchronized Parcel take(String key, long timeoutNanos, Supplier<String> timeoutMessage) {
        long deadline = System.nanoTime() + timeoutNanos;
        TaskContext task = TaskContext.get();
        while (true) {
            Parcel p = parcels.remove(key);
            if (p != null) {
                return p;
            }
            if (failure != null) {
                throw failure;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new ExchangeTimeoutException(timeoutMessage.get());
            }
            try {
                wait(Math.max(1, Math.min(KILL_CHECK_MILLIS, TimeUnit.NANOSECONDS.toMillis(left))));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for parcel " + key, e);
            }
            if (task != null) {
                task.killTaskIfInterrupted(); // the stage failed elsewhere: stop waiting
            }
        }
    }

    /**
     * An array for the values of a parcel arriving from another JVM: one given back ({@link #giveBack}) of that
     * length, else a new one. A worker's rounds receive slices of the same few lengths, so after the first round
     * nothing of the vector's size is allocated.
     */
    synchronized float[] array(int length) {
        for (java.util.Iterator<float[]> it = spare.iterator(); it.hasNext(); ) {
            float[] a = it.next();
            if (a.length == length) {
                it.remove();
                return a;
            }
        }
        return new float[length];
    }

    /** The worker has read parcel {@code p}: its values array serves a later parcel, if it was decoded for it. */
    synchronized void giveBack(Parcel p) {
        if (p.received() && spare.size() < SPARE_ARRAYS) {
            spare.push(p.values());
        }
    }

    /** Parcels waiting to be taken (tests, leak checks). */
    synchronized int size() {
        return parcels.size();
    }

    /** A worker waited longer than {@code --exchange-timeout} for a peer. */
    static final class ExchangeTimeoutException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        ExchangeTimeoutException(String message) {
            super(message);
        }
    }
}
