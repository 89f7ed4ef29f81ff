package dev.sparkmnist.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resident engine's end-of-round correction as Java Vector API code over the network's own memory: every float
 * {@code x} of a parameter or updater-state vector becomes {@code mean[i] + (x - sent[i])}, written to the vector, to
 * {@code sent} and to {@code mean} (the training module's {@code NetState.blend} defines it and keeps the scalar loop
 * for everything else). 16 floats a step on AVX-512 straight on the off-heap buffer, against C2's scalar loop over
 * 2,048-float copies of it: 0.25 against 1.1 ns a float, compiled (BENCHMARKS.md, round 27). The same correctly rounded
 * subtraction and addition in each lane, so the same floats. Before C2 compiles it the vector code runs far slower
 * than the scalar loop, so {@link #blend} declines until {@link VectorWarmUp}'s thread, started by {@link #start},
 * has seen it run compiled; {@code -D}{@value #PROPERTY}{@code =false} keeps the scalar loop, as does a JVM without
 * the Vector API's module ({@link SimdAdam#MODULE}) or the CPU backend. Only {@link Lanes} loads the vector classes.
 */
public final class ExchangeBlend {
    private static final Logger LOG = LoggerFactory.getLogger(ExchangeBlend.class);
    /** {@code -Dsparkmnist.vectorBlend=false} keeps the scalar loop. */
    public static final String PROPERTY = "sparkmnist.vectorBlend";

    private ExchangeBlend() {
    }

    /** Starts the kernel's warm-up where it may run (once per JVM; later calls do nothing). */
    public static void start() {
        Warm.start();
    }

    /** Whether {@link #blend} runs the vector kernel now (the module is there and the kernel is compiled). */
    public static boolean ready() {
        return Warm.ENABLED && Warm.READY.get();
    }

    /**
     * {@code x = mean[at + i] + (x - sent[at + i])} for each float {@code x = array[i]}, written back to
     * {@code array}, {@code sent[at + i]} and {@code mean[at + i]}: true when done; false, touching nothing, where the
     * kernel does not run (not {@link #ready}, or not a contiguous float vector in host memory), for the caller's
     * scalar loop.
     */
    public static boolean blend(INDArray array, int at, float[] mean, float[] sent) {
        long n = array.length();
        if (!ready() || !HostArrays.contiguousVector(array) || !HostArrays.byteIndexed(array) || at < 0
            || at + n > mean.length || at + n > sent.length) {
            return false;
        }
        Lanes.blend(HostArrays.bytes(array), (int) array.offset(), (int) n, mean, sent, at);
        return true;
    }

    /** Whether the kernel may run here, and its warm-up. */
    static final class Warm {
        static final String WHY_NOT = whyNot(System.getProperty(PROPERTY));
        static final boolean ENABLED = WHY_NOT == null;
        static final AtomicBoolean READY = new AtomicBoolean();

        static {
            if (ENABLED) {
                VectorWarmUp.start("exchange-blend-warm-up", new WarmUpCalls(), READY, LOG,
                    "The exchange's blend", "the scalar loop", Lanes.lanes());
            } else {
                LOG.debug("the exchange's blend stays a scalar loop in this JVM: {}", WHY_NOT);
            }
        }

        private Warm() {
        }

        static void start() {
            // the static initialiser did the work
        }

        /** Why the kernel may not run in this JVM with {@code value} as the property, or null where it may. */
        static String whyNot(String value) {
            return VectorWarmUp.whyNot(PROPERTY, value, LOG, "the blend stays vectorised where it can");
        }
    }

    /** The warm-up's calls: the kernel on arrays of its own, which stay small (each call moves them by 0). */
    private static final class WarmUpCalls implements java.util.function.DoubleUnaryOperator {
        @Override
        public double applyAsDouble(double length) {
            int n = (int) length;
            ByteBuffer values = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder());
            float[] mean = new float[n];
            float[] sent = new float[n];
            for (int i = 0; i < n; i++) {
                mean[i] = sent[i] = 1e-3f * ((i % 7) - 3);
                values.putFloat(4 * i, mean[i]);
            }
            long t0 = System.nanoTime();
            for (int k = 0; k < VectorWarmUp.CALLS; k++) {
                Lanes.blend(values, 0, n, mean, sent, 0);
            }
            return (System.nanoTime() - t0) / ((double) VectorWarmUp.CALLS * n);
        }
    }

    /** The vector code, in its own class so that nothing loads the Vector API where the JVM lacks its module. */
    static final class Lanes {
        private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
        private static final ByteOrder ORDER = ByteOrder.nativeOrder();

        private Lanes() {
        }

        static int lanes() {
            return SPECIES.length();
        }

        /**
         * The blend of {@code n} floats from float index {@code x0} of {@code buffer} (native order) with
         * {@code mean} and {@code sent} from {@code at}.
         */
        static void blend(ByteBuffer buffer, int x0, int n, float[] mean, float[] sent, int at) {
            int step = SPECIES.length();
            int bound = SPECIES.loopBound(n);
            int i = 0;
            for (; i < bound; i += step) {
                FloatVector x = FloatVector.fromArray(SPECIES, mean, at + i)
                    .add(FloatVector.fromByteBuffer(SPECIES, buffer, 4 * (x0 + i), ORDER)
                        .sub(FloatVector.fromArray(SPECIES, sent, at + i)));
                x.intoByteBuffer(buffer, 4 * (x0 + i), ORDER);
                x.intoArray(sent, at + i);
                x.intoArray(mean, at + i);
            }
            for (; i < n; i++) {
                float x = mean[at + i] + (buffer.getFloat(4 * (x0 + i)) - sent[at + i]);
                buffer.putFloat(4 * (x0 + i), x);
                sent[at + i] = x;
                mean[at + i] = x;
            }
        }
    }
}
