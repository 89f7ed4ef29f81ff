package dev.sparkmnist.models;

import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * DL4J's {@link MultiLayerUpdater} for a network whose parameters all train with an updater that has a vector kernel
 * ({@link FusingUpdater}: {@link SimdAdam}, {@link ClassicalMomentum}), except that the division of the gradient by
 * the minibatch size is left to that kernel, which divides each float as it loads it: one pass over the gradient a
 * step instead of two (ND4J's division was 2.4 % of an MLP step at 64 and Adam's kernel 11.6 %: BENCHMARKS.md, round
 * 23). The kernel divides by the same float as ND4J's op, so the results are the same floats
 * ({@code FusedMinibatchUpdaterTest}).
 *
 * <p>It hands the division over only where nothing comes between DL4J's division and the updater: every parameter
 * is divided by the minibatch size (no batch normalisation statistics), has no L1, L2 or weight decay, and its layer
 * no gradient normalisation or clipping; otherwise, and for an external gradient, DL4J divides as always. Under a
 * {@link FusedStepSgd} optimiser the same kernel pass also takes the update from the parameters (round 24). The
 * network's own configuration is unchanged: a saved model loads with DL4J's updater.
 */
public final class FusedMinibatchUpdater extends MultiLayerUpdater {
    private static final long serialVersionUID = 1L;
    /** Whether the division can be handed to the kernel: decided at the first step (the blocks are built by then). */
    private Boolean fused;
    /** Whether the next {@link #update} is to take the update from the parameters too ({@link FusedStepSgd}). */
    private transient boolean stepNext;
    /** Whether the last {@link #update} took the update from the parameters, every block's. */
    private transient boolean stepped;
    /** Each block's parameters: views of {@link #blockParamsOf}, the network's parameter array they were cut from. */
    private transient INDArray[] blockParams;
    private transient INDArray blockParamsOf;

    /**
     * @param network the network, its layers already those it trains with ({@link Models#forTraining})
     * @param updaterState the updater state to use (not copied), or null for a new, initialised one
     */
    public FusedMinibatchUpdater(MultiLayerNetwork network, INDArray updaterState) {
        super(network, updaterState);
    }

    @Override
    protected void divideByMinibatch(boolean isExternal, Gradient gradient, int batchSize) {
        if (isExternal || !fused()) {
            super.divideByMinibatch(isExternal, gradient, batchSize);
            return;
        }
        INDArray[] params = stepNext ? blockParams() : null;
        for (int b = 0; b < updaterBlocks.size(); b++) {
            FusingUpdater.Next next = ((FusingUpdater) updaterBlocks.get(b).getGradientUpdater()).next();
            next.divideBy(batchSize);
            if (params != null) {
                next.stepParams(params[b]);
            }
        }
    }

    /**
     * DL4J's update; where {@link #stepParametersInNextUpdate} asked for it and the division was handed to the kernel
     * (the same conditions: nothing between the updater and the step reads or changes the gradient or the
     * parameters), the parameters also take the update, block by block, in the kernel's pass: a block the kernel did
     * not step (not compiled yet, an array it cannot read) by ND4J's subtraction of that block's update, as the
     * optimiser would have. {@link #tookStep} then says the optimiser's own step is done.
     */
    @Override
    public synchronized void update(Gradient gradient, int iteration, int epoch, int batchSize,
                                    LayerWorkspaceMgr workspaceMgr) {
        boolean asked = stepNext;
        stepped = false;
        try {
            super.update(gradient, iteration, epoch, batchSize, workspaceMgr);
        } finally {
            stepNext = false;
        }
        if (!asked || gradient.gradient() != getFlattenedGradientsView() || !isMiniBatch() || !fused()) {
            return; // divideByMinibatch armed no block: the optimiser steps
        }
        INDArray[] params = blockParams();
        for (int b = 0; b < updaterBlocks.size(); b++) {
            UpdaterBlock block = updaterBlocks.get(b);
            FusingUpdater.Next next = ((FusingUpdater) block.getGradientUpdater()).next();
            next.stepParams(null); // a block the update skipped keeps nothing armed
            if (!next.tookStep()) {
                params[b].subi(block.getGradientView());
            }
        }
        stepped = true;
    }

    /** The next {@link #update} takes the update from the parameters too, where it can ({@link FusedStepSgd}). */
    void stepParametersInNextUpdate() {
        stepNext = true;
    }

    /**
     * Whether the last {@link #update} took the update from the parameters (the optimiser's step is done); asking
     * clears it.
     */
    boolean tookStep() {
        boolean s = stepped;
        stepped = false;
        return s;
    }

    /** Each block's slice of the network's parameters, as its gradient view is of the gradients. */
    private INDArray[] blockParams() {
        INDArray all = getParams();
        if (blockParams == null || blockParamsOf != all || blockParams.length != updaterBlocks.size()) {
            INDArray[] views = new INDArray[updaterBlocks.size()];
            for (int b = 0; b < views.length; b++) {
                UpdaterBlock block = updaterBlocks.get(b);
                views[b] = all.get(NDArrayIndex.interval(0, 0, true),
                    NDArrayIndex.interval(block.getParamOffsetStart(), block.getParamOffsetEnd()));
            }
            blockParams = views;
            blockParamsOf = all;
        }
        return blockParams;
    }

    /**
     * Whether this network's steps hand the division to the updater's kernel (false until the first step has
     * decided).
     */
    public boolean handsDivisionToKernel() {
        return Boolean.TRUE.equals(fused);
    }

    private boolean fused() {
        if (fused == null) {
            fused = eligible();
        }
        return fused;
    }

    private boolean eligible() {
        for (UpdaterBlock block : updaterBlocks) {
            if (!(block.getGradientUpdater() instanceof FusingUpdater)) {
                return false;
            }
            for (UpdaterBlock.ParamState p : block.getLayersAndVariablesInBlock()) {
                Trainable layer = p.getLayer();
                GradientNormalization normalization = layer.getConfig().getGradientNormalization();
                java.util.List<?> regularization = layer.getConfig().getRegularizationByParam(p.getParamName());
                if (!layer.updaterDivideByMinibatch(p.getParamName())
                    || (regularization != null && !regularization.isEmpty())
                    || (normalization != null && normalization != GradientNormalization.None)) {
                    return false;
                }
            }
        }
        return !updaterBlocks.isEmpty();
    }
}
