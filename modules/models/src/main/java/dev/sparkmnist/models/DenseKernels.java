package dev.sparkmnist.models;

import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The element-wise parts of a dense layer's step as Java loops over one copy of each array, in place of ND4J's
 * separate ops (a bias addition, ReLU, ReLU's derivative as a step and a product, the bias gradient as a sum), each of
 * which costs an op's set-up that is larger than its arithmetic on these matrices. The arithmetic is DL4J's, operation
 * for operation (the sums excepted: summed row after row in float, where ND4J's reduction may add in another order).
 * One instance per layer (it keeps its scratch arrays), one thread at a time. Each method answers false, changing
 * nothing, where an array is not a float array in host memory in row-major order ({@link HostArrays#rowMajor}).
 */
final class DenseKernels {
    private final HostBlas blas = new HostBlas();
    /** Scratch arrays 0-2 ({@link #grow}). */
    private final float[][] scratch = {new float[0], new float[0], new float[0]};

    /** The layer's matrix products (OpenBLAS on host memory), kept with its loops: one object a layer. */
    HostBlas blas() {
        return blas;
    }

    /**
     * A dense layer's pre-output, {@code input x weights + bias} (ReLU'd where {@code relu}), as one OpenBLAS call and
     * one loop, in a new activations array; null where these arrays cannot take that path (DL4J's then runs).
     */
    INDArray preOutput(INDArray input, INDArray weights, INDArray bias, boolean relu, LayerWorkspaceMgr workspaceMgr) {
        if (input.rank() != 2 || weights.rank() != 2 || input.size(1) != weights.size(0)) {
            return null;
        }
        INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, input.size(0),
            weights.size(1));
        return blas.gemm(input, false, weights, false, z, 0f) && addBias(z, bias, relu) ? z : null;
    }

    /**
     * The layer's input gradient, {@code delta x weights^T}, in a new row-major array of activation gradients; the
     * caller has checked the layouts ({@link HostBlas#leading}).
     */
    INDArray inputGradient(INDArray delta, INDArray weights, LayerWorkspaceMgr workspaceMgr) {
        INDArray epsilon = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
            new long[] {delta.size(0), weights.size(0)}, 'c');
        blas.gemm(delta, false, weights, true, epsilon, 0f);
        return epsilon;
    }

    /** {@code z[r][c] = max(z[r][c] + bias[c], 0)}, or without the maximum where {@code relu} is false. */
    boolean addBias(INDArray z, INDArray bias, boolean relu) {
        int cols = (int) z.size(1);
        if (z.rank() != 2 || bias.length() != cols || !HostArrays.rowMajor(z) || !HostArrays.rowMajor(bias)) {
            return false;
        }
        int n = (int) z.length();
        float[] v = grow(n, 0);
        float[] b = grow(cols, 2);
        HostArrays.read(z, v, 0);
        HostArrays.read(bias, b, 0);
        for (int r = 0; r < n; r += cols) {
            if (relu) {
                for (int c = 0; c < cols; c++) {
                    v[r + c] = relu(v[r + c] + b[c]);
                }
            } else {
                for (int c = 0; c < cols; c++) {
                    v[r + c] += b[c];
                }
            }
        }
        HostArrays.write(v, 0, z);
        return true;
    }

    /** Whether {@link #reluBackward} runs on these arrays. */
    static boolean reluBackwardRuns(INDArray out, INDArray epsilon, INDArray delta, INDArray biasGradient) {
        long n = out.length();
        return out.rank() == 2 && epsilon.length() == n && delta.length() == n && HostArrays.rowMajor(out)
            && HostArrays.rowMajor(epsilon) && HostArrays.rowMajor(delta) && (biasGradient == null
            || biasGradient.length() == out.size(1) && HostArrays.rowMajor(biasGradient));
    }

    /**
     * ReLU's backward pass from its output: {@code delta = epsilon} where {@code out > 0}, else 0; and the bias
     * gradient, {@code delta}'s column sums, into {@code biasGradient} (null: none).
     */
    boolean reluBackward(INDArray out, INDArray epsilon, INDArray delta, INDArray biasGradient) {
        if (!reluBackwardRuns(out, epsilon, delta, biasGradient)) {
            return false;
        }
        int cols = (int) out.size(1);
        int n = (int) out.length();
        float[] o = grow(n, 0);
        float[] e = grow(n, 1);
        HostArrays.read(out, o, 0);
        HostArrays.read(epsilon, e, 0);
        for (int i = 0; i < n; i++) {
            e[i] = where(o[i], e[i]);
        }
        HostArrays.write(e, 0, delta);
        if (biasGradient != null) {
            HostArrays.write(columnSums(e, n, cols), 0, biasGradient);
        }
        return true;
    }

    /**
     * {@code x < 0 ? 0 : x} without a branch (ReLU's signs are a coin toss: as a branch it mispredicts about every
     * second float): {@code x}'s bits masked to zero where its sign bit is set. The same floats as the comparison,
     * -0 and NaNs with the sign bit set excepted, which become +0 (ND4J's ReLU, {@code x > 0 ? x : 0}, gives +0 for
     * -0 and for every NaN).
     */
    static float relu(float x) {
        int bits = Float.floatToRawIntBits(x);
        return Float.intBitsToFloat(bits & ~(bits >> 31));
    }

    /**
     * {@code out > 0 ? e : 0} without a branch: {@code e}'s bits kept where {@code out}'s bits, as an unsigned
     * number less one, are below those of +infinity (exactly the floats > 0: positive, not zero, not NaN).
     */
    static float where(float out, float e) {
        long above = (Float.floatToRawIntBits(out) - 1) & 0xffffffffL;
        int keep = (int) ((above - 0x7f800000L) >> 63);
        return Float.intBitsToFloat(Float.floatToRawIntBits(e) & keep);
    }

    /** The column sums of the row-major {@code v[0..n)} with {@code cols} columns (in a scratch array). */
    float[] columnSums(float[] v, int n, int cols) {
        float[] s = grow(cols, 2);
        java.util.Arrays.fill(s, 0, cols, 0f);
        for (int r = 0; r < n; r += cols) {
            for (int c = 0; c < cols; c++) {
                s[c] += v[r + c];
            }
        }
        return s;
    }

    /** Scratch array {@code which} (0, 1 or 2), at least {@code n} long; its contents are not kept. */
    float[] grow(int n, int which) {
        if (scratch[which].length < n) {
            scratch[which] = new float[n];
        }
        return scratch[which];
    }
}
