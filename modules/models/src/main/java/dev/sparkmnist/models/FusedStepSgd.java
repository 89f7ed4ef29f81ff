package dev.sparkmnist.models;

import java.lang.reflect.Field;
import java.util.Collection;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.OptimizationAlgorithm;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.ConvexOptimizer;
import org.deeplearning4j.optimize.api.StepFunction;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.optimize.Solver;
import org.deeplearning4j.optimize.solvers.StochasticGradientDescent;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's {@link StochasticGradientDescent} whose step, {@code params -= update}, is taken in the updater kernel's pass
 * over the update where the network trains with a {@link FusedMinibatchUpdater} ({@link SimdAdamKernel#applyAndStep},
 * {@link MomentumKernel#applyAndStep}): DL4J
 * subtracts in an ND4J op of its own after the updater (2.1-2.7 % of an MLP step at batch 64: BENCHMARKS.md, rounds
 * 23 and 24). The same floats either way ({@code FusedMinibatchUpdaterTest}). Everything else is DL4J's optimiser:
 * where the updater did not take the step (another updater, L2, an external gradient, a gradients accumulator) its step
 * function subtracts as DL4J's does.
 *
 * <p>DL4J picks its optimiser from the configuration and chooses the step function only among its own, so
 * {@link #install} puts this one into the network's solver by reflection (the solver's optimiser is private, the
 * network's solver protected); a network whose solver is built again (DL4J's {@code clear()}) trains with DL4J's.
 */
final class FusedStepSgd extends StochasticGradientDescent {
    private static final long serialVersionUID = 1L;

    private FusedStepSgd(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, Model model,
                         Step step) {
        super(conf, step, listeners, model);
        step.optimizer = this;
    }

    /**
     * Makes {@code net}'s solver train with this optimiser, on the updater it has (set it first), where its
     * configuration trains with plain SGD and DL4J's default step; false, changing nothing, otherwise or where
     * DL4J's fields are not what this class knows (another DL4J version).
     */
    static boolean install(MultiLayerNetwork net) {
        NeuralNetConfiguration conf = net.conf();
        if (conf.getOptimizationAlgo() != OptimizationAlgorithm.STOCHASTIC_GRADIENT_DESCENT
            || conf.getStepFunction() != null) {
            return false;
        }
        try {
            Field solverField = MultiLayerNetwork.class.getDeclaredField("solver");
            solverField.setAccessible(true);
            Solver solver = (Solver) solverField.get(net);
            if (solver == null) {
                return false; // setUpdater builds it: call install after
            }
            Field optimizerField = Solver.class.getDeclaredField("optimizer");
            optimizerField.setAccessible(true);
            ConvexOptimizer current = solver.getOptimizer();
            if (current instanceof FusedStepSgd) {
                return true;
            }
            if (current.getClass() != StochasticGradientDescent.class || current.getGradientsAccumulator() != null) {
                return false;
            }
            FusedStepSgd fused = new FusedStepSgd(conf, net.getListeners(), net, new Step());
            fused.setUpdater(current.getUpdater());
            optimizerField.set(solver, fused);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public void updateGradientAccordingToParams(Gradient gradient, Model model, int batchSize,
                                                LayerWorkspaceMgr workspaceMgr) {
        if (accumulator == null && updater instanceof FusedMinibatchUpdater fused) {
            fused.stepParametersInNextUpdate();
        }
        super.updateGradientAccordingToParams(gradient, model, batchSize, workspaceMgr);
    }

    /** DL4J's {@code NegativeGradientStepFunction} where the update has not been taken from the parameters yet. */
    private static final class Step implements StepFunction {
        private static final long serialVersionUID = 1L;
        private FusedStepSgd optimizer;

        @Override
        public void step(INDArray x, INDArray line, double step) {
            step(x, line);
        }

        @Override
        public void step(INDArray x, INDArray line) {
            if (optimizer.updater instanceof FusedMinibatchUpdater fused && fused.tookStep()) {
                return; // the updater's pass took it
            }
            x.subi(line);
        }

        @Override
        public void step() {
            // as DL4J's NegativeGradientStepFunction
        }
    }
}
