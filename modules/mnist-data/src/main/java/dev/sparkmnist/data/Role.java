package dev.sparkmnist.data;

/** Which MNIST split a data set is. Only {@link #TEST} sets can be evaluated, by construction. */
public enum Role {
    /** The idx {@code train-*} files: used for training only. */
    TRAIN,
    /** The idx {@code t10k-*} files (or a user's own held-out idx files): used for evaluation only. */
    TEST
}
