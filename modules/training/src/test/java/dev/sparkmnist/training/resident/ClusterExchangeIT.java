package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.testing.SparkTestContext;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.models.Optimizer;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.runtime.Nd4jRuntime;
import dev.sparkmnist.runtime.TaskSetup;
import dev.sparkmnist.training.AveragingOracle;
import dev.sparkmnist.training.TrainingOptions;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The resident engine across executor JVMs: a real standalone cluster on 127.0.0.1 (Spark's local-cluster master:
 * a Master and four Workers of one core each, every executor its own JVM), the real MNIST slice.
 */
@Timeout(900)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterExchangeIT {
    private static final int EXECUTORS = 4;
    private static final String MASTER = "local-cluster[" + EXECUTORS + ",1,1024]";
    private static final Configuration CONF = new Configuration();
    private static JavaSparkContext sc;
    private static MnistSet train;

    @BeforeAll
    static void startCluster() {
        sc = SparkTestContext.localCluster("ClusterExchangeIT", EXECUTORS, AveragingOracle.blasOfThisJvm());
        Nd4jRuntime.configure(1);
        train = MnistSet.trainFrom(TestData.sliceDir(), CONF);
    }

    @AfterAll
    static void stopCluster() {
        if (sc != null) {
            sc.stop();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ResidentSettings settings(int workers, int batch, int frequency, long slotWait) {
        return settings(workers, batch, frequency, slotWait, false, TrainingOptions.UpdaterAveraging.ROUND);
    }

    private static ResidentSettings settings(int workers, int batch, int frequency, long slotWait,
                                             boolean overlap, TrainingOptions.UpdaterAveraging updater) {
        return settings(workers, batch, frequency, 0, slotWait, overlap, updater);
    }

    private static ResidentSettings settings(int workers, int batch, int frequency, int roundsPerStage, long slotWait,
                                             boolean overlap, TrainingOptions.UpdaterAveraging updater) {
        return new ResidentSettings(workers, batch, frequency, roundsPerStage, Normalization.STANDARDIZE, 42L,
            new TaskSetup(1, GpuBinding.Policy.OPTIONAL), 60, slotWait, overlap, updater);
    }

    /**
     * Averaging every minibatch across 3 or 4 executor JVMs equals {@link AveragingOracle#simulate}: the workers'
     * copies of the network each fit minibatch i of their slice in round i, then all take the mean over the workers
     * that fitted one of parameters AND updater state (weight 1 each; a worker with no minibatch left has weight 0
     * and receives the mean); worker 0's copy is the result. The slices do not divide evenly: 50 examples in
     * minibatches of 8 over 3 workers are slices of 17, 17 and 16 examples, i.e. 3, 3 and 2 minibatches (a
     * 1-example minibatch, then no minibatch for worker 2 in round 3); 65 over 4 are 17, 16, 16, 16 (only worker 0
     * trains in round 3). The same reference without averaging the updater state must differ, so this test fails if
     * the state were not averaged. With {@code overlap} (the default, {@link OverlappedExchange}) the reference is
     * the same with each round's mean taken one round late plus the worker's own progress since
     * ({@link AveragingOracle#simulate}'s overlap), and it must differ from the one that waits for every exchange.
     * With {@code --updater-averaging stage} (the default; the other rows take {@code round}) the rounds move the
     * parameters alone and the last one the updater state too: the reference is the oracle's {@code LAST_ROUND},
     * and it must differ from averaging the state in every round.
     */
    @Order(1)
    @ParameterizedTest(name = "{0} workers, {1}, overlap {3}, updater averaged each {4}")
    @CsvSource({"3, SGD, 50, false, ROUND", "3, MOMENTUM, 50, false, ROUND", "3, NESTEROV, 50, false, ROUND",
        "3, ADAM, 50, false, ROUND", "4, SGD, 65, false, ROUND", "4, MOMENTUM, 65, false, ROUND",
        "4, NESTEROV, 65, false, ROUND", "4, ADAM, 65, false, ROUND", "3, NESTEROV, 50, true, ROUND",
        "4, ADAM, 65, true, ROUND", "3, MOMENTUM, 50, false, STAGE", "4, ADAM, 65, true, STAGE"})
    void averagingEveryMinibatchAcrossJvmsEqualsTheReference(int workers, Optimizer optimizer, int examples,
                                                             boolean overlap,
                                                             TrainingOptions.UpdaterAveraging updater) {
        MnistSet set = train.limit(examples);
        ModelOptions model = ModelOptions.mlp().withOptimizer(optimizer, optimizer == Optimizer.ADAM ? 0.01 : 0.05);
        MultiLayerNetwork engine = Models.network(model);
        ResidentEngine.EpochFit fit;
        try (ResidentEngine e = new ResidentEngine(sc, set, settings(workers, 8, 1, 30, overlap, updater))) {
            fit = e.fitEpoch(engine, 0);
        }
        if (updater == TrainingOptions.UpdaterAveraging.STAGE) {
            float[] got = AveragingOracle.stateVector(engine);
            MultiLayerNetwork reference = AveragingOracle.simulate(() -> Models.network(model), set, workers, 8, 42L,
                0, CONF, AveragingOracle.StateAveraging.LAST_ROUND, overlap);
            double diff = AveragingOracle.maxDifference(got, AveragingOracle.stateVector(reference));
            assertTrue(diff < 1e-5, "max difference to the reference (parameters and updater state) " + diff);
            MultiLayerNetwork everyRound = AveragingOracle.simulate(() -> Models.network(model), set, workers, 8, 42L,
                0, CONF, true, overlap);
            double apart = AveragingOracle.maxDifference(got, AveragingOracle.stateVector(everyRound));
            assertTrue(apart > 1e-4, "averaging the state every round would give a different result: " + apart);
            assertEquals(workers, fit.jvms().size(), "every worker in its own executor JVM: " + fit.jvms());
            return;
        }
        assertEquals(workers, fit.jvms().size(), "every worker in its own executor JVM: " + fit.jvms());
        assertEquals(examples, fit.examples());
        assertEquals(3, fit.rounds());
        MultiLayerNetwork reference = AveragingOracle.simulate(() -> Models.network(model), set, workers, 8, 42L, 0,
            CONF, true, overlap);
        float[] got = AveragingOracle.stateVector(engine);
        float[] want = AveragingOracle.stateVector(reference);
        double diff = AveragingOracle.maxDifference(got, want);
        assertTrue(diff < 1e-5, "max difference to the reference (parameters and updater state) " + diff);
        assertEquals(reference.getIterationCount(), engine.getIterationCount(), "worker 0's iterations");
        assertTrue(AveragingOracle.maxDifference(got, AveragingOracle.stateVector(Models.network(model))) > 1e-3,
            "training moved the weights");
        if (optimizer != Optimizer.SGD) {
            MultiLayerNetwork unaveraged = AveragingOracle.simulate(() -> Models.network(model), set, workers, 8, 42L,
                0, CONF, false);
            double apart = AveragingOracle.maxDifference(got, AveragingOracle.stateVector(unaveraged));
            assertTrue(apart > 1e-4, "not averaging the updater state would give a different result: " + apart);
        }
        if (overlap) {
            MultiLayerNetwork waited = AveragingOracle.simulate(() -> Models.network(model), set, workers, 8, 42L, 0,
                CONF, true, false);
            double apart = AveragingOracle.maxDifference(got, AveragingOracle.stateVector(waited));
            assertTrue(apart > 1e-4, "overlapping changes the rounds' arithmetic: " + apart);
        }
    }

    /**
     * An epoch cut into three stages of one round across the cluster's four executor JVMs, one worker each: from the
     * second stage on, every task goes on with a network its JVM kept from the stage before, whichever worker's task
     * ran there (Spark does not keep worker w on the executor that ran it), and the epoch ends where the reference
     * does. (With more executors than workers, a task that lands on one that ran none the stage before rebuilds.)
     */
    @Order(1)
    @org.junit.jupiter.api.Test
    void keptNetworksGoOnAcrossExecutorJvms() {
        int workers = 4;
        MnistSet set = train.limit(65);
        ModelOptions model = ModelOptions.mlp().withOptimizer(Optimizer.MOMENTUM, 0.05);
        MultiLayerNetwork engine = Models.network(model);
        ResidentEngine.EpochFit fit;
        try (ResidentEngine e = new ResidentEngine(sc, set,
                 settings(workers, 8, 1, 1, 30, false, TrainingOptions.UpdaterAveraging.ROUND))) {
            fit = e.fitEpoch(engine, 0);
        }
        assertEquals(3, fit.stages(), "3 rounds, one a stage");
        assertEquals(workers, fit.jvms().size(), "every worker in its own executor JVM: " + fit.jvms());
        assertEquals(2 * workers, fit.resumedWorkers(), "stages 2 and 3: every task went on with a kept network");
        MultiLayerNetwork reference = AveragingOracle.simulate(() -> Models.network(model), set, workers, 8, 42L, 0,
            CONF, true, false);
        double diff = AveragingOracle.maxDifference(AveragingOracle.stateVector(engine),
            AveragingOracle.stateVector(reference));
        assertTrue(diff < 1e-5, "max difference to the reference (parameters and updater state) " + diff);
        assertEquals(reference.getIterationCount(), engine.getIterationCount(), "worker 0's iterations");
    }

    /**
     * Rounds send nothing to the driver: an epoch of 4 rounds and one of 63 send it about the same number of
     * messages (per stage: task launches and results, the broadcast, the rendezvous), so the messages per round,
     * (m63 - m4) / 59, stay under one. Clock-driven messages (executor heartbeats) are left out; the scheduler's
     * once-a-second offer revival and the context cleaner's removals of earlier broadcasts are not separable and
     * stay in, as noise (a GC before each epoch lets the cleaner catch up first). Before the driver-free exchange every
     * round sent the driver about 4N^2 = 64 messages here (register, look up, remove each block).
     */
    @Test
    @Order(2)
    void roundsSendNoMessageToTheDriver() {
        DriverMessages counter = DriverMessages.install(sc.sc());
        int[] rounds = {1, 4, 63};
        long[] messages = new long[rounds.length];
        java.util.List<Map<String, Long>> seen = new java.util.ArrayList<>();
        for (int i = 0; i < rounds.length; i++) { // the first, 1 round, warms the executors up
            MnistSet set = train.limit(Math.min(TestData.SLICE_TRAIN, rounds[i] * 8 * EXECUTORS));
            System.gc(); // earlier runs' broadcasts: let Spark's context cleaner remove them outside the count
            sleep(1500);
            try (ResidentEngine e = new ResidentEngine(sc, set, settings(EXECUTORS, 8, 1, 30))) {
                Map<String, Long> before = counter.snapshot();
                ResidentEngine.EpochFit fit = e.fitEpoch(Models.network(ModelOptions.mlp()), 0);
                Map<String, Long> during = DriverMessages.difference(before, counter.snapshot());
                seen.add(during);
                assertEquals(rounds[i], fit.rounds());
                assertEquals(EXECUTORS, e.rendezvousMessages(), "one rendezvous message per worker and stage");
                assertEquals((long) EXECUTORS, during.get(e.rendezvousName()), during.toString());
                messages[i] = during.entrySet().stream().filter(m -> !m.getKey().contains("Heartbeat"))
                    .mapToLong(Map.Entry::getValue).sum();
            }
        }
        double perRound = (messages[2] - messages[1]) / (double) (rounds[2] - rounds[1]);
        assertTrue(perRound < 1, "driver messages per round " + perRound + " (4 rounds: " + messages[1] + ", 63: "
            + messages[2] + "): " + seen);
        System.out.println("driver messages per stage by endpoint, epochs of 1, 4 and 63 rounds: " + seen);
        assertTrue(messages[1] < 30 * EXECUTORS, "O(N) driver messages per stage: " + messages[1] + " " + seen);
    }

    /**
     * An executor lost and not replaced: the barrier stage cannot run again with 4 workers on 3 slots, which Spark
     * would wait for without limit; the engine cancels it once the slots have stayed short for the slot wait and
     * fails with one line naming the slots. Runs last: the cluster is one executor short afterwards.
     */
    @Test
    @Order(3)
    void aClusterThatShrinksFailsNamingTheSlots() throws Exception {
        CountDownLatch started = new CountDownLatch(EXECUTORS);
        String[] executor = new String[1];
        SparkListener listener = new SparkListener() {
            @Override
            public void onTaskStart(SparkListenerTaskStart start) {
                executor[0] = start.taskInfo().executorId();
                started.countDown();
            }
        };
        sc.sc().addSparkListener(listener);
        Thread killer = new Thread(() -> {
            try {
                if (started.await(120, TimeUnit.SECONDS)) {
                    Thread.sleep(500);
                    sc.sc().killExecutor(executor[0]); // not replaced: the target number of executors drops
                }
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        });
        killer.start();
        long t0 = System.nanoTime();
        try (ResidentEngine e = new ResidentEngine(sc, train, settings(EXECUTORS, 8, 1, 5))) {
            ClusterShrankException failure = assertThrows(ClusterShrankException.class,
                () -> e.fitEpoch(Models.network(ModelOptions.mlp()), 0));
            assertEquals("the cluster shrank: the resident engine's barrier stage needs 4 task slots at once, but "
                + MASTER + " has offered 3 for 5 s since an executor was lost and not replaced: give the job its"
                + " executors back, or rerun with --num-partitions 3 (and --resume with --checkpoint-dir to keep the"
                + " epochs done)", failure.getMessage());
        } finally {
            sc.sc().removeSparkListener(listener);
            killer.join();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < 120, "failed in bounded time: " + seconds + " s");
    }
}
