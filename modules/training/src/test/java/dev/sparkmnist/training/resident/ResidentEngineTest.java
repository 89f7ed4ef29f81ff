package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;

/** The one line the engine logs when it retries a failed stage attempt. */
class ResidentEngineTest {
    @Test
    void theReasonIsTheTasksOwnFailureNotSparksHeadline() {
        // the shape of Spark 3.5's message for a failed barrier result stage (the remote trace after the cause)
        SparkException e = new SparkException("Job aborted due to stage failure: Could not recover from a failed"
            + " barrier ResultStage. Most recent failure reason: Stage failed because barrier task ResultTask(3, 1)"
            + " finished unsuccessfully.\njava.lang.IllegalStateException: worker 0 waited 120 s for round 7's slice"
            + " from worker 1\n\tat dev.sparkmnist.training.resident.Inbox.take(Inbox.java:80)\n\n"
            + "Driver stacktrace:\n\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages");
        assertEquals("java.lang.IllegalStateException: worker 0 waited 120 s for round 7's slice from worker 1",
            ResidentEngine.reason(e));
    }

    @Test
    void anExecutorLostIsNamed() {
        SparkException e = new SparkException("Job aborted due to stage failure: Could not recover from a failed"
            + " barrier ResultStage. Most recent failure reason: Stage failed because barrier task ResultTask(5, 0)"
            + " finished unsuccessfully.\nExecutorLostFailure (executor 1 exited caused by one of the running tasks)"
            + " Reason: Command exited with code 137");
        assertTrue(ResidentEngine.reason(e).startsWith("ExecutorLostFailure (executor 1 exited"),
            ResidentEngine.reason(e));
    }

    @Test
    void aOneLineMessageIsKeptAndALongOneCut() {
        assertEquals("Job 4 cancelled", ResidentEngine.reason(new SparkException("Job 4 cancelled")));
        assertEquals("null", ResidentEngine.reason(new IllegalStateException()));
        String cut = ResidentEngine.reason(new SparkException("x".repeat(1000)));
        assertEquals(303, cut.length(), "300 characters and an ellipsis");
        assertTrue(cut.endsWith("..."));
    }
}
