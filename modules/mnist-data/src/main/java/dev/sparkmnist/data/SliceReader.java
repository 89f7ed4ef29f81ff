package dev.sparkmnist.data;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The one reader of a slice of the idx files, on the executor that trains or evaluates it: streams the slice's
 * minibatches in the order given, reading a chunk of examples at a time, the next chunk on a background thread while
 * the caller works on the current one, so reading leaves the critical path (measured for the resident engine:
 * reading a whole LeNet epoch's slice up front took 0.35-0.67 s of a 10 s epoch). Used by the resident workers and
 * by the RDDs of {@link MnistRdds}.
 *
 * <p>A reader made with {@code reuse} writes each chunk into the arrays of a chunk its caller has finished with
 * (a minibatch stays valid until the next call of {@link #next}): allocating fresh off-heap memory for every chunk,
 * and touching it for the first time, was most of the reading's cost.
 *
 * <p>A caller that reads slice after slice (an epoch after another) hands a finished reader's arrays to the next one
 * ({@link #handOver}, then the constructor that takes them), and may open that next reader as soon as it is done with
 * this one's minibatches: its first chunk is then read while the caller does something else (the evaluation between
 * epochs, the set-up before the first), not while the next epoch's clock runs.
 *
 * <p>Gzipped files that {@link IdxCache} cannot hold are read in one chunk (each read decompresses from the start of
 * the file); held, they are decompressed once per JVM and read in chunks as raw files are. On the CUDA backend nothing
 * is read ahead: ND4J arrays made on another thread would land on that thread's device, not the GPU the task is bound
 * to.
 */
public final class SliceReader implements AutoCloseable {
    private final MnistSet set;
    private final int batch;
    private final Normalization normalization;
    private final RandomShift shift;
    private final Configuration conf;
    private final Deque<int[]> chunks = new ArrayDeque<>();
    private final ExecutorService ahead;
    private Future<List<DataSet>> pending;
    private final boolean reuse;
    private List<DataSet> current = List.of();
    /** A chunk whose minibatches the caller is done with, handed to the next read to write into. */
    private List<DataSet> spare = List.of();
    /** Chunks of an earlier reader (its last two), for this reader's first reads to write into. */
    private final Deque<List<DataSet>> handed = new ArrayDeque<>();
    private int next;
    private long waitNanos;
    private final int chunkCount;

    /**
     * @param set the split the slice belongs to
     * @param indices the slice's examples in the order to read them
     * @param batch examples per minibatch (the last one of the slice may be smaller)
     * @param examplesPerChunk examples read at once, a multiple of {@code batch}
     * @param normalization how pixels are normalised
     * @param conf the Hadoop configuration the files are read with
     */
    public SliceReader(MnistSet set, int[] indices, int batch, int examplesPerChunk, Normalization normalization,
                       Configuration conf) {
        this(set, indices, batch, examplesPerChunk, normalization, conf, false);
    }

    /**
     * As above; with {@code reuse}, a minibatch {@link #next} returns is valid only until the next call of
     * {@code next} (its arrays are written again later), for a caller that fits each one and lets it go.
     */
    public SliceReader(MnistSet set, int[] indices, int batch, int examplesPerChunk, Normalization normalization,
                       Configuration conf, boolean reuse) {
        this(set, indices, batch, examplesPerChunk, normalization, conf, reuse, List.of());
    }

    /**
     * As above, reusing, with the minibatches of an earlier reader ({@link #handOver}) for the first reads to write
     * into (those whose shape fits); the first chunk's read starts here, on the reader's thread.
     *
     * @param arrays chunks of minibatches the caller is done with, written again in this order
     */
    public SliceReader(MnistSet set, int[] indices, int batch, int examplesPerChunk, Normalization normalization,
                       Configuration conf, boolean reuse, List<List<DataSet>> arrays) {
        this(set, indices, batch, examplesPerChunk, normalization, RandomShift.NONE, conf, reuse, arrays);
    }

    /**
     * As above, each picture moved by {@code shift} (a training slice's epoch: {@link RandomShift}).
     *
     * @param shift the epoch's shift of the pictures, or {@link RandomShift#NONE}
     */
    public SliceReader(MnistSet set, int[] indices, int batch, int examplesPerChunk, Normalization normalization,
                       RandomShift shift, Configuration conf, boolean reuse, List<List<DataSet>> arrays) {
        if (!reuse && !arrays.isEmpty()) {
            throw new IllegalArgumentException("arrays to write into need a reusing reader");
        }
        arrays.forEach(handed::add);
        this.reuse = reuse;
        this.set = set;
        this.batch = batch;
        this.normalization = normalization;
        this.shift = shift;
        this.conf = conf;
        boolean whole = (IdxReader.isGzip(set.imagesPath()) || IdxReader.isGzip(set.labelsPath()))
            && !MnistBatches.held(set, conf);
        int chunk = whole ? Math.max(1, indices.length) : examplesPerChunk;
        for (int from = 0; from < indices.length; from += chunk) {
            chunks.add(Arrays.copyOfRange(indices, from, Math.min(indices.length, from + chunk)));
        }
        this.chunkCount = chunks.size();
        this.ahead = MnistBatches.hostMemory() && chunks.size() > 1 ? Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "slice-reader");
            t.setDaemon(true);
            return t;
        }) : null;
        schedule();
    }

    /** The next minibatch, or null when the slice has none left. */
    public DataSet next() {
        while (next >= current.size()) {
            if (pending == null && chunks.isEmpty()) {
                return null;
            }
            long t0 = System.nanoTime();
            if (reuse) {
                spare = current; // the caller asked for the next minibatch: it is done with this chunk's
            }
            current = take();
            waitNanos += System.nanoTime() - t0;
            next = 0;
            schedule();
        }
        return current.get(next++);
    }

    /**
     * The arrays of this reusing reader's last two chunks, for the next reader to write into, once the caller has read
     * the slice to its end ({@link #next} gave its last minibatch) and is done with its minibatches; the reader holds
     * them no more. None before the slice's end (the caller may still hold some) or for a reader that does not reuse.
     */
    public List<List<DataSet>> handOver() {
        if (!reuse || pending != null || !chunks.isEmpty() || next < current.size()) {
            return List.of();
        }
        List<List<DataSet>> arrays = new ArrayList<>(2);
        for (List<DataSet> chunk : List.of(spare, current)) {
            if (!chunk.isEmpty()) {
                arrays.add(chunk);
            }
        }
        spare = List.of();
        current = List.of();
        next = 0;
        return arrays;
    }

    /** The reads the slice is cut into (one for a gzipped file that {@link IdxCache} cannot hold). */
    int chunkCount() {
        return chunkCount;
    }

    /** Nanoseconds the caller waited for its data (reading not hidden behind its work). */
    public long waitNanos() {
        return waitNanos;
    }

    private void schedule() {
        if (pending == null && !chunks.isEmpty()) {
            int[] chunk = chunks.poll();
            List<DataSet> into = arraysFor(chunk.length, !spare.isEmpty() || handed.isEmpty() ? spare : handed.poll());
            spare = List.of();
            pending = ahead != null ? ahead.submit(() -> read(chunk, into))
                : java.util.concurrent.CompletableFuture.completedFuture(read(chunk, into));
        }
    }

    /**
     * The arrays a chunk of {@code examples} is written into: {@code arrays}, and where they are fewer than its
     * minibatches of the whole batch size (a first chunk), arrays made ahead or given back by an earlier reader
     * ({@link ReaderArrays}).
     */
    private List<DataSet> arraysFor(int examples, List<DataSet> arrays) {
        int full = examples / batch;
        if (!reuse || arrays.size() >= full) {
            return arrays;
        }
        List<DataSet> more = ReaderArrays.take(full - arrays.size(), batch, set.pixels());
        if (more.isEmpty()) {
            return arrays;
        }
        List<DataSet> all = new ArrayList<>(arrays);
        all.addAll(more);
        return all;
    }

    private List<DataSet> take() {
        try {
            List<DataSet> batches = pending.get();
            pending = null;
            return batches;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading training data", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r; // e.g. InvalidInputException naming the file
            }
            throw new IllegalStateException("reading training data failed: " + e.getCause(), e.getCause());
        }
    }

    private List<DataSet> read(int[] indices, List<DataSet> into) {
        return new ArrayList<>(MnistBatches.read(set, indices, batch, normalization, shift, conf, into));
    }

    /**
     * Stops reading ahead; a reusing reader gives the arrays it holds to {@link ReaderArrays} for later readers (the
     * caller is done with its minibatches), except those of a read still in flight.
     */
    @Override
    public void close() {
        if (ahead != null) {
            ahead.shutdownNow();
        }
        if (reuse) {
            List<DataSet> done = new ArrayList<>(spare);
            done.addAll(current);
            handed.forEach(done::addAll);
            spare = List.of();
            current = List.of();
            next = 0;
            handed.clear();
            ReaderArrays.giveBack(done);
        }
    }
}
