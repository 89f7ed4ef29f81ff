package dev.sparkmnist.data;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This JVM's spare minibatch arrays for reusing {@link SliceReader}s: a reader takes from here the arrays its first
 * chunks need where it has none of an earlier reader's, and gives back what it holds when it is closed.
 *
 * <p>An epoch's reader writes into the arrays of the epoch before ({@link SliceReader#handOver}), so only a run's
 * first reader of each worker used to allocate, and it did so on the first epoch's clock: two chunks of new off-heap
 * arrays a worker (13 MB for the MLP on the resident engine), whose first touch cost 27-73 ms a chunk on this
 * project's machines, where a page fault costs about 15 us (BENCHMARKS.md, round 42), while the workers waited for
 * the first chunk. {@link #prepare} makes them ahead, on a daemon thread, while a local run's driver sets up on one
 * core (as {@link MnistBatches#prefetch} reads the files then), and a stage's readers that follow another's in the
 * same JVM (a probe's, an epoch's in a run of one stage an epoch) take the arrays the one before gave back.
 *
 * <p>The arrays are host memory, float, row-major, {@code [rows, width]} features and {@code [rows, 10]} labels, as
 * {@link MnistBatches} makes them; none are kept on the CUDA backend (arrays there live on a device) and at most
 * {@value #BUDGET_MIB} MiB of them are kept; more are let go (ND4J frees them with their Java objects).
 */
public final class ReaderArrays {
    /** The most this JVM keeps, in MiB of floats. */
    public static final int BUDGET_MIB = 64;
    private static final long BUDGET = (long) BUDGET_MIB << 20;
    private static final Logger LOG = LoggerFactory.getLogger(ReaderArrays.class);
    private static final Map<Long, Deque<DataSet>> SPARE = new HashMap<>();
    private static long bytes;
    private static final int PAGE = 4096;

    private ReaderArrays() {
    }

    /** Up to {@code count} spare minibatches of {@code rows x width} pixels, taken from the pool (maybe none). */
    static List<DataSet> take(int count, int rows, int width) {
        if (count <= 0 || !MnistBatches.hostMemory()) {
            return List.of();
        }
        java.util.ArrayList<DataSet> out = new java.util.ArrayList<>(count);
        synchronized (SPARE) {
            Deque<DataSet> spare = SPARE.get(key(rows, width));
            while (spare != null && !spare.isEmpty() && out.size() < count) {
                out.add(spare.poll());
                bytes -= size(rows, width);
            }
        }
        return out;
    }

    /**
     * Keeps {@code minibatches}, which nobody uses any more, for later readers (within the budget). Only arrays of the
     * shape {@link MnistBatches} makes are kept.
     */
    static void giveBack(Collection<DataSet> minibatches) {
        if (minibatches.isEmpty() || !MnistBatches.hostMemory()) {
            return;
        }
        synchronized (SPARE) {
            for (DataSet d : minibatches) {
                INDArray f = d.getFeatures();
                if (f == null || f.rank() != 2 || !MnistBatches.writable(f, (int) f.size(0), (int) f.size(1))
                    || !MnistBatches.writable(d.getLabels(), (int) f.size(0), MnistSet.NUM_CLASSES)) {
                    continue;
                }
                int rows = (int) f.size(0);
                int width = (int) f.size(1);
                if (bytes + size(rows, width) > BUDGET) {
                    return;
                }
                SPARE.computeIfAbsent(key(rows, width), k -> new ArrayDeque<>()).add(d);
                bytes += size(rows, width);
            }
        }
    }

    /**
     * Makes {@code count} minibatch arrays of {@code rows x width} pixels (each page written once) and keeps them, on a
     * daemon thread, and returns the thread: a local run's driver calls it as it sets up, for its workers' first
     * chunks. Nothing on the CUDA backend; failures are left to the readers, which allocate as before (a debug line).
     */
    public static Thread prepare(int count, int rows, int width) {
        Thread t = new Thread(() -> {
            try {
                if (!MnistBatches.hostMemory()) {
                    return;
                }
                long want = Math.min(count, BUDGET / size(rows, width));
                java.util.ArrayList<DataSet> made = new java.util.ArrayList<>();
                for (int i = 0; i < want; i++) {
                    made.add(new DataSet(zeros(rows, width), zeros(rows, MnistSet.NUM_CLASSES)));
                }
                giveBack(made);
            } catch (RuntimeException | OutOfMemoryError e) {
                LOG.debug("making {} reader arrays of {} x {} ahead: {} (left to the readers)", count, rows, width,
                    e.toString());
            }
        }, "reader-arrays");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Minibatches kept now of {@code rows x width} pixels (tests). */
    static int kept(int rows, int width) {
        synchronized (SPARE) {
            Deque<DataSet> spare = SPARE.get(key(rows, width));
            return spare == null ? 0 : spare.size();
        }
    }

    /** Lets go of every kept array (tests). */
    static void clear() {
        synchronized (SPARE) {
            SPARE.clear();
            bytes = 0;
        }
    }

    private static INDArray zeros(int rows, int cols) {
        INDArray a = Nd4j.createUninitialized(DataType.FLOAT, new long[] {rows, cols}, 'c');
        java.nio.ByteBuffer b = a.data().asNio();
        for (int i = 0; i < b.capacity(); i += PAGE) { // every page written here, not in the reader's first chunks
            b.put(i, (byte) 0);
        }
        return a;
    }

    private static long key(int rows, int width) {
        return ((long) rows << 32) | width;
    }

    private static long size(int rows, int width) {
        return (long) rows * (width + MnistSet.NUM_CLASSES) * Float.BYTES;
    }
}
