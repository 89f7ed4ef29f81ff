package dev.sparkmnist.models;

import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Exp;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ND4J's softmax over the rows of a small float matrix, to the last bit, without the fixed cost of ND4J's softmax
 * operation: the training step's output layer runs it once a step on [minibatch x 10] floats.
 *
 * <p>Why: ND4J's {@code softmax} is a custom (declarable) operation, and on a 64 x 10 array it took 17 us a call here
 * at one ND4J thread (the training tasks' setting on 2 cores; 40-55 us at two, where it hands rows to a second thread)
 * against 2 us for its legacy element-wise {@code exp} on the same 640 floats: the operation's context, its shape
 * function and its parallel loop around 640 exponentials (BENCHMARKS.md, round 32). libnd4j's softmax over the rows
 * of a matrix (its {@code softmax_loop} helper, float) takes each row's maximum, starting from
 * {@code -Float.MAX_VALUE} with {@code max > v ? max : v}, writes {@code exp(v - max)} with the C library's
 * {@code expf} (the same function its legacy {@code exp} calls; {@code perf} shows glibc's {@code __expf_fma}), sums
 * those in order in float, and divides each by the sum. This class does the same: the maximum, the subtraction, the
 * sum and the division in Java (float arithmetic, IEEE 754 as in C; flush-to-zero, where the training loop sets it,
 * applies to Java code on the thread as to ND4J's), the exponentials through ND4J's {@code exp} over the whole matrix
 * at once.
 *
 * <p>That this libnd4j build computes its softmax that way is checked, not assumed: the first use in a JVM compares
 * both on a fixed set of matrices (widths 1 to 37, logits of scale 0.5 to 10,000: 61,302 values, a few milliseconds)
 * and keeps ND4J's operation, with one warning, if a single float differs (a subnormal against zero excepted: see
 * below); {@code HostSoftmaxTest} compares them, every float counted, on 1.5 million values. A matrix of one row
 * (ND4J's vector path), with a value that is not finite (NaN, an infinity) or with a row whose maximum is
 * {@code -Float.MAX_VALUE} (ND4J's operation gives NaN there) is left to ND4J's operation.
 * {@code -D}{@value #PROPERTY}{@code =false} keeps ND4J's operation.
 *
 * <p>With flush-to-zero and denormals-are-zero on the calling thread (the training loop's {@code FlushToZero}): at one
 * ND4J thread (the training tasks' setting where they share the cores) ND4J's operation runs on the calling thread
 * and writes the same floats; with more, it runs some rows on its other threads, whose mode is not set, and
 * probabilities below the smallest normal float (1.2e-38) stay subnormal in those rows where this class writes zero.
 * Nothing else differs, and as denormals-are-zero reads a subnormal operand as zero, the output gradient and the loss
 * the layer computes from either are the same bits ({@code HostSoftmaxTest}).
 */
public final class HostSoftmax {
    /** {@code -Dsparkmnist.hostSoftmax=false} keeps ND4J's softmax operation. */
    public static final String PROPERTY = "sparkmnist.hostSoftmax";
    private static final Logger LOG = LoggerFactory.getLogger(HostSoftmax.class);

    private HostSoftmax() {
    }

    /**
     * Writes the softmax of each row of {@code input} ([rows x cols], float, on the CPU) to {@code p[0..rows * cols)},
     * row-major, as ND4J's {@code SoftMax} operation would compute it; {@code scratch} (a float array of the same
     * length, row-major, contiguous) is overwritten. Returns false, having changed nothing but {@code p} and
     * {@code scratch}, where this JVM keeps ND4J's operation, {@code input} has one row, or it holds a value that is
     * not finite or a row whose maximum is {@code -Float.MAX_VALUE}: the caller then runs ND4J's operation.
     */
    static boolean rows(INDArray input, INDArray scratch, float[] p, int rows, int cols) {
        return Check.WHY_NOT == null && compute(input, scratch, p, rows, cols);
    }

    /** {@link #rows} whatever this JVM's check found. */
    private static boolean compute(INDArray input, INDArray scratch, float[] p, int rows, int cols) {
        if (rows < 2 || cols < 1) { // one row: ND4J's vector path, another loop
            return false;
        }
        HostArrays.read(input, p, 0);
        if (!maxSubtracted(p, rows, cols)) {
            return false;
        }
        HostArrays.write(p, 0, scratch);
        Nd4j.exec(new Exp(scratch, scratch));
        HostArrays.read(scratch, p, 0);
        normalise(p, rows, cols);
        return true;
    }

    /**
     * Replaces each value of each row of {@code x} by itself minus the row's maximum (libnd4j's maximum: from
     * {@code -Float.MAX_VALUE}, {@code max > v ? max : v}); false, with {@code x} unchanged, if a value is not finite
     * or a row's maximum is {@code -Float.MAX_VALUE} (ND4J's operation gives NaN for such a row).
     */
    static boolean maxSubtracted(float[] x, int rows, int cols) {
        int n = rows * cols;
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(x[i])) {
                return false;
            }
        }
        for (int o = 0; o < n; o += cols) {
            if (rowMax(x, o, cols) == -Float.MAX_VALUE) {
                return false;
            }
        }
        for (int o = 0; o < n; o += cols) { // the maxima again: nothing allocated a step
            float max = rowMax(x, o, cols);
            for (int j = o; j < o + cols; j++) {
                x[j] = x[j] - max;
            }
        }
        return true;
    }

    /** libnd4j's maximum of {@code x[o..o + cols)}. */
    private static float rowMax(float[] x, int o, int cols) {
        float max = -Float.MAX_VALUE;
        for (int j = o; j < o + cols; j++) {
            float v = x[j];
            max = max > v ? max : v;
        }
        return max;
    }

    /** Divides each value of each row of {@code e} by the row's sum, summed in order in float. */
    static void normalise(float[] e, int rows, int cols) {
        for (int r = 0, o = 0; r < rows; r++, o += cols) {
            float sum = 0f;
            for (int j = o; j < o + cols; j++) {
                sum += e[j];
            }
            for (int j = o; j < o + cols; j++) {
                e[j] = e[j] / sum;
            }
        }
    }

    /** Why this JVM keeps ND4J's operation (null: it does not), decided at the first use. */
    static String whyNot() {
        return Check.WHY_NOT;
    }

    /**
     * How many floats of the softmax of {@code x} ([rows x cols], row-major) differ, bit for bit, between ND4J's
     * operation and this class.
     */
    static int differing(float[] x, int rows, int cols) {
        return differing(x, rows, cols, false);
    }

    /**
     * {@link #differing(float[], int, int)}; with {@code subnormalsAsZero}, a subnormal float against zero (or another
     * subnormal) does not count: the difference flush-to-zero makes when ND4J runs some rows on its other threads.
     */
    static int differing(float[] x, int rows, int cols, boolean subnormalsAsZero) {
        float[] want = nd4j(x, rows, cols);
        INDArray in = Nd4j.create(x.clone(), new long[] {rows, cols}, 'c');
        float[] got = new float[rows * cols];
        if (!compute(in, Nd4j.createUninitialized(DataType.FLOAT, rows, cols), got, rows, cols)) {
            throw new IllegalStateException("the host softmax declined " + rows + " x " + cols);
        }
        int differ = 0;
        for (int i = 0; i < got.length; i++) {
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i]) && !(subnormalsAsZero
                && Math.abs(got[i]) < Float.MIN_NORMAL && Math.abs(want[i]) < Float.MIN_NORMAL)) {
                differ++;
            }
        }
        return differ;
    }

    /** ND4J's softmax operation over the rows of {@code x} ([rows x cols], row-major), row-major. */
    static float[] nd4j(float[] x, int rows, int cols) {
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, rows, cols);
        Nd4j.exec(new SoftMax(Nd4j.create(x.clone(), new long[] {rows, cols}, 'c'), out));
        return out.dup('c').data().asFloat();
    }

    /** Logits of {@code rows x cols} drawn from a normal distribution of standard deviation {@code scale}. */
    static float[] logits(Random random, int rows, int cols, double scale) {
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * scale);
        }
        return x;
    }

    /** The first use's check against ND4J's operation (class initialisation runs it once a JVM). */
    private static final class Check {
        static final String WHY_NOT = check();

        private static String check() {
            if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").strip())) {
                return "switched off (-D" + PROPERTY + "=false)";
            }
            if (!HostArrays.CPU) {
                return "not the CPU backend";
            }
            Random random = new Random(20261205L);
            int values = 0;
            int differ = 0;
            // the first use is inside a training step: its arrays stay out of the step's workspaces, and its thread
            // flushes to zero where the mode can be set
            try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                for (int cols : new int[] {1, 2, 3, 10, 37}) {
                    for (double scale : new double[] {0.5, 3, 20, 100, 1_000, 10_000}) {
                        int rows = Math.max(1, 2_048 / cols);
                        differ += differing(logits(random, rows, cols, scale), rows, cols, true);
                        values += rows * cols;
                    }
                }
            }
            if (differ > 0) {
                String why = "ND4J's softmax differs from it on " + differ + " of " + values + " floats";
                LOG.warn("the output layer keeps ND4J's softmax operation: {} (this libnd4j build)", why);
                return why;
            }
            return null;
        }
    }
}
