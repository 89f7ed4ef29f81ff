package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.optimize.solvers.StochasticGradientDescent;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@link FusedMinibatchUpdater} and {@link FusedStepSgd} against DL4J's own {@link MultiLayerUpdater} and optimiser on
 * the same network and minibatches, both with {@link SimdAdam} or both with {@link ClassicalMomentum}: the same floats
 * whether the updater's kernel or DL4J divides the gradient by the minibatch size and takes the update from the
 * parameters. ({@code SimdAdamTest.trainsExactlyAsDl4jsAdam} compares the divided path with DL4J's Adam op; for
 * momentum the reference network's updaters run the ND4J operations, not the kernel.)
 */
class FusedMinibatchUpdaterTest {

    /** Trains {@code net} and a copy of it that keeps DL4J's updater on 30 minibatches of 24 and 7 examples. */
    private static MultiLayerNetwork[] trainBoth(ModelOptions o)
        throws InterruptedException, ReflectiveOperationException {
        boolean momentum = o.optimizer() == Optimizer.MOMENTUM;
        if (momentum) {
            ClassicalMomentumTest.waitUntilCompiled();
        } else {
            SimdAdamTest.waitUntilCompiled();
            assertTrue(SimdAdam.vectorised(), "the kernel is compiled: it, not ND4J's op, runs");
        }
        MultiLayerNetwork fused = Models.network(o);
        MultiLayerNetwork dl4j = Models.network(o);
        INDArray state = dl4j.getUpdater().getStateViewArray();
        dl4j.clear(); // DL4J's solver and optimiser again (Models.network installed FusedStepSgd)
        MultiLayerUpdater reference = new MultiLayerUpdater(dl4j, state);
        dl4j.setUpdater(reference);
        assertSame(StochasticGradientDescent.class, dl4j.getOptimizer().getClass(), "the reference is DL4J's");
        if (momentum) { // and its updaters run ND4J's operations
            java.lang.reflect.Field blocks =
                org.deeplearning4j.nn.updater.BaseMultiLayerUpdater.class.getDeclaredField("updaterBlocks");
            blocks.setAccessible(true);
            for (Object block : (java.util.List<?>) blocks.get(reference)) {
                ((ClassicalMomentum.Updater) ((org.deeplearning4j.nn.updater.UpdaterBlock) block)
                    .getGradientUpdater()).nd4jOnly = true;
            }
        }
        for (int step = 0; step < 30; step++) {
            DataSet d = BlackBorderBatches.batch(step % 3 == 2 ? 7 : 24, step); // 7: not a power of two
            fused.fit(d);
            dl4j.fit(d.copy());
        }
        return new MultiLayerNetwork[] {fused, dl4j};
    }

    @Test
    void kernelDividesAndStepsAsDl4jDoes() throws Exception {
        long stepped = SimdAdam.Updater.KERNEL_PARAMETER_STEPS.get();
        MultiLayerNetwork[] nets = trainBoth(ModelOptions.mlp());
        assertTrue(((FusedMinibatchUpdater) nets[0].getUpdater()).handsDivisionToKernel());
        assertInstanceOf(FusedStepSgd.class, nets[0].getOptimizer());
        assertTrue(SimdAdam.Updater.KERNEL_PARAMETER_STEPS.get() - stepped >= 30,
            "Adam's kernel took every step's update from the parameters");
        assertArrayEquals(nets[1].params().toFloatVector(), nets[0].params().toFloatVector(), "parameters");
        assertArrayEquals(nets[1].getUpdater().getStateViewArray().toFloatVector(),
            nets[0].getUpdater().getStateViewArray().toFloatVector(), "Adam's moments");
    }

    @Test
    void momentumsKernelDividesAndStepsAsDl4jsOperationsDo() throws Exception {
        for (ModelOptions o : new ModelOptions[] {ModelOptions.lenet(),
            ModelOptions.mlp().withOptimizer(Optimizer.MOMENTUM, 0.01)}) {
            long stepped = ClassicalMomentum.Updater.KERNEL_PARAMETER_STEPS.get();
            MultiLayerNetwork[] nets = trainBoth(o);
            assertTrue(((FusedMinibatchUpdater) nets[0].getUpdater()).handsDivisionToKernel());
            assertInstanceOf(FusedStepSgd.class, nets[0].getOptimizer());
            assertTrue(ClassicalMomentum.Updater.KERNEL_PARAMETER_STEPS.get() - stepped >= 30,
                "momentum's kernel took every step's update from the parameters");
            assertArrayEquals(nets[1].params().toFloatVector(), nets[0].params().toFloatVector(),
                "parameters, " + o.architecture());
            assertArrayEquals(nets[1].getUpdater().getStateViewArray().toFloatVector(),
                nets[0].getUpdater().getStateViewArray().toFloatVector(), "velocities, " + o.architecture());
        }
    }

    @Test
    void momentumWithL2RunsTheKernelBetweenDl4jsDivisionAndStep() throws Exception {
        long steps = ClassicalMomentum.Updater.KERNEL_STEPS.get();
        long stepped = ClassicalMomentum.Updater.KERNEL_PARAMETER_STEPS.get();
        MultiLayerNetwork[] nets = trainBoth(ModelOptions.lenet().withRegularisation(5e-4, 0));
        assertFalse(((FusedMinibatchUpdater) nets[0].getUpdater()).handsDivisionToKernel(), "DL4J divides");
        assertTrue(ClassicalMomentum.Updater.KERNEL_STEPS.get() - steps >= 30, "the kernel ran the updater");
        assertEquals(stepped, ClassicalMomentum.Updater.KERNEL_PARAMETER_STEPS.get(), "and the optimiser stepped");
        assertArrayEquals(nets[1].params().toFloatVector(), nets[0].params().toFloatVector(), "parameters");
    }

    @Test
    void withL2Dl4jDividesBeforeTheRegularisation() throws Exception {
        MultiLayerNetwork[] nets = trainBoth(ModelOptions.mlp().withRegularisation(1e-3, 0));
        assertFalse(((FusedMinibatchUpdater) nets[0].getUpdater()).handsDivisionToKernel(),
            "L2 comes between the division and Adam: DL4J divides");
        assertFalse(((FusedMinibatchUpdater) nets[0].getUpdater()).tookStep(), "and the optimiser steps");
        assertArrayEquals(nets[1].params().toFloatVector(), nets[0].params().toFloatVector(), "parameters");
    }

    @Test
    void aNetworkWithAnUpdaterAlreadyKeepsItsStateArray() {
        MultiLayerNetwork net = new MultiLayerNetwork(Models.configuration(ModelOptions.mlp()));
        net.init();
        INDArray state = net.getUpdater().getStateViewArray(); // DL4J's updater, as a restored checkpoint has
        state.assign(0.25);
        Models.forTraining(net);
        assertInstanceOf(FusedMinibatchUpdater.class, net.getUpdater());
        assertSame(state, net.getUpdater().getStateViewArray());
        assertEquals(0.25, net.getUpdater().getStateViewArray().getDouble(17), 0.0);
        Models.forTraining(net); // idempotent
        assertSame(state, net.getUpdater().getStateViewArray());
    }
}
