package dev.sparkmnist.training;

/**
 * Progress within an epoch, in examples fitted: the trainers report it (per minibatch in one JVM; from Spark's
 * accumulator updates, which executors send with their heartbeats, on a cluster), a display shows it. Calls may come
 * from any thread, never concurrently for one epoch.
 */
public interface EpochProgress {
    /** Shows nothing. */
    EpochProgress NONE = new EpochProgress() {
        @Override
        public void start(int epoch, int epochs, long totalExamples) {
        }

        @Override
        public void update(long examplesDone) {
        }

        @Override
        public void finish() {
        }
    };

    /** An epoch (1-based, of {@code epochs}) starts; it will fit {@code totalExamples}. */
    void start(int epoch, int epochs, long totalExamples);

    /**
     * Examples fitted so far in this epoch. May go down when a failed stage is retried (its work is redone).
     */
    void update(long examplesDone);

    /** The epoch's training pass ended (evaluation follows). */
    void finish();
}
