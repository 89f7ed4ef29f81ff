package dev.sparkmnist.training.resident;

/**
 * Spark stopped the job's context while the engine waited for executors: the cluster manager gave up on the
 * application (a standalone master that never accepted its registration: "All masters are unresponsive! Giving up."),
 * so the job cannot go on.
 */
public final class SparkStoppedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public SparkStoppedException(String message) {
        super(message);
    }
}
