package dev.sparkmnist.training.resident;

import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.collection.Iterator;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * The exchange alone, no training: {@code N} barrier tasks average a synthetic vector of the default LeNet job's size
 * (parameters and Nesterov momentum) and of the MLP's (parameters and Adam's two moments) through the real
 * {@link PeerExchange}, and the driver counts its own RPC messages ({@link DriverMessages}). Each size runs as two
 * stages, of {@code rounds / 4} and {@code rounds} rounds: the difference in driver messages between them, divided by
 * the difference in rounds, is what the driver receives per round; the rest is per stage. Prints one JSON line per
 * size. Run by {@code scripts/benchmark-exchange.sh} through spark-submit on a real standalone cluster.
 *
 * <p>Usage: {@code ExchangeBenchmark WORKERS [ROUNDS]} (default 400 rounds).
 */
public final class ExchangeBenchmark {
    /** Floats averaged per round: the default LeNet job (61,706 parameters, Nesterov) and the MLP (Adam). */
    static final Map<String, Integer> SIZES = Map.of("lenet", 61_706 * 2, "mlp", 235_146 * 3);
    private static final int WARM_UP_ROUNDS = 20;
    private static final long TIMEOUT_SECONDS = 120;

    private ExchangeBenchmark() {
    }

    /** What one worker measured in one stage. */
    record Timing(int worker, String jvm, double medianMs, double p90Ms, long bytesPerRound, double cpuMsPerRound)
        implements Serializable {
    }

    public static void main(String[] args) {
        int workers = Integer.parseInt(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 400;
        try (JavaSparkContext sc = new JavaSparkContext(new SparkConf().setAppName("exchange-benchmark"))) {
            Slots.require(sc, workers, 120);
            DriverMessages counter = DriverMessages.install(sc.sc());
            String run = "smnist-bench-" + UUID.randomUUID().toString().substring(0, 8);
            String endpoint = run + "-rendezvous";
            Rendezvous rendezvous = Rendezvous.start(endpoint);
            try {
                for (String model : List.of("lenet", "mlp")) {
                    int length = SIZES.get(model);
                    int shortRounds = rounds / 4;
                    Map<String, Long> m0 = counter.snapshot();
                    stage(sc, run, endpoint, workers, length, shortRounds);
                    Map<String, Long> m1 = counter.snapshot();
                    List<Timing> timings = stage(sc, run, endpoint, workers, length, rounds);
                    Map<String, Long> m2 = counter.snapshot();
                    System.out.println(json(model, workers, length, rounds, shortRounds, timings,
                        DriverMessages.difference(m0, m1), DriverMessages.difference(m1, m2)));
                }
            } finally {
                rendezvous.stop();
            }
        }
    }

    private static List<Timing> stage(JavaSparkContext sc, String run, String endpoint, int workers, int length,
                                      int rounds) {
        List<Integer> ids = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            ids.add(w);
        }
        Task task = new Task(run, endpoint, workers, length, rounds);
        List<Timing> out = new ArrayList<>(JavaRDD.fromRDD(sc.parallelize(ids, workers).rdd().barrier()
            .mapPartitions(task, false, ClassTag$.MODULE$.apply(Timing.class)),
            ClassTag$.MODULE$.apply(Timing.class)).collect());
        out.sort(java.util.Comparator.comparingInt(Timing::worker));
        return out;
    }

    /** One worker: warm-up rounds, then {@code rounds} timed rounds of averaging. */
    private static final class Task extends AbstractFunction1<Iterator<Integer>, Iterator<Timing>>
        implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String run;
        private final String endpoint;
        private final int workers;
        private final int length;
        private final int rounds;

        Task(String run, String endpoint, int workers, int length, int rounds) {
            this.run = run;
            this.endpoint = endpoint;
            this.workers = workers;
            this.length = length;
            this.rounds = rounds;
        }

        @Override
        public Iterator<Timing> apply(Iterator<Integer> ignored) {
            TaskContext task = TaskContext.get();
            int worker = task.partitionId();
            float[] vector = new float[length];
            long[] nanos = new long[rounds];
            long bytes;
            long cpu;
            com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                ManagementFactory.getOperatingSystemMXBean();
            try (PeerExchange exchange = new PeerExchange(PeerExchange.attemptName(run, task.stageId(),
                task.stageAttemptNumber()), endpoint, worker, workers, length, TIMEOUT_SECONDS)) {
                long cpu0 = 0;
                for (int r = 0; r < WARM_UP_ROUNDS + rounds; r++) {
                    if (r == WARM_UP_ROUNDS) {
                        cpu0 = os.getProcessCpuTime();
                    }
                    Arrays.fill(vector, worker + r);
                    long t0 = System.nanoTime();
                    exchange.average(r, vector, 1f);
                    if (r >= WARM_UP_ROUNDS) {
                        nanos[r - WARM_UP_ROUNDS] = System.nanoTime() - t0;
                    }
                }
                cpu = os.getProcessCpuTime() - cpu0;
                bytes = exchange.bytesMoved() / (WARM_UP_ROUNDS + rounds);
                float expected = (workers - 1) / 2f + WARM_UP_ROUNDS + rounds - 1;
                if (Math.abs(vector[0] - expected) > 1e-3 || Math.abs(vector[length - 1] - expected) > 1e-3) {
                    throw new IllegalStateException("worker " + worker + " averaged to " + vector[0] + ", expected "
                        + expected);
                }
            }
            Arrays.sort(nanos);
            return scala.collection.Iterator$.MODULE$.single(new Timing(worker,
                ManagementFactory.getRuntimeMXBean().getName(), nanos[rounds / 2] / 1e6,
                nanos[(int) (rounds * 0.9)] / 1e6, bytes, cpu / 1e6 / rounds));
        }
    }

    private static String json(String model, int workers, int length, int rounds, int shortRounds,
                               List<Timing> timings, Map<String, Long> shortStage, Map<String, Long> longStage) {
        double[] medians = timings.stream().mapToDouble(Timing::medianMs).sorted().toArray();
        long heartbeatsShort = shortStage.getOrDefault("HeartbeatReceiver", 0L);
        long heartbeatsLong = longStage.getOrDefault("HeartbeatReceiver", 0L);
        long totalShort = shortStage.values().stream().mapToLong(Long::longValue).sum() - heartbeatsShort;
        long totalLong = longStage.values().stream().mapToLong(Long::longValue).sum() - heartbeatsLong;
        double perRound = (double) (totalLong - totalShort) / (rounds - shortRounds);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("workers", workers);
        m.put("floats", length);
        m.put("rounds", rounds);
        m.put("medianMsPerRound", medians[medians.length / 2]);
        m.put("p90MsPerRound", timings.stream().mapToDouble(Timing::p90Ms).max().orElse(0));
        m.put("bytesPerWorkerPerRound", timings.stream().mapToLong(Timing::bytesPerRound).max().orElse(0));
        m.put("jvms", timings.stream().map(Timing::jvm).distinct().count());
        // CPU time of a worker's whole JVM (Netty's threads, GC and Spark's own included) per round: what a round
        // would cost on a core of its own, where the wall time here also holds waiting for one of 2 shared cores
        double[] cpu = timings.stream().mapToDouble(Timing::cpuMsPerRound).sorted().toArray();
        m.put("cpuMsPerRound", cpu[cpu.length / 2]);
        m.put("driverMessagesPerRound", perRound);
        m.put("driverMessagesPerStage", totalLong - perRound * rounds);
        m.put("driverMessagesLongStage", longStage);
        m.put("driverMessagesShortStage", shortStage);
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(m);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write the figures as JSON: " + e.getMessage(), e);
        }
    }
}
