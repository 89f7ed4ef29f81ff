package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * {@link SimdAdam} computes DL4J's Adam to the last bit. The tests run in a JVM started with
 * {@code --add-modules=jdk.incubator.vector} (the build's argLine), so the vector kernel is there and is what runs.
 */
class SimdAdamTest {
    /** Iterations whose step size Java's pow gets wrong in the last bit (glibc's powf is what libnd4j calls). */
    private static final int[] ITERATIONS = {0, 1, 7, 100, 684, 730, 872, 2358, 2957, 99_999};

    @Test
    void kernelComputesNd4jsAdamOpToTheBit() {
        int n = 1003; // not a multiple of the lanes: the scalar tail runs too
        Random r = new Random(3);
        for (int iteration : ITERATIONS) {
          for (int divisor : new int[] {1, 48}) { // 48: the minibatch division DL4J's updater leaves to the kernel
            // views at odd offsets inside larger buffers, as DL4J's gradient and state views are
            INDArray gBig = randn(r, 5 + n, 1e-2f);
            INDArray state = randn(r, 2 * n + 8, 1e-3f);
            INDArray g = gBig.get(NDArrayIndex.point(0), NDArrayIndex.interval(5, 5 + n)).reshape(1, n);
            INDArray m = state.get(NDArrayIndex.point(0), NDArrayIndex.interval(3, 3 + n)).reshape(1, n);
            INDArray v = state.get(NDArrayIndex.point(0), NDArrayIndex.interval(3 + n, 3 + 2 * n)).reshape(1, n);
            Nd4j.exec(new org.nd4j.linalg.api.ops.impl.transforms.same.Abs(v)); // a second moment is >= 0
            INDArray gOp = g.dup().divi(divisor); // DL4J's updater: the gradient divided, then Adam's op
            INDArray mOp = m.dup();
            INDArray vOp = v.dup();
            Nd4j.exec(new org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater(gOp, vOp, mOp, 1e-3, 0.9, 0.999, 1e-8,
                iteration));
            assertTrue(SimdAdam.contiguous(g) && SimdAdam.contiguous(m) && SimdAdam.contiguous(v));
            SimdAdamKernel.apply(bytes(g), (int) g.offset(), bytes(m), (int) m.offset(), bytes(v), (int) v.offset(),
                n, 0.9f, 0.999f, SimdAdam.stepSize(1e-3, 0.9, 0.999, 1e-8, iteration), 1e-8f, divisor);
            String at = " at iteration " + iteration + ", divided by " + divisor;
            assertBits(gOp, g, "update" + at);
            assertBits(mOp, m, "first moment" + at);
            assertBits(vOp, v, "second moment" + at);
          }
        }
    }

    @Test
    void stepSizeIsLibnd4jsFloatArithmetic() {
        assertTrue(SimdAdam.LibM.NATIVE, "glibc's powf is reachable on this machine kind");
        float b2t = SimdAdam.LibM.pow(0.999f, 1f);
        float b1t = SimdAdam.LibM.pow(0.9f, 1f);
        assertEquals((float) ((double) (1e-3f * (float) Math.sqrt((float) (1.0 - b2t))) / (1.0 - b1t)),
            SimdAdam.stepSize(1e-3, 0.9, 0.999, 1e-8, 0));
        assertEquals(1e-8f, SimdAdam.stepSize(0, 0.9, 0.999, 1e-8, 5), "a zero step size becomes epsilon, as in libnd4j");
    }

    /**
     * Two MLPs from the same seed, one with {@link SimdAdam} (the configuration {@link Models} builds) and one with
     * DL4J's Adam, trained on the same 40 minibatches: every parameter and every moment is the same float, and the
     * vector kernel ran for the first network's steps.
     */
    @Test
    void trainsExactlyAsDl4jsAdam() throws InterruptedException {
        waitUntilCompiled();
        ModelOptions o = ModelOptions.mlp();
        MultiLayerNetwork simd = Models.network(o);
        assertInstanceOf(SimdAdam.class, ((BaseLayer) simd.getLayer(0).conf().getLayer()).getIUpdater());
        MultiLayerConfiguration plainConf = Models.configuration(o);
        for (NeuralNetConfiguration layer : plainConf.getConfs()) {
            ((BaseLayer) layer.getLayer()).setIUpdater(new Adam(o.learningRate()));
        }
        MultiLayerNetwork plain = new MultiLayerNetwork(plainConf);
        plain.init();
        Models.forTraining(plain);
        assertArrayEquals(plain.params().toFloatVector(), simd.params().toFloatVector(), "same initial parameters");
        long before = SimdAdam.Updater.KERNEL_STEPS.get();
        for (int step = 0; step < 40; step++) {
            DataSet d = BlackBorderBatches.batch(16, step);
            simd.fit(d);
            plain.fit(d.copy());
        }
        assertEquals(40, SimdAdam.Updater.KERNEL_STEPS.get() - before, "every step of the SimdAdam network ran the kernel");
        assertTrue(((FusedMinibatchUpdater) simd.getUpdater()).handsDivisionToKernel(),
            "the kernel divided the gradients by the minibatch size");
        assertFalse(plain.getUpdater() instanceof FusedMinibatchUpdater, "DL4J's Adam keeps DL4J's updater");
        assertArrayEquals(plain.params().toFloatVector(), simd.params().toFloatVector(), "parameters");
        assertArrayEquals(plain.getUpdater().getStateViewArray().toFloatVector(),
            simd.getUpdater().getStateViewArray().toFloatVector(), "Adam's moments");
    }

    @Test
    void configurationSurvivesJsonAndClone() {
        SimdAdam scheduled = new SimdAdam(new ExponentialSchedule(ScheduleType.EPOCH, 1e-3, 0.9));
        SimdAdam copy = scheduled.clone();
        assertEquals(scheduled, copy);
        assertInstanceOf(SimdAdam.class, copy);
        assertEquals(scheduled.getLearningRate(3, 2), copy.getLearningRate(3, 2));
        MultiLayerConfiguration conf = Models.configuration(ModelOptions.mlp());
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        Object updater = ((BaseLayer) back.getConf(0).getLayer()).getIUpdater();
        assertInstanceOf(SimdAdam.class, updater);
        assertEquals(ModelOptions.mlp().learningRate(), ((SimdAdam) updater).getLearningRate(), 0.0);
    }

    static void waitUntilCompiled() throws InterruptedException {
        new SimdAdam(1e-3).instantiate(Nd4j.zeros(DataType.FLOAT, 1, 8), true)
            .applyUpdater(Nd4j.ones(DataType.FLOAT, 1, 4), 0, 0); // the first step starts the warm-up
        long deadline = System.nanoTime() + 90_000_000_000L;
        while (!SimdAdam.vectorised() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(SimdAdam.vectorised(), "the kernel is compiled within 90 s in a JVM with --add-modules="
            + SimdAdam.MODULE + (SimdAdam.Kernel.ENABLED ? "" : ": " + SimdAdam.Kernel.WHY_NOT));
    }

    private static INDArray randn(Random r, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian() * scale;
        }
        return Nd4j.create(x, new long[] {1, n}, 'c');
    }

    private static ByteBuffer bytes(INDArray a) {
        return a.data().asNio().order(ByteOrder.nativeOrder());
    }

    private static void assertBits(INDArray expected, INDArray actual, String what) {
        float[] e = expected.toFloatVector();
        float[] a = actual.toFloatVector();
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++) {
            assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]),
                what + ", element " + i + ": " + e[i] + " vs " + a[i]);
        }
    }
}
