package dev.sparkmnist.models;

import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's {@link MultiLayerUpdater} for a network whose parameters all train with {@link SimdAdam}, except that the
 * division of the gradient by the minibatch size is left to Adam's vector kernel, which divides each float as it
 * loads it: one pass over the gradient a step instead of two (ND4J's division was 2.4 % of an MLP step at 64 and
 * Adam's kernel 11.6 %: BENCHMARKS.md, round 23). The kernel divides by the same float as ND4J's op, so the results
 * are the same floats ({@code FusedMinibatchUpdaterTest}).
 *
 * <p>It hands the division over only where nothing comes between DL4J's division and the updater: every parameter
 * is divided by the minibatch size (no batch normalisation statistics), has no L1, L2 or weight decay, and its layer
 * no gradient normalisation or clipping; otherwise, and for an external gradient, DL4J divides as always. The
 * network's own configuration is unchanged: a saved model loads with DL4J's updater.
 */
public final class FusedMinibatchUpdater extends MultiLayerUpdater {
    private static final long serialVersionUID = 1L;
    /** Whether the division can be handed to the kernel: decided at the first step (the blocks are built by then). */
    private Boolean fused;

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
        for (UpdaterBlock block : updaterBlocks) {
            ((SimdAdam.Updater) block.getGradientUpdater()).divideNextStepBy(batchSize);
        }
    }

    /** Whether this network's steps hand the division to Adam's kernel (false until the first step has decided). */
    public boolean handsDivisionToAdam() {
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
            if (!(block.getGradientUpdater() instanceof SimdAdam.Updater)) {
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
