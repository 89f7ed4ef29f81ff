package dev.sparkmnist.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * LeNet's 2x2 max pooling (stride 2) as Vector API code, four windows at a time: a row pair's eight inputs of each row
 * are read as one 256-bit vector, viewed as four 64-bit lanes (a window's left and right input in each), and split
 * into the left and the right inputs by narrowing to the low and the high 32 bits; the backward pass widens the same
 * way to put each window's gradient back beside its zeros. No shuffles: HotSpot 17 compiles shuffles and the
 * comparisons of the earlier attempt to objects, not instructions (BENCHMARKS.md, round 19), but it compiles these
 * narrowings and widenings to vector instructions where the CPU has AVX-512 ({@code vpmovqd}) or AVX2: the forward pass
 * took 0.6-1.4 ns a window against the scalar loop's 5-7 ns with AVX-512 (round 21) and 1.2-1.4 ns with HotSpot held to
 * AVX2 ({@code -XX:UseAVX=2}, round 24). With 128-bit vectors only (AVX without AVX2, where these conversions are not
 * intrinsics and took 35-70 ns a window), {@link #FAST} is false and the layer keeps its scalar loops.
 *
 * <p>The choices are the scalar loop's ({@code MaxPoolLayer}): the right input over the left only when larger, the
 * lower pair's maximum over the upper's only when larger, so the first largest input in row-major order wins ties;
 * -0 and +0 compare equal. Only {@link MaxPoolLayer} loads this class, and only when the JVM runs with
 * {@code --add-modules=jdk.incubator.vector} ({@link SimdAdam#MODULE}).
 */
final class Pool2x2Kernel {
    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Integer> I4 = IntVector.SPECIES_128;
    private static final VectorSpecies<Long> L4 = LongVector.SPECIES_256;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Inputs of one row a step of the kernels covers (four windows). */
    static final int STEP = 8;
    /**
     * Whether HotSpot compiles these kernels to vector instructions here: on x86 with vectors of 256 bits or more
     * (AVX2, AVX-512); elsewhere (ARM's NEON and SVE) not measured, so not assumed.
     */
    static final boolean FAST = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256
        && java.util.Set.of("amd64", "x86_64").contains(System.getProperty("os.arch"));

    private Pool2x2Kernel() {
    }

    /**
     * A training step's forward pooling of {@code planes} planes (images x channels) of {@code h x w} inputs, both
     * sides even, read and written in the arrays' own memory (float indices {@code x0} and {@code out0} of buffers in
     * native order: no copies into and out of Java arrays, round 21): each row pair's windows {@link #STEP} inputs of
     * each row at a time, each window's maximum to the output and the chosen input (0-3, row-major) to
     * {@code which}; each row's last windows that fill no step one at a time, with the same choices.
     */
    static void forward(ByteBuffer x, int x0, int planes, int h, int w, ByteBuffer out, int out0, int[] which) {
        IntVector zero = IntVector.zero(I4);
        IntVector one = IntVector.broadcast(I4, 1);
        IntVector two = IntVector.broadcast(I4, 2);
        IntVector three = IntVector.broadcast(I4, 3);
        int o = 0;
        for (int pair = 0, pairs = planes * (h / 2); pair < pairs; pair++) {
            int top = x0 + pair * 2 * w;
            int i = 0;
            for (; i + STEP <= w; i += STEP, o += STEP / 2) {
                // two rows of 8 inputs as 4 x 64 bits (a window's left input low, its right input high), split by
                // narrowing each 64-bit lane to its low and its high 32 bits; the species and conversions are
                // named as constants (castShape and reinterpretAsFloats look them up, and HotSpot then compiled a
                // store to a call: 2-3 % of a step); no helper methods, which this project's inlining limits
                // (jit.opts in the root pom) may leave as calls that pass the vectors as objects
                LongVector upper = LongVector.fromByteBuffer(L4, x, 4 * (top + i), ORDER);
                LongVector lower = LongVector.fromByteBuffer(L4, x, 4 * (top + w + i), ORDER);
                FloatVector a = (FloatVector) upper.convertShape(VectorOperators.L2I, I4, 0).reinterpretShape(F4, 0);
                FloatVector b = (FloatVector) upper.lanewise(VectorOperators.LSHR, 32)
                    .convertShape(VectorOperators.L2I, I4, 0).reinterpretShape(F4, 0);
                FloatVector c = (FloatVector) lower.convertShape(VectorOperators.L2I, I4, 0).reinterpretShape(F4, 0);
                FloatVector d = (FloatVector) lower.lanewise(VectorOperators.LSHR, 32)
                    .convertShape(VectorOperators.L2I, I4, 0).reinterpretShape(F4, 0);
                VectorMask<Float> rightAbove = b.compare(VectorOperators.GT, a);
                VectorMask<Float> rightBelow = d.compare(VectorOperators.GT, c);
                FloatVector aboveMax = a.blend(b, rightAbove);
                FloatVector belowMax = c.blend(d, rightBelow);
                VectorMask<Float> below = belowMax.compare(VectorOperators.GT, aboveMax);
                aboveMax.blend(belowMax, below).intoByteBuffer(out, 4 * (out0 + o), ORDER);
                IntVector above = zero.blend(one, rightAbove.cast(I4));
                above.blend(two.blend(three, rightBelow.cast(I4)), below.cast(I4)).intoArray(which, o);
            }
            for (; i < w; i += 2, o++) { // the row's last windows: MaxPoolLayer's scalar comparisons
                int r = 4 * (top + i);
                float a = x.getFloat(r);
                float b = x.getFloat(r + 4);
                float c = x.getFloat(r + 4 * w);
                float d = x.getFloat(r + 4 * w + 4);
                boolean rightAbove = b > a;
                boolean rightBelow = d > c;
                float aboveMax = rightAbove ? b : a;
                float belowMax = rightBelow ? d : c;
                boolean below = belowMax > aboveMax;
                out.putFloat(4 * (out0 + o), below ? belowMax : aboveMax);
                which[o] = below ? (rightBelow ? 3 : 2) : (rightAbove ? 1 : 0);
            }
        }
    }

    /**
     * The backward pass of {@link #forward}: window {@code o}'s gradient (float {@code e0 + o} of {@code e}) to the
     * input {@code which[o]} chose, zeros to the window's other three, in the input gradient's memory (from float
     * {@code grad0}; every input written).
     */
    static void route(ByteBuffer e, int e0, int[] which, int planes, int h, int w, ByteBuffer grad, int grad0) {
        LongVector zero = LongVector.zero(L4);
        int o = 0;
        for (int pair = 0, pairs = planes * (h / 2); pair < pairs; pair++) {
            int top = grad0 + pair * 2 * w;
            int i = 0;
            for (; i + STEP <= w; i += STEP, o += STEP / 2) {
                // each window's gradient as 64 bits, once in the low half (a left input's place), once in the
                // high; upper row: the low half where the window chose 0, the high half where 1; lower row: 2 and 3
                IntVector g = IntVector.fromByteBuffer(I4, e, 4 * (e0 + o), ORDER);
                IntVector k = IntVector.fromArray(I4, which, o);
                LongVector low = ((LongVector) g.convertShape(VectorOperators.I2L, L4, 0)).and(0xFFFFFFFFL);
                LongVector high = low.lanewise(VectorOperators.LSHL, 32);
                LongVector chosen = (LongVector) k.convertShape(VectorOperators.I2L, L4, 0);
                zero.blend(low, chosen.eq(0)).blend(high, chosen.eq(1)).intoByteBuffer(grad, 4 * (top + i), ORDER);
                zero.blend(low, chosen.eq(2)).blend(high, chosen.eq(3)).intoByteBuffer(grad, 4 * (top + w + i), ORDER);
            }
            for (; i < w; i += 2, o++) {
                float g = e.getFloat(4 * (e0 + o));
                int k = which[o];
                int r = 4 * (top + i);
                grad.putFloat(r, k == 0 ? g : 0f);
                grad.putFloat(r + 4, k == 1 ? g : 0f);
                grad.putFloat(r + 4 * w, k == 2 ? g : 0f);
                grad.putFloat(r + 4 * w + 4, k == 3 ? g : 0f);
            }
        }
    }
}
