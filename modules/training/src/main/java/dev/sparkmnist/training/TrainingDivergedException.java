package dev.sparkmnist.training;

/** Training produced a non-finite loss; the message says where and what to try. */
public class TrainingDivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TrainingDivergedException(String message) {
        super(message);
    }
}
