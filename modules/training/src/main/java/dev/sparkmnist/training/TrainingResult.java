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
 * @param averaging how often the workers averaged, and why: null without averaging (one JVM, MLlib)
 */
public record TrainingResult(MultiLayerNetwork network, List<EpochResult> epochs, int threadsPerTask,
                             int partitions, java.util.Set<String> trainerJvms, Averaging averaging) {
    /**
     * @param frequency minibatches per worker between averagings
     * @param chosen how it was set: "given" (a number), "auto" (measured: {@code auto} holds the figures) or
     *     "dl4j-auto" ({@code auto} with DL4J's master, which takes its long-standing default)
     * @param auto the measured costs behind an automatic choice, else null
     * @param overlap whether each exchange ran while the next round was fitted (resident engine, 2+ workers)
     * @param updater when the updater state was averaged: "round" (with the parameters every round) or "stage"
     *     (at the end of each stage; the resident engine's {@code --updater-averaging})
     */
    public record Averaging(int frequency, String chosen, dev.sparkmnist.training.resident.AutoFrequency auto,
                            boolean overlap, String updater) {
    }

    /** Without averaging (one JVM, MLlib). */
    public TrainingResult(MultiLayerNetwork network, List<EpochResult> epochs, int threadsPerTask, int partitions,
                          java.util.Set<String> trainerJvms) {
        this(network, epochs, threadsPerTask, partitions, trainerJvms, null);
    }

    /** The last epoch's result. */
    public EpochResult last() {
        return epochs.get(epochs.size() - 1);
    }
}
