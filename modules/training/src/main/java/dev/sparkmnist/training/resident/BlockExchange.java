package dev.sparkmnist.training.resident;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.storage.BlockData;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockManager;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.storage.TestBlockId;
import org.apache.spark.util.io.ChunkedByteBuffer;
import scala.Option;
import scala.reflect.ClassTag$;

/**
 * Averages one float vector across the workers of a barrier stage through Spark's own {@link BlockManager}, with no
 * server or socket of our own (the design of BigDL's {@code AllReduceParameter}).
 *
 * <p>The vector is cut into one slice per worker. Each round, worker {@code w}:
 * <ol>
 *   <li>publishes every slice {@code s != w} of its vector as a block {@code g(round, w, s)} (reduce-scatter);</li>
 *   <li>fetches {@code g(round, p, w)} from every peer {@code p}, averages them with its own slice {@code w}
 *       (weighted by whether each worker trained in the round) and publishes the result as {@code a(round, w)};</li>
 *   <li>fetches {@code a(round, s)} from every peer (all-gather).</li>
 * </ol>
 * Each worker moves about twice the vector per round whatever the number of workers. Nothing waits on
 * {@code BarrierTaskContext.barrier()} (whose wait loop sleeps a whole second in Spark 3.5): a worker waits for a
 * peer's block by polling the BlockManager with a short back-off. Ordering makes clean-up safe without extra
 * messages: once a worker holds every {@code a(round, s)}, every owner has read its {@code g(round, w, s)}, so those
 * are removed; once it holds {@code g(round + 1, p, w)} from every peer, every peer has read {@code a(round, w)}.
 * The last round's {@code a} blocks are removed by the driver ({@link ResidentEngine}), which knows their names;
 * a worker whose attempt fails removes the blocks it still holds ({@link #removeOwn}); blocks of a lost executor are
 * gone with it.
 *
 * <p>Block names carry the stage id and attempt number: a retried attempt never reads a block of the attempt that
 * failed. Spark's {@code TestBlockId} is used because it is the one block type that is neither an RDD, shuffle,
 * broadcast nor stream block, so no Spark clean-up mechanism removes these under us.
 */
final class BlockExchange implements AutoCloseable {
    /** First poll interval while waiting for a peer's block; doubles up to {@link #MAX_POLL_NANOS}. */
    private static final long MIN_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(20);
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Floats of the per-block header: the sender's weight. */
    private static final int HEADER_FLOATS = 1;
    private static final StorageLevel LEVEL = StorageLevel.MEMORY_AND_DISK_SER();
    private static final long CLOSE_WAIT_SECONDS = 30;

    private final String prefix;
    private final int worker;
    private final int workers;
    private final int length;
    private final long timeoutNanos;
    private final BlockManager blocks;
    /** Local mode: every task shares the driver's BlockManager, so remote look-ups are pointless. */
    private final boolean sharedBlockManager;
    /**
     * Removes blocks off the critical path: each removal tells the master (an RPC to the driver), and a block is
     * only removed once the protocol guarantees nobody reads it, so doing it later is as safe as doing it now.
     */
    private final java.util.concurrent.ExecutorService remover;
    /** Scratch for the slice this worker owns: the running sum and one peer's values, reused every round. */
    private final double[] sum;
    private final float[] peer;
    private long waitNanos;
    private long bytesMoved;

    /**
     * @param prefix names this run's blocks; with the stage id and attempt it makes block names unique
     * @param worker this worker, 0-based
     * @param workers workers in the stage
     * @param length floats in the averaged vector
     * @param timeoutSeconds how long to wait for a peer's block before failing the task
     */
    BlockExchange(String prefix, int worker, int workers, int length, long timeoutSeconds) {
        this.prefix = prefix;
        this.worker = worker;
        this.workers = workers;
        this.length = length;
        this.timeoutNanos = TimeUnit.SECONDS.toNanos(timeoutSeconds);
        this.blocks = SparkEnv.get().blockManager();
        this.sharedBlockManager = "driver".equals(SparkEnv.get().executorId());
        int owned = sliceStart(length, workers, worker + 1) - sliceStart(length, workers, worker);
        this.sum = new double[owned];
        this.peer = new float[owned];
        this.remover = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "resident-block-remover");
            t.setDaemon(true);
            return t;
        });
    }

    /** The block-name prefix of one stage attempt of a run: what the driver removes after the stage. */
    static String stagePrefix(String runPrefix, int stageId, int attempt) {
        return runPrefix + "-" + stageId + "." + attempt + "-";
    }

    /** First index of slice {@code s} of a vector of {@code length} floats cut into {@code parts}. */
    static int sliceStart(int length, int parts, int s) {
        return (int) ((long) length * s / parts);
    }

    /**
     * Replaces {@code vector} by the weighted mean over all workers of their vectors in this round; a worker with
     * weight 0 (it had no minibatch this round) receives the mean without contributing to it.
     */
    void average(int round, float[] vector, float weight) {
        if (vector.length != length) {
            throw new IllegalArgumentException("vector has " + vector.length + " floats, expected " + length);
        }
        if (workers == 1) {
            return;
        }
        for (int s = 0; s < workers; s++) {
            if (s != worker) {
                put(gather(round, worker, s), weight, vector, sliceStart(length, workers, s),
                    sliceStart(length, workers, s + 1));
            }
        }
        reduceOwnSlice(round, vector, weight);
        for (int k = 1; k < workers; k++) {
            int s = (worker + k) % workers;
            FloatBuffer in = fetch(averaged(round, s));
            in.get(); // weight header
            int from = sliceStart(length, workers, s);
            in.get(vector, from, sliceStart(length, workers, s + 1) - from);
        }
        for (int s = 0; s < workers; s++) {
            if (s != worker) {
                remove(gather(round, worker, s));
            }
        }
    }

    private void reduceOwnSlice(int round, float[] vector, float weight) {
        int from = sliceStart(length, workers, worker);
        int to = sliceStart(length, workers, worker + 1);
        int n = to - from;
        double total = weight;
        for (int i = 0; i < n; i++) {
            sum[i] = (double) weight * vector[from + i];
        }
        for (int k = 1; k < workers; k++) {
            int p = (worker + k) % workers;
            FloatBuffer in = fetch(gather(round, p, worker));
            float w = in.get();
            total += w;
            if (w != 0) {
                in.get(peer, 0, n);
                for (int i = 0; i < n; i++) {
                    sum[i] += (double) w * peer[i];
                }
            }
        }
        if (total > 0) {
            for (int i = 0; i < n; i++) {
                vector[from + i] = (float) (sum[i] / total);
            }
        }
        put(averaged(round, worker), 1f, vector, from, to);
        if (round > 0) {
            // every peer has published g(round, p, worker), so it has read a(round - 1, worker) already
            remove(averaged(round - 1, worker));
        }
    }

    /** Nanoseconds spent waiting for peers' blocks so far. */
    long waitNanos() {
        return waitNanos;
    }

    /** Bytes this worker published and fetched so far. */
    long bytesMoved() {
        return bytesMoved;
    }

    /** The averaged slice {@code owner} publishes in {@code round} of the stage attempt named by {@code prefix}. */
    static BlockId averagedBlock(String prefix, int round, int owner) {
        return TestBlockId.apply(prefix + round + "-a" + owner);
    }

    /**
     * Removes every block this worker may still hold in {@code round} (its scattered slices, its averaged slice of
     * this round and of the one before): called when the attempt fails, so that nothing outlives it.
     */
    void removeOwn(int round) {
        for (int s = 0; s < workers; s++) {
            if (s != worker) {
                remove(gather(round, worker, s));
            }
        }
        remove(averaged(round, worker));
        if (round > 0) {
            remove(averaged(round - 1, worker));
        }
    }

    private BlockId gather(int round, int from, int slice) {
        return TestBlockId.apply(prefix + round + "-g" + from + "." + slice);
    }

    private BlockId averaged(int round, int owner) {
        return averagedBlock(prefix, round, owner);
    }

    private void put(BlockId id, float weight, float[] vector, int from, int to) {
        ByteBuffer bytes = ByteBuffer.allocate((HEADER_FLOATS + to - from) * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer floats = bytes.asFloatBuffer();
        floats.put(weight);
        floats.put(vector, from, to - from);
        bytesMoved += bytes.capacity();
        // With one shared BlockManager (local mode) nobody looks a block up through the master: skip its RPCs.
        boolean stored = blocks.putBytes(id, new ChunkedByteBuffer(bytes), LEVEL, !sharedBlockManager,
            ClassTag$.MODULE$.apply(byte[].class));
        if (!stored) {
            throw new IllegalStateException("the BlockManager refused parameter block " + id.name() + " ("
                + bytes.capacity() + " bytes): raise executor memory or spark.memory.fraction");
        }
    }

    private void remove(BlockId id) {
        remover.execute(() -> blocks.removeBlock(id, !sharedBlockManager));
    }

    /** Waits (up to {@link #CLOSE_WAIT_SECONDS}) for the pending removals. */
    @Override
    public void close() {
        remover.shutdown();
        try {
            if (!remover.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                remover.shutdownNow();
            }
        } catch (InterruptedException e) {
            remover.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for a block to exist (here or on any executor) and returns a copy of its floats. */
    private FloatBuffer fetch(BlockId id) {
        long start = System.nanoTime();
        long pause = MIN_POLL_NANOS;
        TaskContext task = TaskContext.get();
        while (true) {
            ByteBuffer copy = tryFetch(id);
            if (copy != null) {
                waitNanos += System.nanoTime() - start;
                bytesMoved += copy.capacity();
                return copy.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            }
            if (task != null) {
                task.killTaskIfInterrupted(); // the stage failed elsewhere: stop waiting
            }
            if (System.nanoTime() - start > timeoutNanos) {
                throw new IllegalStateException("worker " + worker + " waited " + TimeUnit.NANOSECONDS.toSeconds(
                    timeoutNanos) + " s for parameter block " + id.name() + " from a peer: a worker is stuck or"
                    + " lost (raise --exchange-timeout if minibatches are that slow)");
            }
            LockSupport.parkNanos(pause);
            if (Thread.interrupted()) {
                throw new IllegalStateException("interrupted while waiting for parameter block " + id.name());
            }
            pause = Math.min(MAX_POLL_NANOS, pause * 2);
        }
    }

    private ByteBuffer tryFetch(BlockId id) {
        Option<BlockData> local = blocks.getLocalBytes(id);
        if (local.isDefined()) {
            BlockData data = local.get();
            try {
                return copyOf(data.toByteBuffer());
            } finally {
                blocks.releaseLockAndDispose(id, data, Option.empty());
            }
        }
        if (sharedBlockManager) {
            return null;
        }
        Option<ChunkedByteBuffer> remote = blocks.getRemoteBytes(id);
        if (remote.isDefined()) {
            ChunkedByteBuffer data = remote.get();
            try {
                return copyOf(data.toByteBuffer());
            } finally {
                data.dispose();
            }
        }
        return null;
    }

    private static ByteBuffer copyOf(ByteBuffer source) {
        ByteBuffer copy = ByteBuffer.allocate(source.remaining());
        copy.put(source.duplicate());
        copy.flip();
        return copy;
    }
}
