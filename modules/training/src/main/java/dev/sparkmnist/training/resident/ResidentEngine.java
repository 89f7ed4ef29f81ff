package dev.sparkmnist.training.resident;

import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.runtime.TaskSetup;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SerializableWritable;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import org.apache.spark.storage.BlockId;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Driver side of the resident-workers engine. Each epoch runs as one Spark barrier stage (or several, with
 * {@code roundsPerStage}) of {@code workers} tasks started together; each task is a {@link WorkerTask} that keeps
 * its network resident for the whole stage and averages with its peers every {@code frequency} minibatches through
 * the BlockManager ({@link BlockExchange}). The update rule is DL4J's parameter averaging (mean of parameters and
 * updater state over the workers that trained in the round), without a Spark job per round.
 *
 * <p>Faults: the barrier stage feeds a one-partition shuffle, so it is a shuffle-map stage, which Spark retries as a
 * whole when any of its tasks fails (an executor killed, a task error), up to {@code spark.stage.maxConsecutiveAttempts}
 * (Spark aborts a failed barrier <em>result</em> stage instead). Every attempt starts again from the parameters
 * broadcast at the start of the stage, and only the successful attempt's reports reach the driver, so no example
 * is counted twice. The work lost is at most one stage: one epoch by default, {@code roundsPerStage} rounds when set.
 */
public final class ResidentEngine {
    private static final Logger LOG = LoggerFactory.getLogger(ResidentEngine.class);
    /** Default seconds a worker waits for a peer's parameters before failing the stage attempt. */
    public static final long DEFAULT_EXCHANGE_TIMEOUT_SECONDS = 600;
    /** Default seconds the driver waits for enough executor cores to start every worker at once. */
    public static final long DEFAULT_SLOT_WAIT_SECONDS = 60;
    private static final long SLOT_POLL_MILLIS = 200;
    /** Seconds the slot count must stay unchanged before the default worker count settles below its target. */
    private static final long SETTLE_SECONDS = 3;

    private final JavaSparkContext sc;
    private final MnistSet train;
    private final Settings settings;
    private final String runPrefix;
    private final Broadcast<SerializableWritable<Configuration>> hadoop;
    /** Examples fitted, added to by the workers after each minibatch: progress within an epoch. */
    private final org.apache.spark.util.LongAccumulator examplesFitted;

    /**
     * What the engine needs beyond the data.
     *
     * @param workers workers (tasks of each barrier stage)
     * @param batch examples per minibatch on each worker
     * @param frequency minibatches per worker between averagings
     * @param roundsPerStage averaging rounds per stage (0 = one stage per epoch)
     * @param normalization pixel normalisation
     * @param seed seed of the epoch order
     * @param setup the ND4J and GPU set-up each worker task applies first
     * @param exchangeTimeoutSeconds how long a worker waits for a peer's parameters
     * @param slotWaitSeconds how long to wait for enough task slots before refusing
     */
    public record Settings(int workers, int batch, int frequency, int roundsPerStage, Normalization normalization,
                           long seed, TaskSetup setup, long exchangeTimeoutSeconds,
                           long slotWaitSeconds) implements Serializable {
    }

    /**
     * What an epoch's training pass did.
     *
     * @param lossSum sum of the minibatch losses
     * @param minibatches minibatches fitted (all workers)
     * @param examples examples fitted (all workers): the training set size when every example was fitted once
     * @param rounds averaging rounds
     * @param stages stages the epoch ran as
     * @param stageAttempts stage attempts, more than {@code stages} when a stage was retried
     * @param computeSeconds mean over workers of the time spent fitting minibatches
     * @param exchangeSeconds mean over workers of the time spent averaging (including waiting for peers)
     * @param waitSeconds mean over workers of the part of {@code exchangeSeconds} spent waiting for peers' blocks
     * @param readSeconds mean over workers of the time spent reading their slices
     * @param bytesPerRound mean over workers of the bytes each published and fetched per round
     * @param jvms the JVMs (pid@host) that ran the workers
     */
    public record EpochFit(double lossSum, long minibatches, long examples, int rounds, int stages,
                           int stageAttempts, double computeSeconds, double exchangeSeconds, double waitSeconds,
                           double readSeconds,
                           long bytesPerRound, Set<String> jvms) {
    }

    public ResidentEngine(JavaSparkContext sc, MnistSet train, Settings settings) {
        if (settings.workers() <= 0) {
            throw new IllegalArgumentException("workers (" + settings.workers() + ") must be > 0");
        }
        this.sc = sc;
        this.train = train;
        this.settings = settings;
        this.runPrefix = "smnist-" + UUID.randomUUID().toString().substring(0, 8);
        this.hadoop = sc.broadcast(new SerializableWritable<>(sc.hadoopConfiguration()));
        this.examplesFitted = sc.sc().longAccumulator("resident examples fitted");
        requireSlots(sc, settings.workers(), settings.slotWaitSeconds());
    }

    /**
     * The number of workers for {@code --num-partitions} ({@code requested}; 0 = Spark's default parallelism):
     * a requested number is checked against the task slots ({@link #requireSlots}); the default waits for executors
     * to register (until the slots reach the default parallelism or stop growing for a few seconds) and is lowered,
     * with a warning, to the slots there are, e.g. in standalone cluster deploy mode, where the driver takes a core.
     */
    public static int workers(JavaSparkContext sc, int requested, long waitSeconds) {
        if (requested > 0) {
            return requested;
        }
        int target = sc.defaultParallelism();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
        int slots = slots(sc);
        long stableSince = System.nanoTime();
        while (slots < target && System.nanoTime() < deadline
            && (slots == 0 || System.nanoTime() - stableSince < TimeUnit.SECONDS.toNanos(SETTLE_SECONDS))) {
            sleep();
            int now = slots(sc);
            if (now != slots) {
                stableSince = System.nanoTime();
                slots = now;
            }
        }
        if (slots == 0) {
            return target; // requireSlots reports it with the numbers
        }
        if (slots < target) {
            LOG.warn("{} offers {} concurrent task slot(s), fewer than its default parallelism {}: training with {}"
                + " resident workers (set --num-partitions to choose)", sc.master(), slots, target, slots);
            return slots;
        }
        return target;
    }

    private static void sleep() {
        try {
            Thread.sleep(SLOT_POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for executors", e);
        }
    }

    /**
     * Refuses, with the numbers, a barrier stage the cluster cannot start: Spark itself would re-check every 15 s
     * for 40 tries (10 minutes) before failing. Waits up to {@code waitSeconds} for executors to register.
     */
    static void requireSlots(JavaSparkContext sc, int workers, long waitSeconds) {
        requireNoDynamicAllocation(sc.getConf());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
        int slots = slots(sc);
        boolean local = sc.isLocal(); // local[N]: the slots are fixed, nothing to wait for
        while (slots < workers && !local && System.nanoTime() < deadline) {
            sleep();
            slots = slots(sc);
        }
        if (slots < workers) {
            throw new InvalidInputException("--num-partitions (" + workers + ") asks for " + workers + " resident"
                + " workers, which must all run at once in one barrier stage, but " + sc.master() + " offers "
                + slots + " concurrent task slot(s) (executor cores / spark.task.cpus "
                + sc.getConf().get("spark.task.cpus", "1") + ")" + (local ? "" : " after waiting " + waitSeconds
                + " s") + ": lower --num-partitions to at most " + slots + " or give the job more executor cores");
        }
    }

    /** Spark refuses barrier stages under dynamic allocation; say so before any work, naming the setting. */
    static void requireNoDynamicAllocation(org.apache.spark.SparkConf conf) {
        if (conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            throw new InvalidInputException("spark.dynamicAllocation.enabled is true, but the resident engine runs a"
                + " barrier stage, which Spark does not allow with dynamic allocation: disable it or use"
                + " --engine dl4j");
        }
    }

    private static int slots(JavaSparkContext sc) {
        return sc.sc().maxNumConcurrentTasks(sc.sc().resourceProfileManager().defaultResourceProfile());
    }

    /**
     * The examples counter the workers add to after each minibatch; Spark sends running tasks' values with executor
     * heartbeats, so the driver can show progress within a stage.
     */
    public org.apache.spark.util.LongAccumulator examplesFitted() {
        return examplesFitted;
    }

    /**
     * Trains {@code net} for one epoch ({@code epoch} 0-based, which fixes the example order) and leaves the
     * averaged parameters and updater state in it.
     */
    public EpochFit fitEpoch(MultiLayerNetwork net, int epoch) {
        StagePlan plan = StagePlan.of(train.size(), settings.workers(), settings.batch(), settings.frequency(),
            settings.roundsPerStage());
        double lossSum = 0;
        long minibatches = 0;
        long examples = 0;
        int attempts = 0;
        double compute = 0;
        double exchange = 0;
        double wait = 0;
        double read = 0;
        long bytes = 0;
        Set<String> jvms = new TreeSet<>();
        for (int stage = 0; stage < plan.stages(); stage++) {
            List<WorkerReport> reports = runStage(net, plan, stage, epoch);
            WorkerReport first = reports.get(0);
            NetState.apply(net, first.finalVector);
            net.setIterationCount(first.iterationCount);
            attempts += first.stageAttempt + 1;
            for (WorkerReport r : reports) {
                lossSum += r.lossSum;
                minibatches += r.minibatches;
                examples += r.examples;
                compute += r.computeNanos / 1e9 / reports.size();
                exchange += r.exchangeNanos / 1e9 / reports.size();
                wait += r.waitNanos / 1e9 / reports.size();
                read += r.readNanos / 1e9 / reports.size();
                bytes += r.bytesMoved / reports.size();
                jvms.add(r.jvm);
            }
        }
        net.incrementEpochCount();
        int rounds = plan.rounds();
        return new EpochFit(lossSum, minibatches, examples, rounds, plan.stages(), attempts, compute, exchange, wait, read,
            rounds == 0 ? 0 : bytes / rounds, jvms);
    }

    private List<WorkerReport> runStage(MultiLayerNetwork net, StagePlan plan, int stage, int epoch) {
        Broadcast<NetState> state = sc.broadcast(NetState.of(net));
        List<Integer> ids = new ArrayList<>();
        for (int w = 0; w < plan.workers(); w++) {
            ids.add(w);
        }
        WorkerTask task = new WorkerTask(state, hadoop, train, plan, stage, settings.normalization(), settings.seed(),
            epoch, settings.setup(), runPrefix, settings.exchangeTimeoutSeconds(), examplesFitted);
        ClassTag<WorkerReport> tag = ClassTag$.MODULE$.apply(WorkerReport.class);
        RDD<WorkerReport> trained = sc.parallelize(ids, plan.workers()).rdd().barrier()
            .mapPartitions(task, false, tag);
        sc.setJobDescription("resident workers: epoch " + (epoch + 1) + ", stage " + (stage + 1) + "/"
            + plan.stages());
        try {
            // The one-partition shuffle makes the barrier stage a shuffle-map stage, which Spark retries as a whole.
            List<WorkerReport> reports = new ArrayList<>(JavaRDD.fromRDD(trained, tag).repartition(1).collect());
            reports.sort(java.util.Comparator.comparingInt(r -> r.worker));
            if (reports.size() != plan.workers() || reports.get(0).worker != 0 || reports.get(0).finalVector == null) {
                throw new IllegalStateException("stage " + stage + " of epoch " + (epoch + 1) + " returned "
                    + reports.size() + " worker reports, expected " + plan.workers());
            }
            // The last round's averaged slices are the only blocks a successful attempt leaves.
            removeBlocks(BlockExchange.stagePrefix(runPrefix, reports.get(0).stageId, reports.get(0).stageAttempt),
                plan.endRound(stage) - 1, plan.workers(), sc.isLocal());
            if (reports.get(0).stageAttempt > 0) {
                LOG.warn("epoch {} stage {} succeeded on attempt {}: earlier attempts failed and were discarded",
                    epoch + 1, stage + 1, reports.get(0).stageAttempt + 1);
            }
            return reports;
        } finally {
            sc.setJobDescription(null);
            state.destroy();
        }
    }

    /**
     * Removes the averaged slices of a stage attempt's last round by name. (Spark's
     * {@code BlockManagerMaster.getMatchingBlockIds} is not used: its driver side iterates a map that block updates
     * change concurrently, measured failing with ConcurrentModificationException; and asking the executors ships the
     * filter to RPC threads that cannot load application classes.)
     */
    private static void removeBlocks(String prefix, int lastRound, int workers, boolean local) {
        SparkEnv env = SparkEnv.get();
        for (int owner = 0; owner < workers; owner++) {
            BlockId id = BlockExchange.averagedBlock(prefix, lastRound, owner);
            if (local) {
                env.blockManager().removeBlock(id, false); // local mode: held here, never reported
            } else {
                env.blockManager().master().removeBlock(id);
            }
        }
    }

    /** Test seam for fault injection in local mode; does nothing unless a test installs a hook. */
    static final class FaultHook {
        /** Called by workers; may throw to simulate a failure. */
        interface Hook {
            void afterRound(int worker, int attempt, int round);
        }

        static volatile Hook hook;

        private FaultHook() {
        }

        static void afterRound(int worker, int attempt, int round) {
            Hook h = hook;
            if (h != null) {
                h.afterRound(worker, attempt, round);
            }
        }
    }
}
