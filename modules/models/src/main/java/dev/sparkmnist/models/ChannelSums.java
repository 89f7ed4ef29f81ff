package dev.sparkmnist.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.DoubleUnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.LoggerFactory;

/**
 * A convolution's bias gradient, the output gradient summed over images, rows and columns for each channel, as
 * Vector API code over the array's own memory: one plane at a time, 16 floats a step on AVX-512. ND4J's
 * {@code sum(0, 2, 3)} runs a generic reduction of a 4-dimensional array that took 3.5-4 % of a LeNet-5 step
 * (BENCHMARKS.md, round 21). The sums are in another order than ND4J's, so they equal its up to float rounding.
 * Only {@link #sum} loads the vector classes, and only in a JVM with the Vector API's module ({@link SimdAdam#MODULE}).
 *
 * <p>Before C2 compiles it the kernel runs as objects and calls, far slower than a scalar loop; until
 * {@link VectorWarmUp}'s thread has seen it run compiled, {@link #sum} adds the same floats in the same order in a
 * scalar loop ({@link Kernel#planesInOrder}: a sum per lane, then the lanes in order, as the kernel's
 * {@code reduceLanes} does), so the sums are the same bits whichever runs and whenever the kernel takes over. The
 * warm-up checks that on its own floats before it lets the kernel run.
 */
final class ChannelSums {
    /** Whether {@link #sum} runs here: in a JVM with the Vector API's module. Tests set it both ways. */
    static boolean vector = SimdAdam.VECTOR_API;
    /** Tests: the kernel runs even before its warm-up has seen it compiled. */
    static boolean evenCold;

    private ChannelSums() {
    }

    /**
     * {@code into[c] = sum over n, y, x of delta[n, c, y, x]} for a float NCHW {@code delta} in host memory, written
     * into {@code into} (a vector of the channels' length); false, writing nothing, where this path does not apply
     * (the caller then uses ND4J's sum).
     */
    static boolean sum(INDArray delta, INDArray into) {
        if (!vector || delta.rank() != 4 || delta.dataType() != DataType.FLOAT || !HostArrays.rowMajor(delta)
            || !HostArrays.rowMajor(into) || into.length() != delta.size(1) || !HostArrays.byteIndexed(delta)) {
            return false;
        }
        int channels = (int) delta.size(1);
        float[] sums = new float[channels];
        Kernel.Warm.start(); // started already where Models.forTraining set the network up
        if (evenCold || Kernel.Warm.READY.get()) {
            Kernel.planes(HostArrays.bytes(delta), (int) delta.offset(), (int) delta.size(0), channels,
                (int) (delta.size(2) * delta.size(3)), sums);
        } else {
            Kernel.planesInOrder(HostArrays.bytes(delta), (int) delta.offset(), (int) delta.size(0), channels,
                (int) (delta.size(2) * delta.size(3)), sums);
        }
        HostArrays.write(sums, 0, into);
        return true;
    }

    /** Starts the kernel's warm-up where it may run: before training, not in its first epoch. */
    static void warmUp() {
        if (vector) {
            Kernel.Warm.start();
        }
    }

    /** Whether {@link #sum} runs the vector kernel now (it may here and it is compiled). */
    static boolean ready() {
        return vector && Kernel.Warm.READY.get();
    }

    /** The vector code, in its own class so that nothing loads the Vector API where the JVM lacks its module. */
    static final class Kernel {
        private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
        private static final ByteOrder ORDER = ByteOrder.nativeOrder();

        private Kernel() {
        }

        /**
         * Adds each of {@code images x channels} planes of {@code plane} floats (starting at float index {@code d0} of
         * {@code buffer}, in native order) into {@code sums[channel]}.
         */
        static void planes(ByteBuffer buffer, int d0, int images, int channels, int plane, float[] sums) {
            int step = SPECIES.length();
            int bound = SPECIES.loopBound(plane);
            for (int n = 0; n < images; n++) {
                for (int c = 0; c < channels; c++) {
                    int start = d0 + (n * channels + c) * plane;
                    FloatVector acc = FloatVector.zero(SPECIES);
                    int i = 0;
                    for (; i < bound; i += step) {
                        acc = acc.add(FloatVector.fromByteBuffer(SPECIES, buffer, 4 * (start + i), ORDER));
                    }
                    float s = acc.reduceLanes(VectorOperators.ADD);
                    for (; i < plane; i++) {
                        s += buffer.getFloat(4 * (start + i));
                    }
                    sums[c] += s;
                }
            }
        }

        /**
         * {@link #planes} as a scalar loop on a copy of each plane, adding the same floats in the same order: each
         * lane's sum, then the lanes from the first (as {@code reduceLanes(ADD)} does, from 0), then the tail.
         */
        static void planesInOrder(ByteBuffer buffer, int d0, int images, int channels, int plane, float[] sums) {
            int step = SPECIES.length();
            int bound = SPECIES.loopBound(plane);
            FloatBuffer floats = buffer.duplicate().clear().order(ORDER).asFloatBuffer();
            float[] p = new float[plane];
            float[] lanes = new float[step];
            for (int n = 0; n < images; n++) {
                for (int c = 0; c < channels; c++) {
                    floats.get(d0 + (n * channels + c) * plane, p, 0, plane);
                    java.util.Arrays.fill(lanes, 0f);
                    int i = 0;
                    for (; i < bound; i += step) {
                        for (int l = 0; l < step; l++) {
                            lanes[l] += p[i + l];
                        }
                    }
                    float s = 0f;
                    for (int l = 0; l < step; l++) {
                        s += lanes[l];
                    }
                    for (; i < plane; i++) {
                        s += p[i];
                    }
                    sums[c] += s;
                }
            }
        }

        /** The kernel's warm-up thread and its flag. */
        static final class Warm {
            static final AtomicBoolean READY = new AtomicBoolean();

            static {
                VectorWarmUp.start("channel-sums-warm-up", new WarmUpCalls(), READY,
                    LoggerFactory.getLogger(ChannelSums.class), "The first convolution's bias gradient",
                    "the scalar loop", SPECIES.length());
            }

            private Warm() {
            }

            static void start() {
                // the static initialiser did the work
            }
        }

        /**
         * The warm-up's calls: the kernel on two images of two channels, once on planes of whole vectors (LeNet's
         * 24 x 24) and once on planes with floats left over, so that C2 compiles every loop a training step takes (a
         * loop the warm-up never ran is compiled as a trap, which the first training call would spring: round 33);
         * on the confirming length also the scalar loop, NaN where their sums differ in any bit.
         */
        private static final class WarmUpCalls implements DoubleUnaryOperator {
            private static final int IMAGES = 2;
            private static final int CHANNELS = 2;

            @Override
            public double applyAsDouble(double length) {
                int whole = SPECIES.length() * Math.max(1, (int) length / (SPECIES.length() * IMAGES * CHANNELS));
                ByteBuffer a = values(whole);
                ByteBuffer b = values(whole + 5);
                float[] sums = new float[CHANNELS];
                long t0 = System.nanoTime();
                for (int k = 0; k < VectorWarmUp.CALLS; k++) {
                    planes(a, 0, IMAGES, CHANNELS, whole, sums);
                    planes(b, 0, IMAGES, CHANNELS, whole + 5, sums);
                }
                double nanosPerFloat =
                    (System.nanoTime() - t0) / ((double) VectorWarmUp.CALLS * (a.capacity() + b.capacity()) / 4);
                if ((int) length == VectorWarmUp.CONFIRM_FLOATS) {
                    for (int plane : new int[] {whole, whole + 5}) {
                        ByteBuffer v = plane == whole ? a : b;
                        float[] kernel = new float[CHANNELS];
                        float[] inOrder = new float[CHANNELS];
                        planes(v, 0, IMAGES, CHANNELS, plane, kernel);
                        planesInOrder(v, 0, IMAGES, CHANNELS, plane, inOrder);
                        for (int c = 0; c < CHANNELS; c++) {
                            if (Float.floatToRawIntBits(inOrder[c]) != Float.floatToRawIntBits(kernel[c])) {
                                return Double.NaN;
                            }
                        }
                    }
                }
                return nanosPerFloat;
            }

            /** Planes of its own: magnitudes far apart, so that a sum in another order rounds differently. */
            private static ByteBuffer values(int plane) {
                int n = IMAGES * CHANNELS * plane;
                ByteBuffer values = ByteBuffer.allocateDirect(4 * n).order(ORDER);
                java.util.Random r = new java.util.Random(plane);
                for (int i = 0; i < n; i++) {
                    values.putFloat(4 * i, (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3)));
                }
                return values;
            }
        }
    }
}
