package dev.sparkmnist.training;

import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The trained network and the per-epoch figures.
 *
 * @param network the final network (parameters and updater state)
 * @param epochs one result per completed epoch
 * @param threadsPerTask ND4J threads each training task used
 * @param partitions partitions of the training RDD (1 for single-JVM training)
 * @param trainerJvms the JVMs (pid@host) that fitted minibatches in the last epoch
 */
public record TrainingResult(MultiLayerNetwork network, List<EpochResult> epochs, int threadsPerTask,
                             int partitions, java.util.Set<String> trainerJvms) {
    /** The last epoch's result. */
    public EpochResult last() {
        return epochs.get(epochs.size() - 1);
    }
}
