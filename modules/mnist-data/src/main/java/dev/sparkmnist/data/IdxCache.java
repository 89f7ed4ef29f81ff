package dev.sparkmnist.data;

import java.io.DataInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.SoftReference;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The records of idx files, read once per JVM and kept in its heap, for the readers that come back to the same file
 * every epoch: a resident worker reads a new shuffled half of the training set each epoch, and from the store that was
 * a seek and a read (or a decompression from the start, for a gzipped file) for every run of records, each record
 * copied into an array of its own, in every epoch (the slice reader's thread took about a tenth of both cores in a
 * resident MLP epoch on 2 cores, most of it the kernel's copies: BENCHMARKS.md, round 23). Here the first reader of a
 * file reads its records in one pass, and every later read, from any task of the JVM, copies from memory.
 *
 * <p>A file is known by its path, length, modification time and header: a file rewritten between two reads is read
 * again (and its old records let go). The records held stay within a budget, {@value #HEAP_SHARE_DENOMINATOR}th of
 * the JVM's maximum heap (MNIST's training images are 47 MB); a file that does not fit, or any file with
 * {@code -Dsparkmnist.idxCache=false} ({@code --conf spark.sparkmnist.idxCache=false}), is read from the store every
 * time, as before. The arrays are softly held, so a JVM short of heap drops them before it fails, and reads them again
 * if needed.
 *
 * <p>A file is read by one thread at a time, outside the cache's lock: the other readers of that file wait for its
 * read, and readers of other files go on (a run that reads its training files ahead, {@link MnistBatches#prefetch},
 * reads its test files meanwhile).
 */
public final class IdxCache {
    /** The switch: {@code -Dsparkmnist.idxCache=false} reads every file from its store every time. */
    public static final String PROPERTY = "sparkmnist.idxCache";
    /** The budget is the maximum heap divided by this. */
    public static final int HEAP_SHARE_DENOMINATOR = 8;
    private static final int READ_PIECE = 1 << 20;
    private static final Logger LOG = LoggerFactory.getLogger(IdxCache.class);
    private static final Map<Key, Held> HELD = new HashMap<>();
    /** The files being read, each by the thread that found it missing (guarded by HELD, as heldBytes). */
    private static final Map<Key, CompletableFuture<byte[]>> READING = new HashMap<>();
    /** The bytes held and those being read. */
    private static long heldBytes;
    /** Files read whole into the cache since the JVM started (for tests and the log). */
    private static final AtomicLong LOADS = new AtomicLong();
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private IdxCache() {
    }

    /** A file's identity: a rewritten file has another length or modification time. */
    record Key(String path, long length, long modified, IdxHeader header) {
    }

    private record Held(SoftReference<byte[]> records, long bytes) {
    }

    /**
     * Whether the switch leaves the cache on: on unless {@code false} (any case); another value than true or false
     * leaves it on with one warning. Read at every call: a Spark task sets the switches of its executor's JVM when it
     * starts.
     */
    public static boolean enabled() {
        String value = System.getProperty(PROPERTY, "true").strip();
        if (value.equalsIgnoreCase("false")) {
            return false;
        }
        if (!value.equalsIgnoreCase("true") && WARNED.compareAndSet(false, true)) {
            LOG.warn("-D{} ({}) must be true or false; idx files' records stay in memory after their first read",
                PROPERTY, value);
        }
        return true;
    }

    /**
     * The records of the file (record {@code i} at {@code i * header.recordBytes()}), from memory when this JVM has
     * read them already, else read whole now and kept; null when the switch is off or the records do not fit in the
     * budget (the caller then reads from the store). The array is shared: callers must not write to it.
     *
     * @throws InvalidInputException naming the file, when it is missing, its header differs from {@code header} or its
     *     records are shorter than the header says
     */
    public static byte[] records(String path, IdxHeader header, Configuration conf) {
        return records(path, header, conf, Runtime.getRuntime().maxMemory() / HEAP_SHARE_DENOMINATOR);
    }

    static byte[] records(String path, IdxHeader header, Configuration conf, long budget) {
        if (!enabled()) {
            return null;
        }
        long bytes = header.dataBytes();
        if (bytes > Math.min(budget, Integer.MAX_VALUE - 8)) {
            return null;
        }
        Path p = new Path(path);
        try {
            FileSystem fs = p.getFileSystem(conf);
            FileStatus status = fs.getFileStatus(p);
            Key key = new Key(path, status.getLen(), status.getModificationTime(), header);
            CompletableFuture<byte[]> reading;
            CompletableFuture<byte[]> mine = null;
            synchronized (HELD) {
                Held held = HELD.get(key);
                byte[] records = held == null ? null : held.records().get();
                if (records != null) {
                    return records;
                }
                reading = READING.get(key);
                if (reading == null) {
                    release(key);
                    if (heldBytes + bytes > budget) {
                        return null;
                    }
                    heldBytes += bytes; // this read's room, taken now: no other file's read can take it too
                    mine = new CompletableFuture<>();
                    READING.put(key, mine);
                }
            }
            if (reading != null) { // another thread reads the file: its records, or on its failure a read of our own
                try {
                    return reading.join();
                } catch (CompletionException | CancellationException e) {
                    return records(path, header, conf, budget);
                }
            }
            return read(key, mine, fs, p, header, bytes, budget);
        } catch (FileNotFoundException e) {
            throw new InvalidInputException(path + ": file not found", e);
        } catch (IOException e) {
            throw IdxReader.readFailure(path, e);
        }
    }

    /** Reads the file whose room this thread took, holds its records and hands them to the threads waiting. */
    private static byte[] read(Key key, CompletableFuture<byte[]> mine, FileSystem fs, Path p, IdxHeader header,
                               long bytes, long budget) throws IOException {
        byte[] records;
        try {
            records = load(fs, p, key.path(), header, bytes);
        } catch (Throwable e) { // the room back, and the waiting threads read for themselves
            synchronized (HELD) {
                if (READING.remove(key, mine)) { // else the cache was cleared (tests) while it read
                    heldBytes -= bytes;
                }
            }
            mine.completeExceptionally(e);
            throw e;
        }
        long held;
        synchronized (HELD) {
            if (READING.remove(key, mine)) { // else the cache was cleared (tests) while it read: not held
                HELD.put(key, new Held(new SoftReference<>(records), bytes));
            }
            held = heldBytes;
        }
        LOADS.incrementAndGet();
        LOG.info("{}: {} records ({}) read into memory for this JVM's later reads ({} of {} held)",
            key.path(), header.count(), mebibytes(bytes), mebibytes(held), mebibytes(budget));
        mine.complete(records);
        return records;
    }

    /** Lets go of the path's other versions and of every entry the garbage collector has cleared. */
    private static void release(Key key) {
        for (Iterator<Map.Entry<Key, Held>> it = HELD.entrySet().iterator(); it.hasNext();) {
            Map.Entry<Key, Held> e = it.next();
            if (e.getKey().path().equals(key.path()) || e.getValue().records().get() == null) {
                heldBytes -= e.getValue().bytes();
                it.remove();
            }
        }
    }

    private static byte[] load(FileSystem fs, Path p, String path, IdxHeader header, long bytes) throws IOException {
        byte[] records = new byte[(int) bytes];
        try (InputStream raw = IdxReader.open(fs, p); DataInputStream in = new DataInputStream(raw)) {
            IdxReader.checkUnchanged(path, header, IdxReader.parseHeader(path, header.kind(), in));
            for (int at = 0; at < records.length; at += READ_PIECE) {
                in.readFully(records, at, Math.min(READ_PIECE, records.length - at));
            }
        }
        return records;
    }

    private static String mebibytes(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }

    /** Files read whole into the cache since the JVM started. */
    static long loads() {
        return LOADS.get();
    }

    /** Lets go of everything held (tests). */
    static void clear() {
        synchronized (HELD) {
            HELD.clear();
            heldBytes = 0;
            for (CompletableFuture<byte[]> reading : READING.values()) {
                reading.cancel(false); // its readers read for themselves
            }
            READING.clear();
        }
    }
}
