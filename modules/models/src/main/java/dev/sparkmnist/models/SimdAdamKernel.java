package dev.sparkmnist.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Adam's element-wise update written with the JDK's Vector API ({@code jdk.incubator.vector}), the same arithmetic as
 * ND4J's {@code adam_updater} op in the same order: {@code m = fma(beta1, m, g * (1 - beta1))},
 * {@code v = fma(beta2, v, g * g * (1 - beta2))}, {@code g = m * stepSize / (sqrt(v) + epsilon)}. ND4J's AVX2 build
 * compiles the first two with fused multiply-adds and its loop stays scalar (its arrays may alias); here each lane
 * computes the same correctly rounded operations, 16 floats at a time on AVX-512, so the results are the same floats.
 *
 * <p>Only {@link SimdAdam} loads this class, and only when the JVM runs with
 * {@code --add-modules=jdk.incubator.vector}; without that module this class cannot load and Adam stays ND4J's op.
 */
final class SimdAdamKernel {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private SimdAdamKernel() {
    }

    /** Lanes of one vector on this CPU (16 with AVX-512, 8 with AVX2). */
    static int lanes() {
        return SPECIES.length();
    }

    /**
     * One Adam step over {@code n} floats: the gradient at float index {@code g0} of {@code g}, divided by
     * {@code divisor} as it is loaded (the minibatch size, whose division DL4J's updater would have made in a pass of
     * its own; 1 leaves every float as it is), becomes the update, the moments at {@code m0} of {@code m} and
     * {@code v0} of {@code v} are updated in place. Buffers in native order.
     */
    static void apply(ByteBuffer g, int g0, ByteBuffer m, int m0, ByteBuffer v, int v0, int n, float beta1,
                      float beta2, float stepSize, float epsilon, float divisor) {
        float c1 = 1 - beta1;
        float c2 = 1 - beta2;
        FloatVector b1 = FloatVector.broadcast(SPECIES, beta1);
        FloatVector b2 = FloatVector.broadcast(SPECIES, beta2);
        int step = SPECIES.length();
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += step) {
            long gi = 4L * (g0 + i);
            long mi = 4L * (m0 + i);
            long vi = 4L * (v0 + i);
            FloatVector gv = FloatVector.fromByteBuffer(SPECIES, g, (int) gi, ORDER).div(divisor);
            FloatVector mv = FloatVector.fromByteBuffer(SPECIES, m, (int) mi, ORDER).fma(b1, gv.mul(c1));
            FloatVector vv = FloatVector.fromByteBuffer(SPECIES, v, (int) vi, ORDER).fma(b2, gv.mul(gv).mul(c2));
            mv.intoByteBuffer(m, (int) mi, ORDER);
            vv.intoByteBuffer(v, (int) vi, ORDER);
            mv.mul(stepSize).div(vv.sqrt().add(epsilon)).intoByteBuffer(g, (int) gi, ORDER);
        }
        for (; i < n; i++) {
            int gi = 4 * (g0 + i);
            int mi = 4 * (m0 + i);
            int vi = 4 * (v0 + i);
            float grad = g.getFloat(gi) / divisor;
            float mk = Math.fma(beta1, m.getFloat(mi), grad * c1);
            float vk = Math.fma(beta2, v.getFloat(vi), grad * grad * c2);
            m.putFloat(mi, mk);
            v.putFloat(vi, vk);
            g.putFloat(gi, mk * stepSize / ((float) Math.sqrt(vk) + epsilon));
        }
    }

    /**
     * {@link #apply}, and then the optimiser's step in the same pass: the parameters at float index {@code p0} of
     * {@code p} less the update ({@code p = p - u}, the subtraction DL4J's {@code StochasticGradientDescent} makes in
     * an ND4J op of its own after the updater: the same float). The update is still written to the gradient, as DL4J
     * leaves it. A method of its own, not a flag: C2 compiles each loop for what it does.
     */
    static void applyAndStep(ByteBuffer g, int g0, ByteBuffer m, int m0, ByteBuffer v, int v0, ByteBuffer p, int p0,
                             int n, float beta1, float beta2, float stepSize, float epsilon, float divisor) {
        float c1 = 1 - beta1;
        float c2 = 1 - beta2;
        FloatVector b1 = FloatVector.broadcast(SPECIES, beta1);
        FloatVector b2 = FloatVector.broadcast(SPECIES, beta2);
        int step = SPECIES.length();
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += step) {
            long gi = 4L * (g0 + i);
            long mi = 4L * (m0 + i);
            long vi = 4L * (v0 + i);
            long pi = 4L * (p0 + i);
            FloatVector gv = FloatVector.fromByteBuffer(SPECIES, g, (int) gi, ORDER).div(divisor);
            FloatVector mv = FloatVector.fromByteBuffer(SPECIES, m, (int) mi, ORDER).fma(b1, gv.mul(c1));
            FloatVector vv = FloatVector.fromByteBuffer(SPECIES, v, (int) vi, ORDER).fma(b2, gv.mul(gv).mul(c2));
            mv.intoByteBuffer(m, (int) mi, ORDER);
            vv.intoByteBuffer(v, (int) vi, ORDER);
            FloatVector u = mv.mul(stepSize).div(vv.sqrt().add(epsilon));
            u.intoByteBuffer(g, (int) gi, ORDER);
            FloatVector.fromByteBuffer(SPECIES, p, (int) pi, ORDER).sub(u).intoByteBuffer(p, (int) pi, ORDER);
        }
        for (; i < n; i++) {
            int gi = 4 * (g0 + i);
            int mi = 4 * (m0 + i);
            int vi = 4 * (v0 + i);
            int pi = 4 * (p0 + i);
            float grad = g.getFloat(gi) / divisor;
            float mk = Math.fma(beta1, m.getFloat(mi), grad * c1);
            float vk = Math.fma(beta2, v.getFloat(vi), grad * grad * c2);
            m.putFloat(mi, mk);
            v.putFloat(vi, vk);
            float u = mk * stepSize / ((float) Math.sqrt(vk) + epsilon);
            g.putFloat(gi, u);
            p.putFloat(pi, p.getFloat(pi) - u);
        }
    }
}
