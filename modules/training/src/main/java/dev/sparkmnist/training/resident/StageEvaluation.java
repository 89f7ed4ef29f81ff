package dev.sparkmnist.training.resident;

import dev.sparkmnist.data.MnistRdds;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.SliceReader;
import dev.sparkmnist.evaluation.PartialEvaluation;
import java.io.Serializable;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The epoch's evaluation inside its last resident stage: after the stage's last exchange every worker holds the
 * averaged network the driver's takes from worker 0, so each worker evaluates its slice of the test split with it
 * there, the slices and batches {@code Evaluator.distributed} gives the same number of partitions, and the driver
 * merges the partial results in worker order: the same report, to the last bit, without a second Spark job, a
 * broadcast of the network and its rebuild in every task (BENCHMARKS.md round 26). {@code --conf
 * spark.sparkmnist.stageEvaluation=false} evaluates in a job of its own after the stage, as before.
 *
 * @param test the test split
 * @param batchSize examples a batch ({@code --eval-batch-size})
 */
record StageEvaluation(MnistSet test, int batchSize) implements Serializable {
    /** The switch ({@code -Dsparkmnist.stageEvaluation}, or {@code --conf spark.sparkmnist.stageEvaluation}). */
    static final String PROPERTY = "sparkmnist.stageEvaluation";

    /** Whether this JVM's switch lets epochs evaluate in their last stage (on unless set to false). */
    static boolean enabled() {
        return dev.sparkmnist.runtime.Switches.enabled(PROPERTY);
    }

    /**
     * Worker {@code worker} of {@code workers}: its slice of the test split scored with {@code net}, read as the
     * evaluation job's partition of that number reads it ({@link MnistRdds#evaluationPartition}).
     */
    PartialEvaluation evaluate(MultiLayerNetwork net, int worker, int workers, Normalization normalization,
                               Configuration conf) {
        PartialEvaluation partial = new PartialEvaluation(MnistSet.NUM_CLASSES);
        try (SliceReader reader = MnistRdds.evaluationPartition(test, workers, worker, batchSize, normalization,
                 conf)) {
            for (DataSet batch = reader.next(); batch != null; batch = reader.next()) {
                partial.add(net, batch);
            }
        }
        return partial;
    }
}
