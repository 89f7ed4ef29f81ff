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
    /**
     * Spark settings (key, value pairs) that make executor JVMs run the OpenBLAS kernels this JVM runs, where the
     * references are computed. Each JVM picks its kernels as OpenBLAS loads ({@code OpenBlasCore}: the SkylakeX ones on
     * an AMD CPU with AVX-512, chosen before ND4J loads); a test JVM in which another test class loaded ND4J first
     * kept OpenBLAS's own pick, and Adam's reference then differed from the executors' by 5-9e-5 (the 1e-5 tolerance
     * held only in the order in which these classes happen to run). This JVM chooses as the driver does where it can,
     * loads OpenBLAS, and the executors take what it runs.
     */
    public static String[] blasOfThisJvm() {
        dev.sparkmnist.runtime.OpenBlasCore.chooseBeforeLoad();
        org.nd4j.linalg.factory.Nd4j.create(1); // loads OpenBLAS
        String core = dev.sparkmnist.runtime.OpenBlasCore.loadedCore();
        String key = "spark.executorEnv." + dev.sparkmnist.runtime.OpenBlasCore.ENV;
        return core == null ? new String[0] : new String[] {key, core};
    }

    private AveragingOracle() {
    }

    /**
     * Step i's minibatches, one per worker, as the engines cut epoch {@code epoch}: worker w reads slice w of the
     * epoch order in minibatches of {@code batch}.
     */
    public static List<List<DataSet>> workerBatches(MnistSet set, int workers, int batch, long seed, int epoch,
                                                    Configuration conf) {
        return workerBatches(set, workers, batch, seed, epoch, 0, conf);
    }

    /** As above, each picture moved by the run's random shift of {@code shiftPixels} at that epoch. */
    public static List<List<DataSet>> workerBatches(MnistSet set, int workers, int batch, long seed, int epoch,
                                                    int shiftPixels, Configuration conf) {
        int[] order = PartitionPlan.epochOrder(set.size(), seed, epoch);
        List<Slice> slices = PartitionPlan.balanced(set.size(), workers);
        List<List<DataSet>> perWorker = new ArrayList<>();
        for (Slice s : slices) {
            perWorker.add(MnistBatches.read(set, MnistBatches.positions(order, s.start(), s.end()), batch,
                Normalization.STANDARDIZE, new dev.sparkmnist.data.RandomShift(shiftPixels, seed, epoch), conf,
                List.of()));
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

    /**
     * The reference that DL4J's parameter averaging defines, computed in this JVM: {@code workers} copies of the
     * network ({@code fresh} builds each, identical), worker w fitting minibatch i of its slice of epoch
     * {@code epoch} in round i, then every copy set to the mean over the workers that fitted a minibatch in the
     * round (weight 1; a worker whose slice is exhausted has weight 0 and receives the mean) of the parameters and,
     * when {@code averageUpdaterState}, of the updater state (momentum, Adam's moments; else each keeps its own).
     * Each copy keeps its own iteration count, which drives Adam's bias correction. Returns worker 0's copy, which
     * is the one the engines hand back.
     */
    public static MultiLayerNetwork simulate(java.util.function.Supplier<MultiLayerNetwork> fresh, MnistSet set,
                                             int workers, int batch, long seed, int epoch, Configuration conf,
                                             boolean averageUpdaterState) {
        return simulate(fresh, set, workers, batch, seed, epoch, conf, averageUpdaterState, false);
    }

    /**
     * As above; with {@code overlap} the averaging the resident engine does by default, one round late
     * ({@code OverlappedExchange}): at the end of round r each worker w with state v_w (after fitting round r's
     * minibatch) first takes m_{r-1} + (v_w - s_w), where m_{r-1} is the weighted mean of what the workers sent in
     * round r-1 and s_w what w sent then (nothing to take in round 0), and sends that state as s_w for round r
     * (weight 1 if w fitted a minibatch in round r, else 0). After the last round every worker takes the last mean.
     * Parameters and updater state are treated alike (all of them when {@code averageUpdaterState}).
     */
    public static MultiLayerNetwork simulate(java.util.function.Supplier<MultiLayerNetwork> fresh, MnistSet set,
                                             int workers, int batch, long seed, int epoch, Configuration conf,
                                             boolean averageUpdaterState, boolean overlap) {
        return simulate(fresh, set, workers, batch, seed, epoch, conf,
            averageUpdaterState ? StateAveraging.EVERY_ROUND : StateAveraging.NEVER, overlap);
    }

    /** Which rounds average the updater state as well as the parameters. */
    public enum StateAveraging {
        /** Every round (DL4J's master; the resident engine's {@code --updater-averaging round}). */
        EVERY_ROUND,
        /** The epoch's last round only, the end of its one stage ({@code --updater-averaging stage}). */
        LAST_ROUND,
        /** None: each copy keeps its own. */
        NEVER
    }

    /**
     * As above, with the updater state averaged in the rounds {@code state} says (the parameters in every round): in
     * a round that averages the parameters alone, each copy keeps its own updater state, and with {@code overlap}
     * the next round corrects only what that round averaged.
     */
    public static MultiLayerNetwork simulate(java.util.function.Supplier<MultiLayerNetwork> fresh, MnistSet set,
                                             int workers, int batch, long seed, int epoch, Configuration conf,
                                             StateAveraging state, boolean overlap) {
        int[] order = PartitionPlan.epochOrder(set.size(), seed, epoch);
        List<List<DataSet>> perWorker = new ArrayList<>();
        List<MultiLayerNetwork> nets = new ArrayList<>();
        int rounds = 0;
        for (Slice s : PartitionPlan.balanced(set.size(), workers)) {
            List<DataSet> b = MnistBatches.read(set, MnistBatches.positions(order, s.start(), s.end()), batch,
                Normalization.STANDARDIZE, conf);
            perWorker.add(b);
            nets.add(fresh.get());
            rounds = Math.max(rounds, b.size());
        }
        int parameters = (int) nets.get(0).numParams();
        float[][] sent = new float[workers][];
        float[] previousMean = null;
        for (int r = 0; r < rounds; r++) {
            boolean whole = state == StateAveraging.EVERY_ROUND
                || state == StateAveraging.LAST_ROUND && r == rounds - 1;
            boolean previousWhole = state == StateAveraging.EVERY_ROUND; // the last round has no next
            float[][] vectors = new float[workers][];
            double total = 0;
            for (int w = 0; w < workers; w++) {
                if (r < perWorker.get(w).size()) {
                    nets.get(w).fit(perWorker.get(w).get(r));
                    total += 1;
                }
                vectors[w] = stateVector(nets.get(w));
                if (overlap && previousMean != null) {
                    for (int i = 0; i < vectors[w].length; i++) {
                        if (previousWhole || i < parameters) {
                            vectors[w][i] = previousMean[i] + (vectors[w][i] - sent[w][i]);
                        }
                    }
                    setStateVector(nets.get(w), vectors[w]);
                }
            }
            float[] mean = new float[vectors[0].length];
            for (int i = 0; i < mean.length; i++) {
                double sum = 0;
                for (int w = 0; w < workers; w++) {
                    sum += r < perWorker.get(w).size() ? vectors[w][i] : 0;
                }
                mean[i] = (float) (sum / total);
            }
            if (overlap && r < rounds - 1) {
                sent = vectors;
                previousMean = mean;
                continue;
            }
            for (int w = 0; w < workers; w++) {
                float[] next = whole ? mean : vectors[w].clone();
                if (!whole) {
                    System.arraycopy(mean, 0, next, 0, parameters);
                }
                setStateVector(nets.get(w), next);
            }
        }
        return nets.get(0);
    }

    /** Parameters followed by the updater state (empty for plain SGD), as one vector. */
    public static float[] stateVector(MultiLayerNetwork net) {
        float[] p = net.params().toFloatVector();
        org.nd4j.linalg.api.ndarray.INDArray state = net.getUpdater() == null ? null
            : net.getUpdater().getStateViewArray();
        if (state == null || state.length() == 0) {
            return p;
        }
        float[] s = state.toFloatVector();
        float[] out = java.util.Arrays.copyOf(p, p.length + s.length);
        System.arraycopy(s, 0, out, p.length, s.length);
        return out;
    }

    private static void setStateVector(MultiLayerNetwork net, float[] v) {
        int p = (int) net.numParams();
        net.params().assign(org.nd4j.linalg.factory.Nd4j.create(java.util.Arrays.copyOf(v, p), net.params().shape()));
        if (v.length > p) {
            org.nd4j.linalg.api.ndarray.INDArray state = net.getUpdater().getStateViewArray();
            state.assign(org.nd4j.linalg.factory.Nd4j.create(java.util.Arrays.copyOfRange(v, p, v.length),
                state.shape()));
        }
    }

    /** The largest absolute difference between two vectors of the same length. */
    public static double maxDifference(float[] x, float[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException(x.length + " vs " + y.length + " values");
        }
        double max = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        return max;
    }

    /** The largest absolute difference between two networks' parameters. */
    public static double maxDifference(MultiLayerNetwork a, MultiLayerNetwork b) {
        return maxDifference(a.params().toFloatVector(), b.params().toFloatVector());
    }
}
