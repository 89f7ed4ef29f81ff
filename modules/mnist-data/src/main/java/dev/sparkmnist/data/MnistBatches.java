package dev.sparkmnist.data;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a list of example indices into mini-batch {@link DataSet}s: features {@code [n, rows*cols]} normalised,
 * labels one-hot {@code [n, 10]}. Used both inside Spark partitions and by the single-JVM baseline.
 */
public final class MnistBatches {
    private static final Logger LOG = LoggerFactory.getLogger(MnistBatches.class);

    private MnistBatches() {
    }

    /**
     * Starts reading the set's two files whole into this JVM's {@link IdxCache} on a daemon thread, and returns the
     * thread: a run that calls it as it starts setting up finds the records in memory at its first minibatch instead
     * of waiting there for the whole files (a one-JVM LeNet-5 run's first minibatch waited 0.07-0.2 s for them;
     * BENCHMARKS.md, round 35), and the files are read while the run's set-up works on the other core. Nothing more
     * where the cache is off or the files do not fit its budget. A file that cannot be read is left to the run's own
     * read, which fails on it with the reader's one line: nothing is thrown or logged here (a debug line).
     */
    public static Thread prefetch(MnistSet set, Configuration conf) {
        Thread t = new Thread(() -> {
            try {
                held(set, conf);
            } catch (RuntimeException | OutOfMemoryError e) {
                LOG.debug("reading {} ahead: {} (left to the run's own read)", set, e.toString());
            }
        }, "idx-prefetch");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Reads the examples at {@code indices} (any order, no duplicates) and batches them in that order into
     * DataSets of exactly {@code batchSize} examples, except a smaller last one.
     */
    public static List<DataSet> read(MnistSet set, int[] indices, int batchSize, Normalization normalization,
                                     Configuration conf) {
        return read(set, indices, batchSize, normalization, conf, List.of());
    }

    /**
     * As {@link #read(MnistSet, int[], int, Normalization, Configuration)}, writing batch {@code i} into the arrays
     * of {@code reuse.get(i)} (the batches of an earlier call that nobody uses any more) where it has the same shape,
     * and returning those DataSets; the other batches get new arrays. Reusing spares the allocation of off-heap
     * memory (and the page faults of touching it), which was most of the reading's time: a fifth of an MLP epoch.
     * Only on the CPU backend, whose arrays live in host memory; elsewhere every batch is new.
     */
    public static List<DataSet> read(MnistSet set, int[] indices, int batchSize, Normalization normalization,
                                     Configuration conf, List<DataSet> reuse) {
        return read(set, indices, batchSize, normalization, RandomShift.NONE, conf, reuse);
    }

    /**
     * As {@link #read(MnistSet, int[], int, Normalization, Configuration, List)}, each picture moved by {@code shift}
     * (training only: {@link RandomShift}).
     */
    public static List<DataSet> read(MnistSet set, int[] indices, int batchSize, Normalization normalization,
                                     RandomShift shift, Configuration conf, List<DataSet> reuse) {
        if (shift.active() && set.role() != Role.TRAIN) {
            throw new IllegalArgumentException("only training pictures are shifted, not " + set);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size (" + batchSize + ") must be > 0");
        }
        // This JVM's copy of the files' records when it holds (or can hold) one: IdxCache.
        byte[] allPixels = IdxCache.records(set.imagesPath(), set.imagesHeader(), conf);
        byte[] allLabels = allPixels == null ? null : IdxCache.records(set.labelsPath(), set.labelsHeader(), conf);
        if (allLabels != null) {
            checkIndices(set, indices);
            return batches(indices, null, null, null, allPixels, allLabels, set, batchSize, normalization, shift,
                reuse);
        }
        // Read in file order (sequential I/O), then put back in the requested order.
        long[] sorted = ascending(indices);
        byte[][] pixels = IdxReader.readRecords(set.imagesPath(), set.imagesHeader(), sorted, conf);
        byte[][] labels = IdxReader.readRecords(set.labelsPath(), set.labelsHeader(), sorted, conf);
        return batches(indices, sorted, pixels, labels, null, null, set, batchSize, normalization, shift, reuse);
    }

    /**
     * Whether this JVM's {@link IdxCache} holds both of the set's files (reading them now if it can): then any read of
     * the set copies from memory.
     */
    static boolean held(MnistSet set, Configuration conf) {
        return IdxCache.records(set.imagesPath(), set.imagesHeader(), conf) != null
            && IdxCache.records(set.labelsPath(), set.labelsHeader(), conf) != null;
    }

    /** Each index a record of the set's files, as {@link IdxReader#readRecords} checks them. */
    private static void checkIndices(MnistSet set, int[] indices) {
        int count = set.imagesHeader().count();
        for (int i : indices) {
            if (i < 0 || i >= count) {
                throw new IllegalArgumentException(set.imagesPath() + ": record index " + i + " must be in 0.."
                    + (count - 1));
            }
        }
    }

    /*
     * The loops live in methods of their own, away from the reading: compiled inside read() with the Hadoop streams
     * IdxReader inlines, they cost C2 six compilations of 55-69 KB (0.1-0.3 s each) in a resident run's first epochs,
     * on the cores the workers train on.
     */

    /**
     * The indices in ascending order. A chunk of a slice spreads over the slice's range (a few thousand indices over
     * up to 60,000), so they are marked in a bit set of that range and read back in order: short loops over a few
     * thousand words, where {@code Arrays.sort} cost C2 a quarter of a second of compilation (its dual-pivot
     * quicksort) in every run's first epoch, on the cores the training needs. Indices spread over more than
     * {@value #SPARSE_SPREAD} times their number, or repeated, are sorted.
     */
    static long[] ascending(int[] indices) {
        long[] sorted = new long[indices.length];
        if (indices.length == 0) {
            return sorted;
        }
        int min = indices[0];
        int max = indices[0];
        for (int i : indices) {
            min = Math.min(min, i);
            max = Math.max(max, i);
        }
        long range = (long) max - min + 1;
        boolean spread = range > (long) SPARSE_SPREAD * indices.length || range > Integer.MAX_VALUE;
        long[] bits = spread ? null : marked(indices, min, range);
        if (bits == null) {
            for (int i = 0; i < indices.length; i++) {
                sorted[i] = indices[i];
            }
            Arrays.sort(sorted);
            return sorted;
        }
        int k = 0;
        for (int w = 0; w < bits.length; w++) {
            for (long word = bits[w]; word != 0; word &= word - 1) {
                sorted[k++] = (long) min + 64L * w + Long.numberOfTrailingZeros(word);
            }
        }
        return sorted;
    }

    /** The indices as bits of a set starting at {@code min}, or null when one is repeated. */
    private static long[] marked(int[] indices, int min, long range) {
        long[] bits = new long[(int) ((range + 63) / 64)];
        for (int i : indices) {
            int at = i - min;
            long bit = 1L << at; // the shift takes the low 6 bits
            if ((bits[at >>> 6] & bit) != 0) {
                return null;
            }
            bits[at >>> 6] |= bit;
        }
        return bits;
    }

    private static final int SPARSE_SPREAD = 1024;

    /*
     * One call a read (a chunk: about 15 a resident worker and epoch): its loop runs once a minibatch, so it stays in
     * the interpreter or C1, and the per-example loop (fill) and the per-minibatch store are methods of their own. As
     * one method with the example loop inside, it first reached C1 only in epoch 2 of a resident MLP run, then cost
     * C2 0.27 s there, inlining ND4J's buffers and DataSet's constructor, on the cores the workers train on
     * (BENCHMARKS.md, round 20).
     */
    private static List<DataSet> batches(int[] indices, long[] sorted, byte[][] pixels, byte[][] labels,
                                         byte[] allPixels, byte[] allLabels, MnistSet set, int batchSize,
                                         Normalization normalization, RandomShift shift, List<DataSet> reuse) {
        int width = set.pixels();
        Picture picture = new Picture(normalization, shift, set.imagesHeader().rows(), set.imagesHeader().cols());
        List<DataSet> batches = new ArrayList<>((indices.length + batchSize - 1) / batchSize);
        DataSet[] into = reusable(reuse, indices.length, batchSize, width);
        float[] features = new float[0]; // scratch: ND4J copies it into the batch's own memory
        float[] oneHot = new float[0];
        for (int from = 0; from < indices.length; from += batchSize) {
            int n = Math.min(batchSize, indices.length - from);
            if (features.length != n * width) {
                features = new float[n * width];
                oneHot = new float[n * MnistSet.NUM_CLASSES];
            } else {
                Arrays.fill(oneHot, 0f);
            }
            if (allPixels != null) {
                fill(indices, from, n, allPixels, allLabels, width, picture, features, oneHot);
            } else {
                fill(indices, from, n, sorted, pixels, labels, width, picture, features, oneHot);
            }
            batches.add(store(into[batches.size()], features, oneHot, n, width));
        }
        return batches;
    }

    /**
     * Examples {@code indices[from..from+n)}: their normalised pixels into {@code features}, their one-hot labels into
     * {@code oneHot}.
     */
    private static void fill(int[] indices, int from, int n, long[] sorted, byte[][] pixels, byte[][] labels, int width,
                             Picture picture, float[] features, float[] oneHot) {
        for (int r = 0; r < n; r++) {
            int at = Arrays.binarySearch(sorted, indices[from + r]);
            picture.write(pixels[at], 0, features, r * width, indices[from + r]);
            oneHot[r * MnistSet.NUM_CLASSES + (labels[at][0] & 0xFF)] = 1f;
        }
    }

    /** As above, from the whole files' records ({@link IdxCache}): record {@code i} at {@code i * width}. */
    private static void fill(int[] indices, int from, int n, byte[] allPixels, byte[] allLabels, int width,
                             Picture picture, float[] features, float[] oneHot) {
        for (int r = 0; r < n; r++) {
            int at = indices[from + r];
            picture.write(allPixels, at * width, features, r * width, at);
            oneHot[r * MnistSet.NUM_CLASSES + (allLabels[at] & 0xFF)] = 1f;
        }
    }

    /**
     * How a record's bytes become a picture's floats: normalised, and moved by the epoch's shift (none for
     * {@link RandomShift#NONE}: the normalisation alone).
     */
    private record Picture(Normalization normalization, RandomShift shift, int rows, int cols) {
        void write(byte[] pixels, int from, float[] out, int offset, int example) {
            shift.write(normalization, pixels, from, rows, cols, out, offset, example);
        }
    }

    /** One minibatch's floats written into {@code old}'s arrays (given back), or into new ones when it is null. */
    private static DataSet store(DataSet old, float[] features, float[] oneHot, int n, int width) {
        if (old != null) {
            hostBuffer(old.getFeatures()).put(features);
            hostBuffer(old.getLabels()).put(oneHot);
            return old;
        }
        return new DataSet(matrix(features, n, width), matrix(oneHot, n, MnistSet.NUM_CLASSES));
    }

    /**
     * For each minibatch of a read, the DataSet of {@code reuse} whose arrays it can be written into, or null. Decided
     * before the batching loop, in a method of its own that is too long for the JIT to inline at a call made once a
     * read: a shape differs only where a slice ends in a smaller minibatch, and the first such "no" (in a resident
     * worker's second epoch), when the check was inlined into the loop, made C2 throw the loop's compiled code away
     * and compile it twice more (0.26 s of C2 in a resident MLP run's second and third epochs).
     */
    private static DataSet[] reusable(List<DataSet> reuse, int examples, int batchSize, int width) {
        DataSet[] into = new DataSet[(examples + batchSize - 1) / batchSize];
        for (int b = 0; b < into.length && b < reuse.size(); b++) {
            int n = Math.min(batchSize, examples - b * batchSize);
            DataSet old = reuse.get(b);
            if (old != null && writable(old.getFeatures(), n, width)
                && writable(old.getLabels(), n, MnistSet.NUM_CLASSES)) {
                into[b] = old;
            }
        }
        return into;
    }

    /** Whether ND4J's arrays live in host memory (the CPU backend, not CUDA). */
    static boolean hostMemory() {
        return Host.MEMORY;
    }

    /** Asked on first use, not when the class loads (planning code uses {@link #positions} without ND4J). */
    private static final class Host {
        static final boolean MEMORY = !"CUDA".equalsIgnoreCase(
            Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend"));
    }

    /** A CPU float matrix {@code rows x cols} that owns its whole buffer, in row-major order: one bulk write fills it. */
    static boolean writable(INDArray a, int rows, int cols) {
        return a != null && Host.MEMORY && a.dataType() == DataType.FLOAT && a.rank() == 2 && a.size(0) == rows
            && a.size(1) == cols && a.ordering() == 'c' && !a.isView() && a.offset() == 0
            && Shape.hasDefaultStridesForShape(a) && a.data().length() == (long) rows * cols;
    }

    /**
     * A new {@code rows x cols} row-major float matrix holding {@code values}: on the CPU backend one bulk copy fills
     * it, where ND4J's {@code create(float[], ...)} writes float by float through {@code DataBuffer.put(long, float)}
     * (25-35 ms of a reader's CPU an epoch of the MLP in one JVM, for the epoch's first two chunks, the first of them
     * before the first minibatch: BENCHMARKS.md, round 19).
     */
    private static INDArray matrix(float[] values, int rows, int cols) {
        if (!Host.MEMORY) {
            return Nd4j.create(values, new long[] {rows, cols}, 'c');
        }
        INDArray a = Nd4j.createUninitialized(DataType.FLOAT, new long[] {rows, cols}, 'c');
        hostBuffer(a).put(values, 0, rows * cols);
        return a;
    }

    private static FloatBuffer hostBuffer(INDArray a) {
        return a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** Indices {@code start..end-1} of {@code order} (or the identity when {@code order} is null). */
    public static int[] positions(int[] order, int start, int end) {
        int[] out = new int[end - start];
        for (int i = start; i < end; i++) {
            out[i - start] = order == null ? i : order[i];
        }
        return out;
    }
}
