package dev.sparkmnist.training.resident;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How the workers of a stage that spans several epochs ({@link ResidentEngine}) hand each epoch's outcome to the
 * driver while they go on to the next epoch: a Spark task returns its result only when it ends. In local mode a
 * worker leaves the {@link WorkerOutcome} object in the JVM it shares with the driver; elsewhere it sends it,
 * Java-serialised, to the run's {@link Rendezvous} endpoint on the driver (one message a worker and epoch; worker 0's
 * carries the averaged network, 2.8 MB for the MLP), which keeps the bytes for the driver's thread to read. The
 * driver waits for every worker's outcome of an epoch, or for the stage's job to end without them.
 */
final class EpochReports {
    /** Outcomes (objects or their serialised bytes) by span key, then epoch, then worker; open while a span runs. */
    private static final Map<String, Map<Integer, Object[]>> OPEN = new ConcurrentHashMap<>();
    private static final long POLL_MILLIS = 2;

    private EpochReports() {
    }

    /** The key of span attempt {@code token} of run {@code run}. */
    static String key(String run, long token) {
        return run + "/span/" + token;
    }

    /** Starts taking outcomes for {@code key}. */
    static void open(String key) {
        OPEN.put(key, new ConcurrentHashMap<>());
    }

    /** Stops taking outcomes for {@code key} and lets go of those not read (a failed attempt's, say). */
    static void close(String key) {
        OPEN.remove(key);
    }

    /** Closes every key of run {@code run}. */
    static void release(String run) {
        OPEN.keySet().removeIf(k -> k.startsWith(run + "/"));
    }

    /**
     * Worker side: hands worker {@code worker}'s outcome of {@code epoch} to the driver, in the JVM when this is the
     * driver's (local mode), else through the driver's rendezvous endpoint {@code rendezvous} (waiting for its
     * answer).
     */
    static void post(String key, int epoch, int worker, int workers, WorkerOutcome outcome, String rendezvous,
                     long timeoutNanos) {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        if (env == null || "driver".equals(env.executorId())) {
            deliver(key, epoch, worker, workers, outcome);
        } else {
            Rendezvous.report(rendezvous, key, epoch, worker, workers, serialise(outcome), timeoutNanos);
        }
    }

    /**
     * Driver side: one worker's outcome (a {@link WorkerOutcome}, or its serialised bytes) arrives;
     * dropped when its span is no longer open (an attempt the driver gave up).
     */
    static void deliver(String key, int epoch, int worker, int workers, Object outcome) {
        Map<Integer, Object[]> epochs = OPEN.get(key);
        if (epochs != null) {
            Object[] slots = epochs.computeIfAbsent(epoch, e -> new Object[workers]);
            synchronized (slots) {
                slots[worker] = outcome;
            }
        }
    }

    /**
     * Driver side: every worker's outcome of {@code epoch}, in worker order, once all have arrived; the failure of
     * {@code job} (the span's stage) when it ends first, or an {@link IllegalStateException} when it ends without
     * them.
     */
    static List<WorkerOutcome> await(String key, int epoch, int workers, CompletableFuture<?> job) throws Exception {
        for (;;) {
            List<WorkerOutcome> all = take(key, epoch, workers);
            if (all != null) {
                return all;
            }
            try {
                job.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException running) {
                continue;
            } catch (ExecutionException failed) {
                List<WorkerOutcome> late = take(key, epoch, workers); // the epoch ended before the failure
                if (late != null) {
                    return late;
                }
                throw failed.getCause() instanceof Exception e ? e : failed;
            }
            List<WorkerOutcome> last = take(key, epoch, workers);
            if (last == null) {
                throw new IllegalStateException("the stage ended without every worker's outcome of epoch "
                    + (epoch + 1));
            }
            return last;
        }
    }

    private static List<WorkerOutcome> take(String key, int epoch, int workers) {
        Map<Integer, Object[]> epochs = OPEN.get(key);
        Object[] slots = epochs == null ? null : epochs.get(epoch);
        if (slots == null) {
            return null;
        }
        List<WorkerOutcome> out = new ArrayList<>(workers);
        synchronized (slots) {
            for (Object o : slots) {
                if (o == null) {
                    return null;
                }
                out.add(o instanceof WorkerOutcome w ? w : deserialise((byte[]) o));
            }
        }
        epochs.remove(epoch);
        return out;
    }

    static byte[] serialise(WorkerOutcome outcome) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(outcome);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static WorkerOutcome deserialise(byte[] bytes) {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            return (WorkerOutcome) in.readObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }
}
