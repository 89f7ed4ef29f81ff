package dev.sparkmnist.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Classical momentum's step ({@link ClassicalMomentum}) written with the JDK's Vector API: the same float operations
 * in the same order as the ND4J operations its updater otherwise runs one after another, each a pass over the
 * parameters' length ({@code g = g / batch}, {@code v = v * momentum}, {@code v = v + g}, {@code g = v},
 * {@code g = g * lr}, and the optimiser's {@code p = p - g}), here in one pass, 16 floats at a time on AVX-512. Each
 * lane rounds each operation as ND4J's loops do (Java fuses no multiply into an add), so the results are the same
 * floats ({@code ClassicalMomentumTest}).
 *
 * <p>Only {@link ClassicalMomentum}'s kernel holder loads this class, and only in a JVM started with
 * {@code --add-modules=jdk.incubator.vector}; without that module the ND4J operations run.
 */
final class MomentumKernel {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private MomentumKernel() {
    }

    /** Lanes of one vector on this CPU (16 with AVX-512, 8 with AVX2). */
    static int lanes() {
        return SPECIES.length();
    }

    /**
     * One step over {@code n} floats: the gradient at float index {@code g0} of {@code g}, divided by {@code divisor}
     * as it is loaded (1 leaves every float as it is), is added to the velocity at {@code v0} of {@code v} after the
     * velocity is multiplied by {@code momentum}; the gradient becomes the update, the velocity times {@code lr}.
     * Buffers in native order.
     */
    static void apply(ByteBuffer g, int g0, ByteBuffer v, int v0, int n, float momentum, float lr, float divisor) {
        int step = SPECIES.length();
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += step) {
            int gi = 4 * (g0 + i);
            int vi = 4 * (v0 + i);
            FloatVector gv = FloatVector.fromByteBuffer(SPECIES, g, gi, ORDER).div(divisor);
            FloatVector vv = FloatVector.fromByteBuffer(SPECIES, v, vi, ORDER).mul(momentum).add(gv);
            vv.intoByteBuffer(v, vi, ORDER);
            vv.mul(lr).intoByteBuffer(g, gi, ORDER);
        }
        for (; i < n; i++) {
            int gi = 4 * (g0 + i);
            int vi = 4 * (v0 + i);
            float vk = v.getFloat(vi) * momentum + g.getFloat(gi) / divisor;
            v.putFloat(vi, vk);
            g.putFloat(gi, vk * lr);
        }
    }

    /**
     * {@link #apply}, and then the optimiser's step in the same pass: the parameters at float index {@code p0} of
     * {@code p} less the update ({@code p = p - u}, the subtraction DL4J's {@code StochasticGradientDescent} makes in
     * an ND4J operation of its own). The update is still written to the gradient, as DL4J leaves it. A method of its
     * own, not a flag: C2 compiles each loop for what it does.
     */
    static void applyAndStep(ByteBuffer g, int g0, ByteBuffer v, int v0, ByteBuffer p, int p0, int n, float momentum,
                             float lr, float divisor) {
        int step = SPECIES.length();
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += step) {
            int gi = 4 * (g0 + i);
            int vi = 4 * (v0 + i);
            int pi = 4 * (p0 + i);
            FloatVector gv = FloatVector.fromByteBuffer(SPECIES, g, gi, ORDER).div(divisor);
            FloatVector vv = FloatVector.fromByteBuffer(SPECIES, v, vi, ORDER).mul(momentum).add(gv);
            vv.intoByteBuffer(v, vi, ORDER);
            FloatVector u = vv.mul(lr);
            u.intoByteBuffer(g, gi, ORDER);
            FloatVector.fromByteBuffer(SPECIES, p, pi, ORDER).sub(u).intoByteBuffer(p, pi, ORDER);
        }
        for (; i < n; i++) {
            int gi = 4 * (g0 + i);
            int vi = 4 * (v0 + i);
            int pi = 4 * (p0 + i);
            float vk = v.getFloat(vi) * momentum + g.getFloat(gi) / divisor;
            v.putFloat(vi, vk);
            float u = vk * lr;
            g.putFloat(gi, u);
            p.putFloat(pi, p.getFloat(pi) - u);
        }
    }
}
