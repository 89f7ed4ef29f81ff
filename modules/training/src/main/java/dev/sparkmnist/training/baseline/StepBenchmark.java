package dev.sparkmnist.training.baseline;

import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.runtime.FlushToZero;
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
 * counted. Prints one line per variant: median, fastest and slowest milliseconds per step over the rounds; with
 * {@code STEP_EACH_ROUND} set, also each round's as it ends (the first included), with the wall clock then.
 *
 * <p>Usage: {@code StepBenchmark MODEL BATCH [STEPS_PER_ROUND [ROUNDS [THREADS]]]}, MODEL lenet or mlp (the teaching
 * configurations), defaults 100 steps, 11 rounds, 1 ND4J thread. {@code scripts/benchmark-step.sh} runs it.
 * Environment: {@code STEP_VARIANTS} ({@code ours}, {@code dl4j}, or both comma-separated, the default) chooses
 * what is timed, for a profiler attached to one variant; {@code STEP_WORKERS=N} (N > 1) instead times N networks
 * ({@code ours}) training at once on N threads of this JVM, as the resident engine's workers in one JVM (no
 * averaging), and prints each one's line; {@code STEP_OP_PROFILE=1} instead warms up, then runs one
 * round of each variant under ND4J's op profiler and prints its dashboard (operations by kind, name and call site)
 * and the ND4J operations a step. Both run with flush-to-zero on the thread ({@code FlushToZero}), as the engines fit.
 */
public final class StepBenchmark {
    private static final String OURS = "ours";
    private static final String DL4J = "dl4j";

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
        int threads = positive(args, 4, "THREADS", 1, 1);
        List<String> variants;
        try {
            variants = variants(System.getenv("STEP_VARIANTS"));
        } catch (IllegalArgumentException e) {
            System.err.println("StepBenchmark: " + e.getMessage());
            System.exit(2);
            return;
        }
        int workers = workers(System.getenv("STEP_WORKERS"));
        Nd4jRuntime.configure(threads); // after every check: a bad value is reported before ND4J loads
        try (FlushToZero.Scope ftz = FlushToZero.enable()) { // as the engines fit
            measure(args[0], architecture, batch, steps, rounds, variants, workers);
        }
    }

    /** Prints the op counts ({@code STEP_OP_PROFILE=1}) or the step times of the variants. */
    private static void measure(String model, Architecture architecture, int batch, int steps, int rounds,
                                List<String> variants, int workers) {
        if ("1".equals(System.getenv("STEP_OP_PROFILE"))) {
            for (String v : variants) {
                double ops = opsPerStep(architecture, batch, steps, v, true);
                System.out.printf(java.util.Locale.ROOT, "%s %s batch %d: %.1f ND4J operations a step (%d steps)%n",
                    model, v, batch, ops, steps);
            }
            return;
        }
        if (workers > 1) {
            double[][] t = concurrent(architecture, batch, steps, rounds, workers);
            for (int w = 0; w < workers; w++) {
                System.out.printf(java.util.Locale.ROOT, "%s ours batch %d, worker %d of %d in this JVM: %.3f ms a step"
                    + " (median of %d rounds of %d steps; fastest %.3f, slowest %.3f)%n", model, batch, w + 1,
                    workers, t[w][0], rounds - 1, steps, t[w][1], t[w][2]);
            }
            return;
        }
        for (Map.Entry<String, double[]> e : run(architecture, batch, steps, rounds, variants).entrySet()) {
            double[] t = e.getValue();
            System.out.printf(java.util.Locale.ROOT,
                "%s %s batch %d: %.3f ms a step (median of %d rounds of %d steps; fastest %.3f, slowest %.3f);"
                    + " %.1f KB of Java heap allocated a step (last round)%n",
                model, e.getKey(), batch, t[0], rounds - 1, steps, t[1], t[2], t[3] / 1024);
        }
    }

    /** {@code args[i]} as an integer of at least {@code min} ({@code otherwise} when absent); exits with a line if not. */
    private static int positive(String[] args, int i, String name, int otherwise, int min) {
        return integer(i < args.length ? args[i] : null, name, otherwise, min, Integer.MAX_VALUE);
    }

    /**
     * {@code value} as an integer from {@code min} to {@code max} ({@code otherwise} when null); exits with a line
     * naming it and the rule if not.
     */
    private static int integer(String value, String name, int otherwise, int min, int max) {
        if (value == null) {
            return otherwise;
        }
        try {
            int v = Integer.parseInt(value);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        System.err.println("StepBenchmark: " + name + " (" + value + ") must be an integer "
            + (max == Integer.MAX_VALUE ? ">= " + min : "from " + min + " to " + max));
        System.exit(2);
        return otherwise;
    }

    /** The variants named in {@code spec} ("ours", "dl4j", comma-separated; both when null or blank), in order. */
    static List<String> variants(String spec) {
        if (spec == null || spec.isBlank()) {
            return List.of(OURS, DL4J);
        }
        List<String> out = new ArrayList<>();
        for (String v : spec.split(",")) {
            String name = v.trim();
            if (!name.equals(OURS) && !name.equals(DL4J) || out.contains(name)) {
                throw new IllegalArgumentException("STEP_VARIANTS (" + spec + ") must be ours, dl4j or both,"
                    + " comma-separated, each once");
            }
            out.add(name);
        }
        return out;
    }

    /** {@code STEP_WORKERS}: how many networks train at once on their own threads (1 when unset); exits if bad. */
    private static int workers(String spec) {
        return integer(spec == null || spec.isBlank() ? null : spec.trim(), "STEP_WORKERS", 1, 1, 64);
    }

    /**
     * {@code workers} networks ({@code ours}) training at once in this JVM, each on its own thread with its own
     * minibatches, as the resident engine's workers in one JVM do (without averaging); the rounds start together.
     * Median, fastest and slowest ms per step of each worker over the rounds after the first.
     */
    static double[][] concurrent(Architecture architecture, int batch, int steps, int rounds, int workers) {
        return concurrent(architecture, batch, steps, rounds, workers, (worker, round) -> { });
    }

    /**
     * {@link #concurrent(Architecture, int, int, int, int)}, calling {@code roundStart} with each worker's index and
     * round as the round starts on its thread (tests make one worker fail there).
     */
    static double[][] concurrent(Architecture architecture, int batch, int steps, int rounds, int workers,
                                 java.util.function.BiConsumer<Integer, Integer> roundStart) {
        int threads = Nd4jRuntime.currentThreads();
        // a worker that fails leaves the phaser, so the others finish their rounds instead of waiting for it
        java.util.concurrent.Phaser start = new java.util.concurrent.Phaser(workers);
        double[][] out = new double[workers][];
        List<Thread> running = new ArrayList<>();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        for (int w = 0; w < workers; w++) {
            int id = w;
            Thread t = new Thread(() -> {
                Nd4jRuntime.configure(threads); // per thread, as a task's (OpenMP's count is the thread's own)
                try (FlushToZero.Scope ftz = FlushToZero.enable()) {
                    List<DataSet> data = batches(batch, 16, new Random(id + 1));
                    java.util.function.Consumer<DataSet> fit = fitter(network(architecture, OURS), OURS);
                    List<Double> times = new ArrayList<>();
                    for (int round = 0; round < rounds; round++) {
                        start.arriveAndAwaitAdvance();
                        roundStart.accept(id, round);
                        long t0 = System.nanoTime();
                        for (int s = 0; s < steps; s++) {
                            fit.accept(data.get(s % data.size()));
                        }
                        if (round > 0) {
                            times.add((System.nanoTime() - t0) / 1e6 / steps);
                        }
                    }
                    out[id] = summary(times);
                } catch (Exception | Error e) {
                    failure.compareAndSet(null, e);
                    start.arriveAndDeregister();
                }
            }, "step-worker-" + (w + 1));
            t.start();
            running.add(t);
        }
        for (Thread t : running) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a worker failed: " + failure.get(), failure.get());
        }
        return out;
    }

    /** How a variant fits a minibatch: ours as the engines do ({@link TrainingStep}), DL4J's with its {@code fit}. */
    private static java.util.function.Consumer<DataSet> fitter(MultiLayerNetwork net, String variant) {
        if (variant.equals(OURS)) {
            return dev.sparkmnist.models.TrainingStep.of(net)::fit;
        }
        return net::fit;
    }

    /** The network a variant trains: ours ({@link Models#network}) or DL4J's own layers from the same configuration. */
    private static MultiLayerNetwork network(Architecture architecture, String variant) {
        ModelOptions o = architecture == Architecture.LENET ? ModelOptions.lenet() : ModelOptions.mlp();
        if (variant.equals(OURS)) {
            return Models.network(o);
        }
        MultiLayerNetwork plain = new MultiLayerNetwork(Models.configuration(o));
        plain.init();
        return plain;
    }

    /**
     * ND4J operations a training step of {@code variant} runs: {@code 3 x steps} steps to warm up, then {@code steps}
     * counted by ND4J's op profiler, whose dashboard is printed when {@code print}.
     */
    static double opsPerStep(Architecture architecture, int batch, int steps, String variant, boolean print) {
        List<DataSet> data = batches(batch, 16, new Random(1));
        java.util.function.Consumer<DataSet> fit = fitter(network(architecture, variant), variant);
        for (int s = 0; s < 3 * steps; s++) {
            fit.accept(data.get(s % data.size()));
        }
        org.nd4j.linalg.profiler.OpProfiler profiler = org.nd4j.linalg.profiler.OpProfiler.getInstance();
        profiler.reset();
        Nd4j.getExecutioner().setProfilingConfig(org.nd4j.linalg.profiler.ProfilerConfig.builder()
            .stackTrace(true).build());
        Nd4j.getExecutioner().setProfilingMode(
            org.nd4j.linalg.api.ops.executioner.OpExecutioner.ProfilingMode.OPERATIONS);
        try {
            for (int s = 0; s < steps; s++) {
                fit.accept(data.get(s % data.size()));
            }
        } finally {
            Nd4j.getExecutioner().setProfilingMode(
                org.nd4j.linalg.api.ops.executioner.OpExecutioner.ProfilingMode.DISABLED);
        }
        if (print) {
            profiler.printOutDashboard();
        }
        return (double) profiler.getInvocationsCount() / steps;
    }

    /** {@code STEP_EACH_ROUND} set: each round's line as it ends. */
    private static final boolean EACH_ROUND = System.getenv("STEP_EACH_ROUND") != null;

    /**
     * Median, fastest and slowest ms per step of each variant ("ours", "dl4j") over the rounds after the first, and the
     * Java heap bytes a step allocated in the last round.
     */
    static Map<String, double[]> run(Architecture architecture, int batch, int steps, int rounds,
                                     List<String> variants) {
        List<DataSet> data = batches(batch, 16, new Random(1));
        Map<String, java.util.function.Consumer<DataSet>> nets = new LinkedHashMap<>();
        for (String v : variants) {
            nets.put(v, fitter(network(architecture, v), v));
        }
        Map<String, List<Double>> times = new LinkedHashMap<>();
        Map<String, Double> allocated = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (Map.Entry<String, java.util.function.Consumer<DataSet>> e : nets.entrySet()) {
                long a0 = allocatedBytes();
                long t0 = System.nanoTime();
                for (int s = 0; s < steps; s++) {
                    e.getValue().accept(data.get(s % data.size()));
                }
                double ms = (System.nanoTime() - t0) / 1e6 / steps;
                // NaN where the JVM keeps no count, rather than a made-up zero
                allocated.put(e.getKey(), a0 < 0 ? Double.NaN : (double) (allocatedBytes() - a0) / steps);
                if (EACH_ROUND) {
                    System.out.printf("round %d %s %.3f ms a step (ended at %d)%n", round, e.getKey(), ms,
                        System.currentTimeMillis());
                }
                if (round > 0) {
                    times.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(ms);
                }
            }
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        times.forEach((k, l) -> {
            double[] s = summary(l);
            out.put(k, new double[] {s[0], s[1], s[2], allocated.get(k)});
        });
        return out;
    }

    /** Bytes of Java heap this thread has allocated so far (HotSpot's count; -1 where the JVM does not keep one). */
    static long allocatedBytes() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        return mx instanceof com.sun.management.ThreadMXBean sun && sun.isThreadAllocatedMemoryEnabled()
            ? sun.getCurrentThreadAllocatedBytes() : -1;
    }

    /** Median, fastest and slowest of {@code times} (sorted in place). */
    private static double[] summary(List<Double> times) {
        Collections.sort(times);
        return new double[] {times.get(times.size() / 2), times.get(0), times.get(times.size() - 1)};
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
