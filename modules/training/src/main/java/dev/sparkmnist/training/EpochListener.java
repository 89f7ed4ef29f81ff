package dev.sparkmnist.training;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** Called after each epoch's training and evaluation; one listener, one purpose (log, record, checkpoint, stop). */
@FunctionalInterface
public interface EpochListener {
    /**
     * @param result the epoch's figures
     * @param network the network after the epoch (do not modify)
     */
    void onEpochEnd(EpochResult result, MultiLayerNetwork network);
}
