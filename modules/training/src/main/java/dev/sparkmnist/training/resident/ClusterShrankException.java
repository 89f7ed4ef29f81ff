package dev.sparkmnist.training.resident;

/** The cluster lost task slots below the workers and did not get them back: the job cannot go on. */
public final class ClusterShrankException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ClusterShrankException(String message) {
        super(message);
    }

    ClusterShrankException(String message, Throwable cause) {
        super(message, cause);
    }
}
