package dev.sparkmnist.evaluation;

import dev.sparkmnist.data.MnistRdds;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.Role;
import dev.sparkmnist.runtime.TaskSetup;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

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
        requireTest(test);
        JavaRDD<DataSet> batches = MnistRdds.evaluation(sc, test, partitions, batchSize, normalization);
        Broadcast<ModelSnapshot> model = sc.broadcast(ModelSnapshot.of(net));
        try {
            PartialEvaluation merged = batches
                .mapPartitions((Iterator<DataSet> it) -> {
                    setup.apply();
                    MultiLayerNetwork local = model.value().restore();
                    PartialEvaluation partial = new PartialEvaluation(MnistSet.NUM_CLASSES);
                    while (it.hasNext()) {
                        partial.add(local, it.next());
                    }
                    return List.of(partial).iterator();
                })
                .reduce(PartialEvaluation::merge);
            return merged.report();
        } finally {
            model.destroy();
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
            net.init(Nd4j.create(parameters, new long[] {1, parameters.length}, 'c'), false);
            return net;
        }
    }
}
