package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Random;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;

/**
 * Classical momentum computes PyTorch's steps, and survives DL4J's configuration JSON (Spark ships it); its vector
 * kernel computes the ND4J operations' floats. The tests run in a JVM started with
 * {@code --add-modules=jdk.incubator.vector} (the build's argLine), so the kernel is there.
 */
class ClassicalMomentumTest {
    @Test
    void kernelComputesTheNd4jOperationsToTheBit() throws InterruptedException {
        waitUntilCompiled();
        Random r = new Random(11);
        for (int n : new int[] {1, 15, 16, 17, 1003, 44_426}) { // lanes and tails; LeNet-5's parameters
            for (int divisor : new int[] {1, 64}) {
                for (boolean step : new boolean[] {false, true}) {
                    for (double lr : new double[] {0.01, 0.03 * 0.25}) {
                        String at = " (" + n + " floats, divided by " + divisor + ", lr " + lr
                            + (step ? ", stepped)" : ")");
                        // views at odd offsets inside larger buffers, as DL4J's gradient, state and parameter views
                        INDArray g = view(spread(r, n + 5), 5, n);
                        INDArray v = view(spread(r, n + 8), 3, n);
                        INDArray p = view(spread(r, n + 2), 2, n);
                        INDArray gOp = g.dup().divi(divisor); // DL4J's division, the updater's ops, SGD's step
                        INDArray vOp = v.dup();
                        vOp.muli(0.9).addi(gOp);
                        gOp.assign(vOp).muli(lr);
                        INDArray pOp = step ? p.dup().subi(gOp) : p.dup();
                        assertTrue(SimdAdam.contiguous(g) && SimdAdam.contiguous(v) && SimdAdam.contiguous(p));
                        if (step) {
                            MomentumKernel.applyAndStep(bytes(g), (int) g.offset(), bytes(v), (int) v.offset(),
                                bytes(p), (int) p.offset(), n, 0.9f, (float) lr, divisor);
                        } else {
                            MomentumKernel.apply(bytes(g), (int) g.offset(), bytes(v), (int) v.offset(), n, 0.9f,
                                (float) lr, divisor);
                        }
                        assertArrayEquals(gOp.toFloatVector(), g.toFloatVector(), "update" + at);
                        assertArrayEquals(vOp.toFloatVector(), v.toFloatVector(), "velocity" + at);
                        assertArrayEquals(pOp.toFloatVector(), p.toFloatVector(), "parameters" + at);
                    }
                }
            }
        }
    }

    @Test
    void updaterRunsTheKernelOnFloatViewsAndNd4jOtherwise() throws InterruptedException {
        waitUntilCompiled();
        Random r = new Random(12);
        ClassicalMomentum config = new ClassicalMomentum(0.01, null, 0.9);
        INDArray state = spread(r, 1003);
        ClassicalMomentum.Updater kernel = (ClassicalMomentum.Updater) config.instantiate(state.dup(), false);
        ClassicalMomentum.Updater ops = (ClassicalMomentum.Updater) config.instantiate(state.dup(), false);
        ops.nd4jOnly = true;
        long before = ClassicalMomentum.Updater.KERNEL_STEPS.get();
        for (int iteration = 0; iteration < 5; iteration++) {
            INDArray g = spread(r, 1003);
            INDArray gOps = g.dup();
            kernel.applyUpdater(g, iteration, 0);
            ops.applyUpdater(gOps, iteration, 0);
            assertArrayEquals(gOps.toFloatVector(), g.toFloatVector(), "update at iteration " + iteration);
        }
        assertEquals(5, ClassicalMomentum.Updater.KERNEL_STEPS.get() - before, "the kernel ran every step");
        assertArrayEquals(ops.getState().get(ClassicalMomentum.V_STATE).toFloatVector(),
            kernel.getState().get(ClassicalMomentum.V_STATE).toFloatVector(), "velocity");
    }

    /** Starts the kernel's warm-up and waits until it runs compiled. */
    static void waitUntilCompiled() throws InterruptedException {
        ClassicalMomentum.warmUp();
        long deadline = System.nanoTime() + 90_000_000_000L;
        while (!ClassicalMomentum.vectorised() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(ClassicalMomentum.vectorised(), "the kernel is compiled within 90 s in a JVM with --add-modules="
            + SimdAdam.MODULE + (ClassicalMomentum.Kernel.ENABLED ? "" : ": " + ClassicalMomentum.Kernel.WHY_NOT));
    }

    /** Floats whose magnitudes run from 1e-6 to 1e2, both signs: where another order of operations rounds otherwise. */
    private static INDArray spread(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * Math.pow(10, -6 + 8 * r.nextDouble()));
        }
        return Nd4j.create(x, new long[] {1, n}, 'c');
    }

    private static INDArray view(INDArray row, int from, int n) {
        return row.get(NDArrayIndex.point(0), NDArrayIndex.interval(from, from + n)).reshape(1, n);
    }

    private static ByteBuffer bytes(INDArray a) {
        return HostArrays.bytes(a);
    }

    @Test
    void stepsArePyTorchsHeavyBall() {
        ClassicalMomentum config = new ClassicalMomentum(0.1, null, 0.9);
        INDArray state = Nd4j.zeros(DataType.DOUBLE, 1, 2);
        GradientUpdater<?> updater = config.instantiate(state, true);
        // PyTorch SGD(lr=0.1, momentum=0.9): v1 = g1, step1 = 0.1 * v1; v2 = 0.9 * v1 + g2, step2 = 0.1 * v2
        INDArray g1 = Nd4j.createFromArray(new double[][] {{1.0, -2.0}});
        updater.applyUpdater(g1, 0, 0);
        assertArrayEquals(new double[] {0.1, -0.2}, g1.toDoubleVector(), 1e-12);
        INDArray g2 = Nd4j.createFromArray(new double[][] {{0.5, 0.5}});
        updater.applyUpdater(g2, 1, 0);
        assertArrayEquals(new double[] {0.1 * (0.9 * 1.0 + 0.5), 0.1 * (0.9 * -2.0 + 0.5)}, g2.toDoubleVector(),
            1e-12);
        assertArrayEquals(new double[] {1.4, -1.3}, state.toDoubleVector(), 1e-12, "v lives in the state view");
    }

    @Test
    void nesterovDiffersFromClassical() {
        INDArray g = Nd4j.createFromArray(new double[][] {{1.0}});
        GradientUpdater<?> nesterov = new org.nd4j.linalg.learning.config.Nesterovs(0.1, 0.9)
            .instantiate(Nd4j.zeros(DataType.DOUBLE, 1, 1), true);
        nesterov.applyUpdater(g, 0, 0);
        // Nesterov's first step is lr * (1 + momentum) * g, the classical one lr * g
        assertEquals(0.19, Math.abs(g.getDouble(0)), 1e-12);
    }

    @Test
    void configurationJsonRoundTripsAndTrains() {
        ModelOptions o = ModelOptions.mlp().withOptimizer(Optimizer.MOMENTUM, 0.01)
            .withSchedule(new LrSchedule(LrSchedule.Kind.STEP, 0.5, 1, null));
        MultiLayerConfiguration conf = Models.configuration(o);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        ClassicalMomentum u = assertInstanceOf(ClassicalMomentum.class,
            back.getConf(0).getLayer().getUpdaterByParam("W"));
        assertEquals(0.005, u.getLearningRate(0, 1), 1e-12, "the schedule came through");
        MultiLayerNetwork net = new MultiLayerNetwork(back);
        net.init();
        assertEquals(net.numParams(), net.getUpdater().getStateViewArray().length(), "one v per parameter");
        double[] loss = Memorise.lossBeforeAndAfter(net, 8, 20);
        org.junit.jupiter.api.Assertions.assertTrue(loss[1] < loss[0], "loss falls: " + loss[0] + " -> " + loss[1]);
    }
}
