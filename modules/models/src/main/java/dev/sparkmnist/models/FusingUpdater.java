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
    /** What its next {@code applyUpdater} is to do besides the update. */
    Next next();

    /**
     * Armed by {@link FusedMinibatchUpdater} before a step, taken by the updater's {@code applyUpdater} (one step's
     * request: nothing of it outlives the step, so a serialised updater carries none).
     */
    final class Next implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        private transient int divisor;
        private transient INDArray params;
        private transient boolean stepped;

        /**
         * The next {@code applyUpdater} divides the gradient by {@code batchSize} first, as DL4J's updater would have
         * before it: in the kernel, float by float, or else with ND4J's division.
         */
        void divideBy(int batchSize) {
            divisor = batchSize;
        }

        /**
         * The next {@code applyUpdater} also takes the update from {@code blockParams} (the block's parameters, as
         * long as the gradient) where the kernel runs, in the same pass; {@link #tookStep} says afterwards whether it
         * did. Null: none.
         */
        void stepParams(INDArray blockParams) {
            params = blockParams;
        }

        /** Whether the last {@code applyUpdater} took its update from the parameters; asking clears it. */
        boolean tookStep() {
            boolean s = stepped;
            stepped = false;
            return s;
        }

        /** For the updater, first thing in a step: the minibatch size to divide by (0: none), now cleared. */
        int takeDivisor() {
            int d = divisor;
            divisor = 0;
            stepped = false;
            return d;
        }

        /** For the updater: the parameters to take the update from (null: none), now cleared. */
        INDArray takeParams() {
            INDArray p = params;
            params = null;
            return p;
        }

        /** For the updater: its kernel took the update from the parameters. */
        void stepped() {
            stepped = true;
        }
    }
}
