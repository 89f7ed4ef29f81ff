package dev.sparkmnist.models;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's max-pooling layer with a plain backward pass: each output's gradient goes to the first largest input of its
 * window, read and written in NCHW order by one loop. DL4J hands the backward pass to oneDNN, which runs the forward
 * pooling again (for the positions of the maxima) and converts the pictures, the gradient and the result to and
 * from its 16-channel blocked layout: LeNet-5's 6 and 16 channels pay for 16 and 16, and the two poolings' backward
 * passes were the largest item of a training step (BENCHMARKS.md, "Per-core speed"). For LeNet's 2x2 windows on even
 * sides the forward pass is a Java loop too, noting each window's maximum for the backward pass (round 11); other
 * windows keep DL4J's forward pass. Output and gradients are DL4J's, ties included ({@code MaxPoolLayerTest}). On
 * CPUs with AVX2 or AVX-512 a training step's 2x2 forward pass and the backward pass after it run four windows at a
 * time as vector code in the arrays' own memory ({@link Pool2x2Kernel}, rounds 21 and 24) once C2 has compiled it
 * (round 33); the scalar loops on Java copies stay for the JVM's first steps, other CPUs, other layouts and a backward
 * pass without our forward pass before it.
 *
 * <p>Installed on a network's pooling layers by {@link Models#forTraining}; the configuration (and so model.zip) is
 * DL4J's ordinary {@code SubsamplingLayer}. Other pooling types, NHWC, Same mode, padding, dilation and backends
 * other than the CPU's use DL4J's backward pass unchanged.
 */
final class MaxPoolLayer extends SubsamplingLayer {
    // buffers reused across steps (one network trains on one thread at a time); null until the first step
    private transient float[] in;
    private transient float[] eps;
    private transient float[] grad;
    private transient float[] pooled;
    /** Which input of each 2x2 window the last training forward pass took (0-3, row-major), for {@link #chosenFor}. */
    private transient int[] chosen;
    /** The input the last training forward pass pooled in Java; null when it did not. */
    private transient INDArray chosenFor;

    /**
     * Whether the 2x2 kernels run as vector code ({@link Pool2x2Kernel}): where HotSpot compiles it to vector
     * instructions (AVX2, AVX-512) and the JVM has the Vector API's module; tests set it both ways.
     */
    boolean vector = VECTOR;
    /** Tests: the kernels run even before their warm-up has seen them compiled ({@link Pool2x2Kernel#ready}). */
    boolean evenCold;

    MaxPoolLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** {@link Pool2x2Kernel#FAST}, false where the JVM lacks the Vector API's module (the class cannot load). */
    static final boolean VECTOR = SimdAdam.VECTOR_API && Pool2x2Kernel.FAST;

    /** Starts the vector kernels' warm-up where they may run: before training, not in its first epoch. */
    static void warmUp() {
        if (VECTOR) {
            Pool2x2Kernel.startWarmUp();
        }
    }

    /** Whether the scalar loops have pooled with this layer (their buffers exist): for tests. */
    boolean scalarBuffersUsed() {
        return pooled != null;
    }

    /** Whether this pass runs the vector kernels: allowed here, and compiled (until then the scalar loops). */
    private boolean vectorNow() {
        if (!vector) {
            return false;
        }
        Pool2x2Kernel.startWarmUp(); // started already where Models.forTraining set the network up
        return evenCold || Pool2x2Kernel.ready();
    }

    private boolean covered(INDArray epsilon) {
        org.deeplearning4j.nn.conf.layers.SubsamplingLayer c = layerConf();
        int[] pad = c.getPadding();
        int[] dilation = c.getDilation();
        return c.getPoolingType() == PoolingType.MAX && c.getCnn2dDataFormat() == CNN2DFormat.NCHW
            && convolutionMode != ConvolutionMode.Same && pad[0] == 0 && pad[1] == 0
            && dilation[0] == 1 && dilation[1] == 1 && input.rank() == 4 && epsilon.rank() == 4
            && input.dataType() == DataType.FLOAT && epsilon.dataType() == DataType.FLOAT
            && input.length() < Integer.MAX_VALUE && HostArrays.CPU; // Java reads host memory
    }

    /** LeNet's pooling windows: 2x2, stride 2 (they do not overlap). */
    private boolean twoByTwo() {
        org.deeplearning4j.nn.conf.layers.SubsamplingLayer c = layerConf();
        int[] kernel = c.getKernelSize();
        int[] stride = c.getStride();
        return kernel[0] == 2 && kernel[1] == 2 && stride[0] == 2 && stride[1] == 2;
    }

    /** The same on even sides: each input in exactly one window. */
    private boolean evenTwoByTwo() {
        return twoByTwo() && input.rank() == 4 && input.size(2) % 2 == 0 && input.size(3) % 2 == 0;
    }

    /** Reads the input and finds each 2x2 window's maximum ({@link #pool2x2Forward}), growing the buffers. */
    private void choose2x2(int channels, int h, int w) {
        int windows = channels * (h / 2) * (w / 2);
        in = read(input, in);
        if (pooled == null || pooled.length < windows) {
            pooled = new float[windows];
            chosen = new int[windows];
        }
        pool2x2Forward(in, pooled, chosen, channels, h, w);
    }

    /**
     * For LeNet's 2x2 windows, the forward pass as a Java loop that also notes which input each window took, so that
     * the backward pass only routes gradients (ND4J's op runs oneDNN's pooling with its layout conversions, and the
     * backward pass then had to find the maxima again). The output is ND4J's: each window's largest input, the first
     * of equal ones ({@code MaxPoolLayerTest}). Other configurations run DL4J's forward pass.
     */
    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        chosenFor = null;
        if (input == null || !covered(input) || !evenTwoByTwo()) {
            return super.activate(training, workspaceMgr);
        }
        long[] shape = input.shape();
        int planes = (int) (shape[0] * shape[1]);
        int h = (int) shape[2];
        int w = (int) shape[3];
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
            new long[] {shape[0], shape[1], h / 2, w / 2}, 'c');
        if (vectorNow() && HostArrays.rowMajor(input) && HostArrays.rowMajor(out)
            && HostArrays.byteIndexed(input)) { // in place
            int windows = planes * (h / 2) * (w / 2);
            if (chosen == null || chosen.length < windows) {
                chosen = new int[windows];
            }
            Pool2x2Kernel.forward(HostArrays.bytes(input), (int) input.offset(), planes, h, w, HostArrays.bytes(out),
                (int) out.offset(), chosen);
        } else {
            choose2x2(planes, h, w);
            HostArrays.write(pooled, 0, out);
        }
        chosenFor = training ? input : null;
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        if (!covered(epsilon)) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        long[] shape = input.shape();
        int channels = (int) (shape[0] * shape[1]); // images x channels: each pooled alone
        int h = (int) shape[2];
        int w = (int) shape[3];
        if (chosenFor == input && vectorNow() && evenTwoByTwo() && HostArrays.rowMajor(epsilon)
            && HostArrays.byteIndexed(input)) {
            // our forward pass noted the maxima: route in the arrays' own memory (every input written)
            INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, shape, 'c');
            Pool2x2Kernel.route(HostArrays.bytes(epsilon), (int) epsilon.offset(), chosen, channels, h, w,
                HostArrays.bytes(out), (int) out.offset());
            chosenFor = null;
            return new Pair<>(new DefaultGradient(), out);
        }
        eps = read(epsilon, eps);
        int n = (int) input.length();
        boolean twoByTwo = twoByTwo();
        if (grad == null || grad.length < n) {
            grad = new float[n];
        } else if (!twoByTwo || h % 2 != 0 || w % 2 != 0) { // 2x2 windows on even sides write every input
            java.util.Arrays.fill(grad, 0, n, 0f);
        }
        if (twoByTwo) {
            if (chosenFor != input) { // no training forward pass of ours noted the maxima: find them
                choose2x2(channels, h, w);
            }
            route2x2(eps, grad, chosen, channels, h, w);
        } else {
            in = read(input, in);
            pool(channels, h, w, (int) epsilon.size(2), (int) epsilon.size(3), layerConf().getKernelSize(),
                layerConf().getStride());
        }
        chosenFor = null;
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, shape, 'c');
        HostArrays.write(grad, 0, out);
        return new Pair<>(new DefaultGradient(), out);
    }

    /**
     * LeNet's 2x2 windows, stride 2 (on odd sides the last row or column is in no window) of {@code channels} planes of
     * {@code x}: each window's largest input into {@code out} and which one it was (0-3, row-major; the first of equal
     * ones) into {@code which} ({@link #pooled} and {@link #chosen} in training; {@code PoolKernelHarness} times it),
     * without a branch on the values: "is q larger than p" is the sign bit of {@code p - q} (exact for finite values:
     * a difference is zero only when they are equal; adding +0 first makes -0 and +0 equal, as comparison does). A
     * loop that compares and branches mispredicts on about every other window of random maxima and took 3x as long.
     */
    static void pool2x2Forward(float[] x, float[] out, int[] which, int channels, int h, int w) {
        int outH = h / 2;
        int outW = w / 2;
        int o = 0;
        for (int c = 0; c < channels; c++) {
            int plane = c * h * w;
            for (int oy = 0; oy < outH; oy++) {
                int top = plane + 2 * oy * w;
                for (int ox = 0; ox < outW; ox++, o++) {
                    int r = top + 2 * ox;
                    float a = x[r];
                    float b = x[r + 1];
                    float c2 = x[r + w];
                    float d = x[r + w + 1];
                    int right = Float.floatToRawIntBits((a + 0f) - (b + 0f)) >> 31; // -1 when b > a
                    float topMax = select(right, b, a);
                    int rightBelow = Float.floatToRawIntBits((c2 + 0f) - (d + 0f)) >> 31;
                    float bottomMax = select(rightBelow, d, c2);
                    int below = Float.floatToRawIntBits((topMax + 0f) - (bottomMax + 0f)) >> 31;
                    out[o] = select(below, bottomMax, topMax);
                    which[o] = below & 2 | (below & rightBelow | ~below & right) & 1;
                }
            }
        }
    }

    /**
     * The backward pass from {@code which}: each window's gradient (in {@code e}) to the input it took in {@code out},
     * zeros to the window's others, through bit masks (windows do not overlap: each input's gradient is written once).
     */
    static void route2x2(float[] e, float[] out, int[] which, int channels, int h, int w) {
        int outH = h / 2;
        int outW = w / 2;
        int o = 0;
        for (int c = 0; c < channels; c++) {
            int plane = c * h * w;
            for (int oy = 0; oy < outH; oy++) {
                int top = plane + 2 * oy * w;
                for (int ox = 0; ox < outW; ox++, o++) {
                    int r = top + 2 * ox;
                    int g = Float.floatToRawIntBits(e[o]);
                    int k = which[o];
                    out[r] = Float.intBitsToFloat(g & (((k ^ 0) - 1) >> 31));
                    out[r + 1] = Float.intBitsToFloat(g & (((k ^ 1) - 1) >> 31));
                    out[r + w] = Float.intBitsToFloat(g & (((k ^ 2) - 1) >> 31));
                    out[r + w + 1] = Float.intBitsToFloat(g & (((k ^ 3) - 1) >> 31));
                }
            }
        }
    }

    /** {@code p} where {@code mask} is all ones, else {@code q}: a float select the JIT does not branch on. */
    private static float select(int mask, float p, float q) {
        return Float.intBitsToFloat(Float.floatToRawIntBits(p) & mask | Float.floatToRawIntBits(q) & ~mask);
    }

    /** Any window and stride: the first largest input of each window gets the window's gradient. */
    private void pool(int channels, int h, int w, int outH, int outW, int[] kernel, int[] stride) {
        for (int c = 0; c < channels; c++) {
            int plane = c * h * w;
            int outPlane = c * outH * outW;
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++) {
                    int first = plane + oy * stride[0] * w + ox * stride[1];
                    int best = first;
                    float max = in[first];
                    for (int ky = 0; ky < kernel[0]; ky++) {
                        int row = first + ky * w;
                        for (int kx = 0; kx < kernel[1]; kx++) {
                            float v = in[row + kx];
                            if (v > max) { // strictly: the first largest (oneDNN's choice too)
                                max = v;
                                best = row + kx;
                            }
                        }
                    }
                    grad[best] += eps[outPlane + oy * outW + ox];
                }
            }
        }
    }

    /** The array's values in NCHW order, into {@code into} when it is long enough. */
    private static float[] read(INDArray a, float[] into) {
        int n = (int) a.length();
        float[] values = into != null && into.length >= n ? into : new float[n];
        HostArrays.read(a, values, 0);
        return values;
    }
}
