package dev.sparkmnist.training.baseline;

import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.runtime.Nd4jRuntime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The cost of one training step alone (no data reading, no Spark, no evaluation): {@code MultiLayerNetwork.fit} on
 * synthetic minibatches, for the network as this project trains it ({@code ours}: {@link Models#network}, with the
 * layers {@link Models#forTraining} installs) and as DL4J builds it from the same configuration ({@code dl4j}), in
 * one JVM, one after the other in rounds so that both see the same machine. The first round warms up and is not
 * counted. Prints one line per variant: median, fastest and slowest milliseconds per step over the rounds.
 *
 * <p>Usage: {@code StepBenchmark MODEL BATCH [STEPS_PER_ROUND [ROUNDS [THREADS]]]}, MODEL lenet or mlp (the teaching
 * configurations), defaults 100 steps, 11 rounds, 1 ND4J thread. {@code scripts/benchmark-step.sh} runs it.
 */
public final class StepBenchmark {
    private StepBenchmark() {
    }

    public static void main(String[] args) {
        String usage = "usage: StepBenchmark lenet|mlp BATCH [STEPS_PER_ROUND [ROUNDS [THREADS]]]";
        if (args.length < 2 || args.length > 5 || !args[0].equals("lenet") && !args[0].equals("mlp")) {
            System.err.println(usage);
            System.exit(2);
        }
        Architecture architecture = args[0].equals("lenet") ? Architecture.LENET : Architecture.MLP;
        int batch = positive(args, 1, "BATCH", 0, 1);
        int steps = positive(args, 2, "STEPS_PER_ROUND", 100, 1);
        int rounds = positive(args, 3, "ROUNDS", 11, 2); // the first round only warms up
        Nd4jRuntime.configure(positive(args, 4, "THREADS", 1, 1));
        for (Map.Entry<String, double[]> e : run(architecture, batch, steps, rounds).entrySet()) {
            double[] t = e.getValue();
            System.out.printf(java.util.Locale.ROOT,
                "%s %s batch %d: %.3f ms a step (median of %d rounds of %d steps; fastest %.3f, slowest %.3f)%n",
                args[0], e.getKey(), batch, t[0], rounds - 1, steps, t[1], t[2]);
        }
    }

    /** {@code args[i]} as an integer of at least {@code min} ({@code otherwise} when absent); exits with a line if not. */
    private static int positive(String[] args, int i, String name, int otherwise, int min) {
        if (i >= args.length) {
            return otherwise;
        }
        try {
            int v = Integer.parseInt(args[i]);
            if (v >= min) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        System.err.println("StepBenchmark: " + name + " (" + args[i] + ") must be an integer >= " + min);
        System.exit(2);
        return otherwise;
    }

    /** Median, fastest and slowest ms per step of each variant ("ours", "dl4j") over the rounds after the first. */
    static Map<String, double[]> run(Architecture architecture, int batch, int steps, int rounds) {
        ModelOptions o = architecture == Architecture.LENET ? ModelOptions.lenet() : ModelOptions.mlp();
        List<DataSet> data = batches(batch, 16, new Random(1));
        Map<String, MultiLayerNetwork> nets = new LinkedHashMap<>();
        nets.put("ours", Models.network(o));
        MultiLayerNetwork plain = new MultiLayerNetwork(Models.configuration(o));
        plain.init();
        nets.put("dl4j", plain);
        Map<String, List<Double>> times = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (Map.Entry<String, MultiLayerNetwork> e : nets.entrySet()) {
                long t0 = System.nanoTime();
                for (int s = 0; s < steps; s++) {
                    e.getValue().fit(data.get(s % data.size()));
                }
                double ms = (System.nanoTime() - t0) / 1e6 / steps;
                if (round > 0) {
                    times.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(ms);
                }
            }
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        times.forEach((k, l) -> {
            Collections.sort(l);
            out.put(k, new double[] {l.get(l.size() / 2), l.get(0), l.get(l.size() - 1)});
        });
        return out;
    }

    /** {@code n} minibatches of MNIST's shape: pixels in [0, 1], about a fifth of them lit, one-hot labels. */
    static List<DataSet> batches(int batch, int n, Random r) {
        List<DataSet> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            float[] x = new float[batch * 784];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextFloat() < 0.2f ? r.nextFloat() : 0f;
            }
            float[] y = new float[batch * 10];
            for (int i = 0; i < batch; i++) {
                y[i * 10 + r.nextInt(10)] = 1f;
            }
            out.add(new DataSet(Nd4j.create(x, new long[] {batch, 784}), Nd4j.create(y, new long[] {batch, 10})));
        }
        return out;
    }
}
