package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkmnist.data.testing.SparkTestContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/**
 * A context that Spark stopped under the job (a standalone master that never accepted the application: Spark gives
 * up after three tries 20 s apart) ends the wait for executors at once, with one line, instead of after the slots'
 * deadline with Spark's "Cannot call methods on a stopped SparkContext".
 */
class SlotsIT {
    @Test
    void aContextSparkStoppedEndsTheWaitForExecutors() {
        JavaSparkContext sc = SparkTestContext.local2("slots");
        try {
            Slots.requireRunning(sc); // a running context: nothing to say
        } finally {
            sc.stop();
        }
        SparkStoppedException stopped = assertThrows(SparkStoppedException.class, () -> Slots.requireRunning(sc));
        assertEquals("Spark stopped the application before local[2] gave it executors: the cluster manager gave up on"
            + " it (Spark's log above says why, e.g. \"All masters are unresponsive\"): check that --master names a"
            + " running master of this Spark version", stopped.getMessage());
    }

    /**
     * A cluster that gives the job no executor (here no Worker has the 2 cores each executor asks for) is one line
     * after the wait, naming what an executor asks for: Spark's first job would wait for ever (DL4J's master, the
     * evaluation, scoring), and the resident engine waited twice before saying "lower --num-partitions to at most 0".
     */
    @Test
    void aClusterThatGivesNoExecutorIsOneLineAfterTheWait() {
        JavaSparkContext sc = SparkTestContext.localCluster("no-executor", 1, 1, "spark.executor.cores", "2",
            "spark.scheduler.maxRegisteredResourcesWaitingTime", "1s");
        try {
            long t0 = System.nanoTime();
            var none = assertThrows(dev.sparkmnist.data.InvalidInputException.class,
                () -> Slots.requireExecutors(sc, 3));
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals("local-cluster[1,1,1024] gave the job no executor in 3 s: no worker node has registered, or"
                + " none offers what one executor asks for (spark.executor.cores 2, spark.executor.memory unset and its"
                + " overhead): check the cluster manager's UI, lower those settings, or raise"
                + " spark.scheduler.maxRegisteredResourcesWaitingTime to wait longer", none.getMessage());
            assertEquals(true, seconds >= 2.9 && seconds < 10, seconds + " s");
            assertThrows(dev.sparkmnist.data.InvalidInputException.class, () -> Slots.workers(sc, 0, 1),
                "the resident engine's worker count says the same after its wait, without a second one");
        } finally {
            sc.stop();
        }
        assertEquals(60, Slots.waitSeconds(new org.apache.spark.SparkConf(false)));
        assertEquals(300, Slots.waitSeconds(new org.apache.spark.SparkConf(false).set(Slots.WAIT_SETTING, "5min")));
        assertEquals(60, Slots.waitSeconds(new org.apache.spark.SparkConf(false).set(Slots.WAIT_SETTING, "30s")));
    }
}
