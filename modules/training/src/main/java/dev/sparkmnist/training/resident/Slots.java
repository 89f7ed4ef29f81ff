package dev.sparkmnist.training.resident;

import dev.sparkmnist.data.InvalidInputException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The task slots a barrier stage needs all at once: how many workers to start, a refusal before any work when the
 * cluster cannot start them, and a watch while a stage runs for a cluster that shrank below them (an executor lost
 * and not replaced), which Spark itself would wait on for ever: its barrier retry waits for the slots without a
 * limit.
 */
public final class Slots {
    /** Default seconds the driver waits for enough executor cores to start (or go on running) every worker. */
    public static final long DEFAULT_WAIT_SECONDS = 60;
    /**
     * Spark's own wait for executors to register before it schedules (30 s by default): a longer one given here is
     * the driver's wait too, e.g. for a YARN queue that grants containers slowly.
     */
    public static final String WAIT_SETTING = "spark.scheduler.maxRegisteredResourcesWaitingTime";
    private static final Logger LOG = LoggerFactory.getLogger(Slots.class);
    private static final long POLL_MILLIS = 200;
    /** Seconds the slot count must stay unchanged before the default worker count settles below its target. */
    private static final long SETTLE_SECONDS = 3;

    private Slots() {
    }

    /** Seconds to wait for executors: {@link #DEFAULT_WAIT_SECONDS}, or {@link #WAIT_SETTING} when it is longer. */
    public static long waitSeconds(SparkConf conf) {
        return Math.max(DEFAULT_WAIT_SECONDS, conf.getTimeAsSeconds(WAIT_SETTING, "0s"));
    }

    /**
     * For a cluster master, waits up to {@link #waitSeconds} for the job's first executor and fails with one line
     * when none came: Spark itself would let the first job wait for ever ("Initial job has not accepted any
     * resources"), as DL4J's master, the evaluation and scoring did when no Worker offered what an executor asks for.
     * Local masters have their slots at once; under dynamic allocation executors come when tasks wait for them.
     */
    public static void requireExecutors(JavaSparkContext sc) {
        requireExecutors(sc, waitSeconds(sc.getConf()));
    }

    /** As {@link #requireExecutors(JavaSparkContext)}, waiting {@code waitSeconds}. */
    static void requireExecutors(JavaSparkContext sc, long waitSeconds) {
        if (sc.isLocal() || sc.getConf().getBoolean("spark.dynamicAllocation.enabled", false)) {
            return;
        }
        if (await(sc, 1, waitSeconds) == 0) {
            throw new InvalidInputException(noExecutors(sc, waitSeconds));
        }
    }

    private static String noExecutors(JavaSparkContext sc, long waitSeconds) {
        SparkConf conf = sc.getConf();
        return sc.master() + " gave the job no executor in " + waitSeconds + " s: no worker node has registered, or"
            + " none offers what one executor asks for (" + setting(conf, "spark.executor.cores") + ", "
            + setting(conf, "spark.executor.memory") + " and its overhead): check the cluster manager's UI, lower"
            + " those settings, or raise " + WAIT_SETTING + " to wait longer";
    }

    private static String setting(SparkConf conf, String key) {
        return key + " " + (conf.contains(key) ? conf.get(key) : "unset");
    }

    /** Concurrent task slots of the default resource profile now. */
    static int now(JavaSparkContext sc) {
        return sc.sc().maxNumConcurrentTasks(sc.sc().resourceProfileManager().defaultResourceProfile());
    }

    /**
     * The number of workers for {@code --num-partitions} ({@code requested}; 0 = Spark's default parallelism):
     * a requested number is checked against the task slots when the engine starts; the default waits for executors
     * to register (until the slots reach the default parallelism or stop growing for a few seconds) and is lowered,
     * with a warning, to the slots there are, e.g. in standalone cluster deploy mode, where the driver takes a core.
     */
    public static int workers(JavaSparkContext sc, int requested, long waitSeconds) {
        if (requested > 0) {
            return requested;
        }
        int target = sc.defaultParallelism();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
        int slots = now(sc);
        long stableSince = System.nanoTime();
        while (slots < target && System.nanoTime() < deadline
            && (slots == 0 || System.nanoTime() - stableSince < TimeUnit.SECONDS.toNanos(SETTLE_SECONDS))) {
            sleep();
            requireRunning(sc);
            int n = now(sc);
            if (n != slots) {
                stableSince = System.nanoTime();
                slots = n;
            }
        }
        if (slots == 0) {
            throw new InvalidInputException(noExecutors(sc, waitSeconds)); // not another wait in require
        }
        if (slots < target) {
            LOG.warn("{} offers {} concurrent task slot(s), fewer than its default parallelism {}: training with {}"
                + " resident workers (set --num-partitions to choose)", sc.master(), slots, target, slots);
            return slots;
        }
        return target;
    }

    /**
     * Refuses, with the numbers, a barrier stage the cluster cannot start: Spark itself would re-check every 15 s
     * for 40 tries (10 minutes) before failing. Waits up to {@code waitSeconds} for executors to register.
     */
    static void require(JavaSparkContext sc, int workers, long waitSeconds) {
        requireNoDynamicAllocation(sc.getConf());
        int slots = await(sc, workers, waitSeconds);
        if (slots < workers) {
            throw new InvalidInputException("--num-partitions (" + workers + ") asks for " + workers + " resident"
                + " workers, which must all run at once in one barrier stage, but " + sc.master() + " offers "
                + slots + " concurrent task slot(s) (executor cores / spark.task.cpus "
                + sc.getConf().get("spark.task.cpus", "1") + ")" + (sc.isLocal() ? "" : " after waiting " + waitSeconds
                + " s") + ": lower --num-partitions to at most " + slots + " or give the job more executor cores");
        }
    }

    /** Spark refuses barrier stages under dynamic allocation; say so before any work, naming the setting. */
    static void requireNoDynamicAllocation(SparkConf conf) {
        if (conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            throw new InvalidInputException("spark.dynamicAllocation.enabled is true, but the resident engine runs a"
                + " barrier stage, which Spark does not allow with dynamic allocation: disable it or use"
                + " --engine dl4j");
        }
    }

    /**
     * Before a stage after the first: waits up to {@code waitSeconds} for the slots the stage needs (an executor
     * lost and being replaced), then fails naming them. Spark would check a barrier job's slots every 15 s for 40
     * tries, and a cancelled job group does not reach a job waiting for that check.
     */
    static void awaitForStage(JavaSparkContext sc, int workers, long waitSeconds) {
        int slots = await(sc, workers, waitSeconds);
        if (slots < workers) {
            throw new ClusterShrankException(shrank(sc, workers, slots, waitSeconds));
        }
    }

    private static String shrank(JavaSparkContext sc, int workers, int slots, long waitSeconds) {
        return "the cluster shrank: the resident engine's barrier stage needs " + workers + " task slots at once,"
            + " but " + sc.master() + " has offered " + slots + " for " + waitSeconds + " s since an executor was lost"
            + " and not replaced: give the job its executors back, or rerun with --num-partitions " + slots
            + " (and --resume with --checkpoint-dir to keep the epochs done)";
    }

    /**
     * Watches the slots while a stage of {@code workers} tasks runs under job group {@code group}: when they stay
     * below {@code workers} for {@code waitSeconds} (an executor was lost and nothing replaced it), the job group is
     * cancelled and {@link #shrunk()} says why. Close it when the stage ends.
     */
    static Watch watch(JavaSparkContext sc, String group, int workers, long waitSeconds) {
        return new Watch(sc, group, workers, waitSeconds);
    }

    /** A running watch; see {@link #watch}. */
    static final class Watch implements AutoCloseable {
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "resident-slot-watch");
            t.setDaemon(true);
            return t;
        });
        private volatile String shrunk;
        private long shortSince = -1;

        private Watch(JavaSparkContext sc, String group, int workers, long waitSeconds) {
            if (sc.isLocal()) {
                return; // local[N]: the slots cannot change
            }
            timer.scheduleWithFixedDelay(() -> {
                int slots = now(sc);
                if (slots >= workers) {
                    shortSince = -1;
                } else if (shortSince < 0) {
                    shortSince = System.nanoTime();
                } else if (System.nanoTime() - shortSince > TimeUnit.SECONDS.toNanos(waitSeconds) && shrunk == null) {
                    shrunk = shrank(sc, workers, slots, waitSeconds);
                    sc.cancelJobGroup(group);
                }
            }, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
        }

        /** Why the stage was cancelled, or null when it was not. */
        String shrunk() {
            return shrunk;
        }

        @Override
        public void close() {
            timer.shutdownNow();
        }
    }

    /**
     * Waits up to {@code waitSeconds} for {@code workers} slots and returns the slots there are then; local[N] has
     * fixed slots, so nothing is waited for there.
     */
    private static int await(JavaSparkContext sc, int workers, long waitSeconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
        int slots = now(sc);
        while (slots < workers && !sc.isLocal() && System.nanoTime() < deadline) {
            sleep();
            requireRunning(sc);
            slots = now(sc);
        }
        return slots;
    }

    /**
     * Fails at once when Spark has stopped the context under the job, as a standalone master that never accepted the
     * application does after three tries 20 s apart, instead of waiting out the rest of the slots' deadline and
     * failing then with Spark's "Cannot call methods on a stopped SparkContext".
     */
    static void requireRunning(JavaSparkContext sc) {
        if (sc.sc().isStopped()) {
            throw new SparkStoppedException("Spark stopped the application before " + sc.master() + " gave it"
                + " executors: the cluster manager gave up on it (Spark's log above says why, e.g. \"All masters are"
                + " unresponsive\"): check that --master names a running master of this Spark version");
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for executors", e);
        }
    }
}
