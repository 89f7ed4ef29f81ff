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
}
