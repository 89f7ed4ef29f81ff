package dev.sparkmnist.models;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Smooth L1 (Huber-like) loss as PyTorch's {@code SmoothL1Loss(beta)} defines it, with mean reduction: per element
 * {@code 0.5 d^2 / beta} where {@code |d| < beta}, else {@code |d| - 0.5 beta}, with {@code d = output - label}; an
 * example's score is the mean over its outputs, so the minibatch mean equals PyTorch's mean over all elements. DL4J
 * has no such loss. Fields, not getters, are what DL4J's configuration JSON reads and writes.
 */
public final class LossSmoothL1 implements ILossFunction {
    private static final long serialVersionUID = 1L;
    /** PyTorch's default. */
    public static final double DEFAULT_BETA = 1.0;
    private double beta;

    /** For JSON; beta 1. */
    public LossSmoothL1() {
        this(DEFAULT_BETA);
    }

    public LossSmoothL1(double beta) {
        if (!(beta > 0)) {
            throw new IllegalArgumentException("SmoothL1 beta (" + beta + ") must be > 0");
        }
        this.beta = beta;
    }

    public double getBeta() {
        return beta;
    }

    /** Per-element losses {@code [n, outputs]}, masked. */
    private INDArray elementLosses(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray output = activationFn.getActivation(preOutput.dup(), true);
        INDArray d = output.subi(labels.castTo(output.dataType()));
        INDArray abs = Transforms.abs(d, true);
        INDArray small = abs.lt(beta).castTo(d.dataType());
        INDArray quadratic = d.mul(d).muli(0.5 / beta);
        INDArray linear = abs.sub(0.5 * beta);
        INDArray losses = quadratic.muli(small).addi(linear.muli(small.rsub(1.0)));
        return masked(losses, mask);
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray losses = elementLosses(labels, preOutput, activationFn, mask);
        return losses.mean(true, 1);
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        double sum = computeScoreArray(labels, preOutput, activationFn, mask).sumNumber().doubleValue();
        return average ? sum / preOutput.size(0) : sum;
    }

    /** The gradient of each example's score with respect to the pre-activation outputs. */
    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray output = activationFn.getActivation(preOutput.dup(), true);
        INDArray d = output.subi(labels.castTo(output.dataType()));
        INDArray small = Transforms.abs(d, true).lt(beta).castTo(d.dataType());
        INDArray dLdOut = d.div(beta).muli(small).addi(Transforms.sign(d, true).muli(small.rsub(1.0)))
            .divi(preOutput.size(1));
        INDArray dLdPre = activationFn.backprop(preOutput.dup(), masked(dLdOut, mask)).getFirst();
        return masked(dLdPre, mask);
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
                                                          IActivation activationFn, INDArray mask, boolean average) {
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
            computeGradient(labels, preOutput, activationFn, mask));
    }

    private static INDArray masked(INDArray values, INDArray mask) {
        if (mask == null) {
            return values;
        }
        INDArray m = mask.castTo(values.dataType());
        return m.columns() == 1 && values.columns() != 1 ? values.muliColumnVector(m) : values.muli(m);
    }

    @Override
    public String name() {
        return toString();
    }

    @Override
    public String toString() {
        return "LossSmoothL1(beta=" + beta + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LossSmoothL1 l && l.beta == beta;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(beta);
    }
}
