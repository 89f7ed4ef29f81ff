package dev.sparkmnist.models;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * Keeps subnormal numbers out of the updater's state: every {@link #EVERY} iterations, the state's values smaller in
 * magnitude than the smallest normal number of its data type (1.2e-38 for floats) become zero.
 *
 * <p>Why: a weight whose gradient is zero in most minibatches (an input pixel that is black in nearly every picture,
 * a ReLU unit that no longer fires) sees its momentum velocity or Adam's first moment shrink by the momentum (0.9) a
 * step, through the subnormal range to zero in about 150 steps. The CPU computes with subnormal operands tens of
 * times slower than with normal ones, and neither the JVM nor ND4J sets the CPU to flush them to zero. Measured
 * (BENCHMARKS.md, "Round 5"): the MLP's epochs grew from 3.6 to 6.3-6.6 s over 10 epochs, 5.5 % of Adam's state being
 * subnormal by then. What flushing changes: with a learning rate up to 1, a subnormal first moment or velocity moves a
 * weight by less than 1.2e-29 (Adam: lr x 10 x 1.2e-38 / epsilon 1e-8 at most, the 10 being the first step's bias
 * correction), nothing for any weight above about 1e-20 in magnitude; a subnormal second moment adds less than 4e-18
 * to Adam's denominator, under half a unit in the last place of its epsilon; and the next step's moment is the same
 * float unless that step's gradient is itself below about 1e-30. So training runs to the same bits, faster (the
 * default job at seed 1 and the MLP's 10 epochs printed the same losses and accuracies with and without
 * it). Flushing costs one pass over the state (0.64 ms for the MLP's 470,292 Adam values, 0.17 ms for 123,412
 * values, one ND4J thread): {@link #EVERY} keeps that to 1-2 % of an MLP step while a value decaying by 0.9 a
 * step spends at most that many of its ~150 subnormal steps before it is zeroed.
 *
 * <p>{@link Models#forTraining} adds one to every network it sets up; DL4J's parameter averaging master gets one for
 * its workers' networks. Serializable, as Spark ships listeners with DL4J's workers. Where the training loop sets the
 * CPU's flush-to-zero mode ({@code dev.sparkmnist.runtime.FlushToZero}: one JVM and the resident engine's workers on
 * x86-64 Linux), no subnormal value is made on that thread and this skips its pass ({@link #threadFlushesToZero});
 * it works for DL4J's master and the systems where the mode cannot be set.
 */
public final class SubnormalFlush extends BaseTrainingListener implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /** Iterations between flushes. */
    public static final int EVERY = 32;

    /** Read at run time, so that no compiler folds {@link #threadFlushesToZero}'s product. */
    private static volatile float smallestNormalFloat = Float.MIN_NORMAL;

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        if (iteration % EVERY == 0 && model instanceof MultiLayerNetwork net && !threadFlushesToZero()) {
            flush(net);
        }
    }

    /**
     * Whether the CPU flushes subnormal results to zero on the calling thread (the mode {@code FlushToZero} sets),
     * in which case the training loop on it makes no subnormal value and there is nothing to flush.
     */
    public static boolean threadFlushesToZero() {
        return smallestNormalFloat * 0.5f == 0f;
    }

    /** Zeroes the subnormal values of {@code net}'s updater state, in place (none when it has no state yet). */
    public static void flush(MultiLayerNetwork net) {
        Updater updater = net.getUpdater(false);
        INDArray state = updater == null ? null : updater.getStateViewArray();
        if (state != null && !state.isEmpty()) {
            flush(state);
        }
    }

    /** Zeroes the subnormal values of a floating-point array, in place; NaN and infinities stay. */
    public static void flush(INDArray values) {
        double smallestNormal = smallestNormal(values.dataType());
        if (smallestNormal > 0) {
            BooleanIndexing.replaceWhere(values, 0.0, Conditions.absLessThan(smallestNormal));
        }
    }

    /** The smallest positive normal number of a floating-point type; 0 for other types. */
    static double smallestNormal(DataType type) {
        return switch (type) {
            case DOUBLE -> Double.MIN_NORMAL;
            case FLOAT, BFLOAT16 -> Float.MIN_NORMAL;
            case HALF -> 6.103515625e-5; // 2^-14
            default -> 0;
        };
    }
}
