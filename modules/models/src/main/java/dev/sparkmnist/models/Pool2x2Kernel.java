package dev.sparkmnist.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.DoubleUnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.slf4j.LoggerFactory;

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
 *
 * <p>Before C2 compiles them the kernels run as objects and calls: a LeNet-5 step at 32 took 0.5-0.6 s first and
 * about 100 ms for several steps after, its first 40 steps 1.15-1.25 s against 0.36-0.39 s with the scalar loops
 * (BENCHMARKS.md, round 33). So the layer keeps its scalar loops (the same outputs and choices) until
 * {@link VectorWarmUp}'s thread, started by {@link #startWarmUp}, has seen the kernels run compiled ({@link #ready}).
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

    /** Starts the kernels' warm-up (once per JVM; later calls do nothing). */
    static void startWarmUp() {
        Warm.start();
    }

    /** Whether the kernels run compiled: their warm-up has seen them run as C2's code. */
    static boolean ready() {
        return Warm.READY.get();
    }

    /** The kernels' warm-up thread and its flag. */
    private static final class Warm {
        static final AtomicBoolean READY = new AtomicBoolean();

        static {
            VectorWarmUp.start("pool-2x2-warm-up", new WarmUpCalls(), READY,
                LoggerFactory.getLogger(MaxPoolLayer.class), "LeNet's 2x2 pooling", "the scalar loop", L4.length() * 2);
        }

        private Warm() {
        }

        static void start() {
            // the static initialiser did the work
        }
    }

    /**
     * The warm-up's calls: forward and backward passes over two planes of four rows, once on rows of whole steps
     * (LeNet's 24 and 8 inputs) and once on rows with a last window left over, so that C2 compiles every loop and
     * branch a training step takes (a branch the warm-up never took is compiled as a trap, which the first training
     * call would spring, throwing the compiled kernels away: measured, round 33). Arrays of its own, about
     * {@code floats} inputs a pass.
     */
    private static final class WarmUpCalls implements DoubleUnaryOperator {
        private static final int PLANES = 2;
        private static final int ROWS = 4;

        @Override
        public double applyAsDouble(double floats) {
            int whole = STEP * Math.max(1, (int) floats / (STEP * PLANES * ROWS));
            Passes a = new Passes(whole);
            Passes b = new Passes(whole + 2);
            long t0 = System.nanoTime();
            for (int k = 0; k < VectorWarmUp.CALLS; k++) {
                a.run();
                b.run();
            }
            return (System.nanoTime() - t0) / ((double) VectorWarmUp.CALLS * (a.x.capacity() + b.x.capacity()) / 4);
        }

        /** A forward and a backward pass on planes of rows of {@code w} inputs. */
        private static final class Passes {
            final int w;
            final ByteBuffer x;
            final ByteBuffer out;
            final ByteBuffer grad;
            final int[] which;

            Passes(int w) {
                this.w = w;
                int n = PLANES * ROWS * w;
                x = ByteBuffer.allocateDirect(4 * n).order(ORDER);
                for (int i = 0; i < n; i++) {
                    x.putFloat(4 * i, (i * 7) % 11 - 5); // each window's maximum in each of its places, ties too
                }
                if (w % STEP != 0) { // the row pairs' last windows (the scalar code) choose each of their 4 places
                    int[] place = {0, 1, w, w + 1};
                    for (int pair = 0; pair < PLANES * ROWS / 2; pair++) {
                        x.putFloat(4 * (pair * 2 * w + w - 2 + place[pair % 4]), 9);
                    }
                }
                out = ByteBuffer.allocateDirect(4 * n / 4).order(ORDER);
                grad = ByteBuffer.allocateDirect(4 * n).order(ORDER);
                which = new int[n / 4];
            }

            void run() {
                forward(x, 0, PLANES, ROWS, w, out, 0, which);
                route(out, 0, which, PLANES, ROWS, w, grad, 0);
            }
        }
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
