package dev.sparkmnist.training;

import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.runtime.TaskSetup;
import java.util.List;
import java.util.function.Function;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SerializableWritable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * One training run on Spark as an engine receives it from {@link SparkTrainer}: everything both engines need, set
 * up once.
 *
 * @param sc the Spark context
 * @param train the training split, limited
 * @param test the test split, limited (what {@code evaluation} scores)
 * @param model the model options
 * @param options the training options
 * @param listeners called after each epoch
 * @param start the network to train and the epochs it has done (0 for a new one)
 * @param partitions workers
 * @param setup what each task does first (ND4J threads, GPU binding)
 * @param hadoop the Spark context's Hadoop configuration, broadcast once for the run's reads of the idx files
 *     ({@link dev.sparkmnist.data.MnistRdds#hadoopConf})
 * @param evaluation evaluates a network on the test split across the cluster
 * @param progress shows the examples fitted while an epoch runs
 */
public record SparkRun(JavaSparkContext sc, MnistSet train, MnistSet test, ModelOptions model, TrainingOptions options,
                       List<EpochListener> listeners, Start start, int partitions, TaskSetup setup,
                       Broadcast<SerializableWritable<Configuration>> hadoop,
                       Function<MultiLayerNetwork, EvaluationReport> evaluation, EpochProgress progress) {

    /** The network to train. */
    public MultiLayerNetwork network() {
        return start.network();
    }

    /** Runs the epochs still to do with {@code engine}, reporting each to the listeners. */
    public java.util.List<EpochResult> epochs(EpochEngine engine) {
        return EpochLoop.run(engine, model, options, listeners, start.epochsDone(), progress, train.size());
    }
}
