package dev.sparkmnist.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * A harness, not a test (BENCHMARKS.md, round 24): {@link Pool2x2Kernel}'s forward and backward passes against
 * {@link MaxPoolLayer}'s scalar loops (with the copies into and out of Java arrays they need) on LeNet-5's two
 * pooling shapes at batch 32, nanoseconds a window, six rounds of 2,000 calls each. With HotSpot's vectors held to
 * AVX2 it shows an AVX2 machine's code:
 * <pre>
 * mvn -B -o -q test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -pl modules/models
 * java --add-modules jdk.incubator.vector -XX:UseAVX=2 -cp \
 *   modules/models/target/classes:modules/models/target/test-classes:$(cat /tmp/cp.txt) \
 *   dev.sparkmnist.models.PoolKernelHarness
 * </pre>
 */
public final class PoolKernelHarness {
    private static final int BATCH = 32;
    private static final int CALLS = 2000;

    private PoolKernelHarness() {
    }

    public static void main(String[] args) {
        System.out.println("Pool2x2Kernel.FAST=" + Pool2x2Kernel.FAST + ", preferred species "
            + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED);
        for (int[] s : new int[][] {{6, 24, 24}, {16, 8, 8}}) {
            int planes = BATCH * s[0];
            int h = s[1];
            int w = s[2];
            int n = planes * h * w;
            int windows = n / 4;
            ByteBuffer x = direct(n);
            ByteBuffer out = direct(windows);
            ByteBuffer grad = direct(n);
            Random random = new Random(1);
            for (int i = 0; i < n; i++) {
                x.putFloat(4 * i, Math.max(0f, (float) random.nextGaussian())); // ReLU-like: ties at 0
            }
            for (int i = 0; i < windows; i++) {
                out.putFloat(4 * i, (float) random.nextGaussian());
            }
            int[] which = new int[windows];
            float[] in = new float[n];
            float[] pooled = new float[windows];
            float[] g = new float[n];
            float[] e = new float[windows];
            for (int round = 0; round < 6; round++) {
                long t0 = System.nanoTime();
                for (int k = 0; k < CALLS; k++) {
                    Pool2x2Kernel.forward(x, 0, planes, h, w, out, 0, which);
                }
                long t1 = System.nanoTime();
                for (int k = 0; k < CALLS; k++) {
                    Pool2x2Kernel.route(out, 0, which, planes, h, w, grad, 0);
                }
                long t2 = System.nanoTime();
                for (int k = 0; k < CALLS; k++) {
                    x.asFloatBuffer().get(0, in);
                    MaxPoolLayer.pool2x2Forward(in, pooled, which, planes, h, w);
                    out.asFloatBuffer().put(0, pooled);
                }
                long t3 = System.nanoTime();
                for (int k = 0; k < CALLS; k++) {
                    out.asFloatBuffer().get(0, e);
                    MaxPoolLayer.route2x2(e, g, which, planes, h, w);
                    grad.asFloatBuffer().put(0, g);
                }
                long t4 = System.nanoTime();
                double calls = (double) CALLS * windows;
                System.out.printf("%dx%dx%d: vector forward %.2f, route %.2f; scalar forward %.2f, route %.2f"
                    + " ns a window%n", s[0], h, w, (t1 - t0) / calls, (t2 - t1) / calls, (t3 - t2) / calls,
                    (t4 - t3) / calls);
            }
        }
    }

    private static ByteBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(4 * floats).order(ByteOrder.nativeOrder());
    }
}
