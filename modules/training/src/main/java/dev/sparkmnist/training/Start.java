package dev.sparkmnist.training;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Where training starts: a network already trained for {@code epochsDone} epochs (a checkpoint, with its updater
 * state), which training continues from epoch {@code epochsDone + 1}. The epoch order of the data depends only on the
 * seed and the epoch number, so a resumed run sees the same batches as an uninterrupted one.
 *
 * @param network the network to continue training (modified in place)
 * @param epochsDone epochs the network has been trained for, &gt;= 0
 */
public record Start(MultiLayerNetwork network, int epochsDone) {
    public Start {
        if (network == null) {
            throw new IllegalArgumentException("network must be given");
        }
        if (epochsDone < 0) {
            throw new IllegalArgumentException("epochsDone (" + epochsDone + ") must be >= 0");
        }
    }
}
