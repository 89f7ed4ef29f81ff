package dev.sparkmnist.training;

import dev.sparkmnist.data.MnistBatches;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.PartitionPlan;
import dev.sparkmnist.data.Slice;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * DL4J's own oracle for parameter averaging ({@code TestCompareParameterAveragingSparkVsSingleMachine
 * .testAverageEveryStep}): with plain SGD, equal minibatches and averaging after every minibatch, N workers that
 * each fit minibatch i of their slice and then average equal one network fitting the N minibatches joined into
 * one, because the mean of the workers' updates is the update of the joined minibatch.
 */
public final class AveragingOracle {
    private AveragingOracle() {
    }

    /**
     * Step i's minibatches, one per worker, as the engines cut epoch {@code epoch}: worker w reads slice w of the
     * epoch order in minibatches of {@code batch}.
     */
    public static List<List<DataSet>> workerBatches(MnistSet set, int workers, int batch, long seed, int epoch,
                                                    Configuration conf) {
        int[] order = PartitionPlan.epochOrder(set.size(), seed, epoch);
        List<Slice> slices = PartitionPlan.balanced(set.size(), workers);
        List<List<DataSet>> perWorker = new ArrayList<>();
        for (Slice s : slices) {
            perWorker.add(MnistBatches.read(set, MnistBatches.positions(order, s.start(), s.end()), batch,
                Normalization.STANDARDIZE, conf));
        }
        List<List<DataSet>> steps = new ArrayList<>();
        for (int i = 0; i < perWorker.get(0).size(); i++) {
            List<DataSet> step = new ArrayList<>();
            for (List<DataSet> w : perWorker) {
                step.add(w.get(i));
            }
            steps.add(step);
        }
        return steps;
    }

    /** Fits {@code net} in this JVM on each step's minibatches joined into one. */
    public static void fitJoined(MultiLayerNetwork net, List<List<DataSet>> steps) {
        for (List<DataSet> step : steps) {
            net.fit(DataSet.merge(step));
        }
    }

    /** The largest absolute difference between two networks' parameters. */
    public static double maxDifference(MultiLayerNetwork a, MultiLayerNetwork b) {
        float[] x = a.params().toFloatVector();
        float[] y = b.params().toFloatVector();
        if (x.length != y.length) {
            throw new IllegalArgumentException(x.length + " vs " + y.length + " parameters");
        }
        double max = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        return max;
    }
}
