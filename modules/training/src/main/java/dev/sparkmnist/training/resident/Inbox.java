package dev.sparkmnist.training.resident;

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

    private final Map<String, Parcel> parcels = new HashMap<>();
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
