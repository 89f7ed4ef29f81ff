package dev.sparkmnist.models;

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
 * narrowings and widenings to single instructions where the CPU has AVX-512 ({@code vpmovqd}): there the forward pass
 * took 0.6-1.2 ns a window against the scalar loop's 6-7 ns (round 21). Without AVX-512 ({@link #FAST} is false) the
 * layer keeps its scalar loops.
 *
 * <p>The choices are the scalar loop's ({@code MaxPoolLayer}): the right input over the left only when larger, the
 * lower pair's maximum over the upper's only when larger, so the first largest input in row-major order wins ties;
 * -0 and +0 compare equal. Only {@link MaxPoolLayer} loads this class, and only when the JVM runs with
 * {@code --add-modules=jdk.incubator.vector} ({@link SimdAdam#MODULE}).
 */
final class Pool2x2Kernel {
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Integer> I4 = IntVector.SPECIES_128;
    private static final VectorSpecies<Long> L4 = LongVector.SPECIES_256;
    /** Inputs of one row a step of the kernels covers (four windows). */
    static final int STEP = 8;
    /** Whether HotSpot compiles these kernels to vector instructions here: with AVX-512 (512-bit vectors). */
    static final boolean FAST = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    private Pool2x2Kernel() {
    }

    /**
     * The windows of one row pair, {@link #STEP} inputs of each row at a time, as far as whole steps go: the upper row
     * starts at {@code x[top]}, the lower at {@code x[top + w]}; window maxima go to {@code out} and the chosen inputs
     * (0-3, row-major) to {@code which}, from index {@code o}. Returns how many inputs of each row it covered (a
     * multiple of {@link #STEP}; the caller pools the rest).
     */
    static int forward(float[] x, int top, int w, float[] out, int[] which, int o) {
        IntVector zero = IntVector.zero(I4);
        IntVector one = IntVector.broadcast(I4, 1);
        IntVector two = IntVector.broadcast(I4, 2);
        IntVector three = IntVector.broadcast(I4, 3);
        int i = 0;
        for (; i + STEP <= w; i += STEP, o += STEP / 2) {
            LongVector upper = (LongVector) FloatVector.fromArray(F8, x, top + i).reinterpretShape(L4, 0);
            LongVector lower = (LongVector) FloatVector.fromArray(F8, x, top + w + i).reinterpretShape(L4, 0);
            // no helper methods for these (see route); the species and conversions are named as constants, where
            // castShape and reinterpretAsFloats look them up: HotSpot then compiled a store to a call (2-3 % a step)
            FloatVector a = (FloatVector) upper.convertShape(VectorOperators.L2I, I4, 0).reinterpretShape(F4, 0);
            FloatVector b = (FloatVector) upper.lanewise(VectorOperators.LSHR, 32).convertShape(VectorOperators.L2I, I4, 0)
                .reinterpretShape(F4, 0);
            FloatVector c = (FloatVector) lower.convertShape(VectorOperators.L2I, I4, 0).reinterpretShape(F4, 0);
            FloatVector d = (FloatVector) lower.lanewise(VectorOperators.LSHR, 32).convertShape(VectorOperators.L2I, I4, 0)
                .reinterpretShape(F4, 0);
            VectorMask<Float> rightAbove = b.compare(VectorOperators.GT, a);
            VectorMask<Float> rightBelow = d.compare(VectorOperators.GT, c);
            FloatVector aboveMax = a.blend(b, rightAbove);
            FloatVector belowMax = c.blend(d, rightBelow);
            VectorMask<Float> below = belowMax.compare(VectorOperators.GT, aboveMax);
            aboveMax.blend(belowMax, below).intoArray(out, o);
            IntVector above = zero.blend(one, rightAbove.cast(I4));
            above.blend(two.blend(three, rightBelow.cast(I4)), below.cast(I4)).intoArray(which, o);
        }
        return i;
    }

    /**
     * The backward pass of {@link #forward} for one row pair: window {@code o}'s gradient {@code e[o]} to the input
     * {@code which[o]} chose, zeros to the window's other three, into {@code grad} at {@code top} and
     * {@code top + w}. Returns how many inputs of each row it covered, as {@link #forward} does.
     */
    static int route(float[] e, int[] which, int o, float[] grad, int top, int w) {
        // written out in full, no helper methods: a call that the JIT does not inline (this project's inlining
        // limits, jit.opts in the root pom) passes its vectors as objects (measured: 2 % of a LeNet-5 step)
        LongVector zero = LongVector.zero(L4);
        int i = 0;
        for (; i + STEP <= w; i += STEP, o += STEP / 2) {
            IntVector g = (IntVector) FloatVector.fromArray(F4, e, o).reinterpretShape(I4, 0);
            IntVector k = IntVector.fromArray(I4, which, o);
            // each window's gradient as 64 bits, once in the low half (a left input's place), once in the high
            LongVector low = ((LongVector) g.convertShape(VectorOperators.I2L, L4, 0)).and(0xFFFFFFFFL);
            LongVector high = low.lanewise(VectorOperators.LSHL, 32);
            // upper row: the low half where the window chose 0, the high half where 1; lower row: 2 and 3
            LongVector chosen = (LongVector) k.convertShape(VectorOperators.I2L, L4, 0);
            ((FloatVector) zero.blend(low, chosen.eq(0)).blend(high, chosen.eq(1)).reinterpretShape(F8, 0))
                .intoArray(grad, top + i);
            ((FloatVector) zero.blend(low, chosen.eq(2)).blend(high, chosen.eq(3)).reinterpretShape(F8, 0))
                .intoArray(grad, top + w + i);
        }
        return i;
    }
}
