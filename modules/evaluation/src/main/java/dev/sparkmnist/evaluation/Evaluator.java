package dev.sparkmnist.evaluation;

import dev.sparkmnist.data.MnistRdds;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.Role;
import dev.sparkmnist.data.SparkJobs;
import dev.sparkmnist.models.HostArrays;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.runtime.TaskSetup;
import java.util.Iterator;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SerializableWritable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Evaluates a network on a test split, distributed over Spark partitions or in this JVM. Both paths run the same
 * per-batch code ({@link PartialEvaluation#add}), so their results agree exactly in counts.
 */
public final class Evaluator {
    private Evaluator() {
    }

    /**
     * Distributed evaluation: each partition applies {@code setup} (ND4J threads, helpers, its GPU), reads its slice
     * of {@code test}, rebuilds the network from the broadcast configuration and parameters (plain JSON and
     * float[]), and scores it; partial results are merged.
     */
    public static EvaluationReport distributed(JavaSparkContext sc, MultiLayerNetwork net, MnistSet test,
                                               int partitions, int batchSize, Normalization normalization,
                                               TaskSetup setup) {
        return distributed(sc, net, test, partitions, batchSize, normalization, setup, null);
    }

    /**
     * The same, the executors reading the test split with {@code hadoop} ({@link MnistRdds#hadoopConf}, made once for
     * a run that evaluates every epoch; null: broadcast for this evaluation).
     */
    public static EvaluationReport distributed(JavaSparkContext sc, MultiLayerNetwork net, MnistSet test,
                                               int partitions, int batchSize, Normalization normalization,
                                               TaskSetup setup, Broadcast<SerializableWritable<Configuration>> hadoop) {
        requireTest(test);
        JavaRDD<DataSet> batches = MnistRdds.evaluation(sc, test, partitions, batchSize, normalization, hadoop);
        Broadcast<ModelSnapshot> model = sc.broadcast(ModelSnapshot.of(net));
        try {
            // A named function (SparkJobs): nothing for Spark's closure cleaner to parse; partials merge in partition
            // order.
            PartialEvaluation merged = null;
            for (PartialEvaluation partial : SparkJobs.runPerPartition(batches.rdd(),
                new EvaluatePartition(setup, model))) {
                merged = merged == null ? partial : merged.merge(partial);
            }
            if (merged == null) {
                throw new IllegalStateException("evaluation of " + test + " ran on no partition");
            }
            return merged.report();
        } finally {
            model.destroy();
        }
    }

    /** One partition's evaluation: rebuilds the network from the broadcast and scores the partition's batches. */
    private static final class EvaluatePartition implements SparkJobs.PartitionFunction<DataSet, PartialEvaluation> {
        private static final long serialVersionUID = 1L;
        private final TaskSetup setup;
        private final Broadcast<ModelSnapshot> model;

        EvaluatePartition(TaskSetup setup, Broadcast<ModelSnapshot> model) {
            this.setup = setup;
            this.model = model;
        }

        @Override
        public PartialEvaluation call(Iterator<DataSet> batches) {
            setup.apply();
            MultiLayerNetwork local = model.value().restore();
            PartialEvaluation partial = new PartialEvaluation(MnistSet.NUM_CLASSES);
            while (batches.hasNext()) {
                partial.add(local, batches.next());
            }
            return partial;
        }
    }

    /** Single-machine evaluation of the same batches. */
    public static EvaluationReport local(MultiLayerNetwork net, Iterable<DataSet> batches) {
        PartialEvaluation partial = new PartialEvaluation(MnistSet.NUM_CLASSES);
        for (DataSet batch : batches) {
            partial.add(net, batch);
        }
        return partial.report();
    }

    private static void requireTest(MnistSet set) {
        if (set.role() != Role.TEST) {
            throw new IllegalArgumentException("evaluation runs on a test split only, got " + set);
        }
    }

    /** A network as plain Java values: safe to broadcast (nothing Spark could close under the driver). */
    record ModelSnapshot(String configurationJson, float[] parameters) implements java.io.Serializable {
        static ModelSnapshot of(MultiLayerNetwork net) {
            return new ModelSnapshot(net.getLayerWiseConfigurations().toJson(), net.params().toFloatVector());
        }

        MultiLayerNetwork restore() {
            MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configurationJson));
            net.init(HostArrays.create(parameters, 0, 1, parameters.length), false);
            return Models.forInference(net); // the training network's forward passes: the same outputs, faster
        }
    }
}
