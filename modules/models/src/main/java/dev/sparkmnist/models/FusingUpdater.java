package dev.sparkmnist.models;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A block updater whose vector kernel can also divide the gradient by the minibatch size and take the update from the
 * parameters, in the same pass over the gradient ({@link FusedMinibatchUpdater}, {@link FusedStepSgd}): DL4J makes
 * each of those a pass of its own with an ND4J operation. {@link SimdAdam}'s updater and {@link ClassicalMomentum}'s.
 * Where the kernel does not run (not compiled yet, arrays it cannot read), the updater divides with ND4J's division
 * and leaves the step to its caller.
 */
interface FusingUpdater {
    /**
     * The next {@code applyUpdater} divides the gradient by {@code batchSize} first, as DL4J's updater would have
     * before it: in the kernel, float by float, or else with ND4J's division.
     */
    void divideNextStepBy(int batchSize);

    /**
     * The next {@code applyUpdater} also takes the update from {@code params} (the block's parameters, as long as the
     * gradient) where the kernel runs, in the same pass; {@link #tookStep} says afterwards whether it did. Null: none.
     */
    void stepNextParams(INDArray params);

    /** Whether the last {@code applyUpdater} took its update from the parameters; asking clears it. */
    boolean tookStep();
}
