package dev.sparkmnist.training.resident;

import java.io.Serializable;

/**
 * What one worker did in one stage attempt that succeeded. A plain class (not a record) so that any Spark
 * serializer, Java or Kryo, can carry it back to the driver as a task result; built by its {@link Builder} as the
 * worker goes.
 */
final class WorkerOutcome implements Serializable {
    private static final long serialVersionUID = 6L;
    final int worker;
    final String jvm;
    final double lossSum;
    final long minibatches;
    final long examples;
    final int rounds;
    final long readNanos;
    final long computeNanos;
    /** Time averaging, waits for peers included. */
    final long exchangeNanos;
    final long waitNanos;
    final long bytesMoved;
    final int iterationCount;
    /** Worker 0 only: the averaged parameters and updater state after the stage's last round; else null. */
    final float[] finalVector;
    /** A probe stage's timings ({@link AutoFrequency#probe}); else null. */
    final long[] probe;
    /**
     * A probe that a span goes on from ({@link AutoFrequency#agree}): the frequency the workers agreed on; else 0.
     */
    final int agreedFrequency;
    /** Whether the worker went on with the network it kept from the previous stage ({@link ResidentNets}). */
    final boolean resumed;
    /** The epoch's last stage: the worker's slice of the test split scored ({@link StageEvaluation}); else null. */
    final dev.sparkmnist.evaluation.PartialEvaluation evaluation;
    /** How long that evaluation took. */
    final long evaluationNanos;

    private WorkerOutcome(Builder b) {
        this.worker = b.worker;
        this.jvm = b.jvm;
        this.lossSum = b.lossSum;
        this.minibatches = b.minibatches;
        this.examples = b.examples;
        this.rounds = b.rounds;
        this.readNanos = b.readNanos;
        this.computeNanos = b.computeNanos;
        this.exchangeNanos = b.exchangeNanos;
        this.waitNanos = b.waitNanos;
        this.bytesMoved = b.bytesMoved;
        this.iterationCount = b.iterationCount;
        this.finalVector = b.finalVector;
        this.probe = b.probe;
        this.agreedFrequency = b.agreedFrequency;
        this.resumed = b.resumed;
        this.evaluation = b.evaluation;
        this.evaluationNanos = b.evaluationNanos;
    }

    /** Collects a worker's figures as it trains. */
    static final class Builder {
        private final int worker;
        private final String jvm;
        private double lossSum;
        private long minibatches;
        private long examples;
        private int rounds;
        private long readNanos;
        private long computeNanos;
        private long exchangeNanos;
        private long waitNanos;
        private long bytesMoved;
        private int iterationCount;
        private float[] finalVector;
        private long[] probe;
        private int agreedFrequency;
        private boolean resumed;
        private dev.sparkmnist.evaluation.PartialEvaluation evaluation;
        private long evaluationNanos;

        Builder(int worker, String jvm) {
            this.worker = worker;
            this.jvm = jvm;
        }

        /** One minibatch fitted. */
        void fitted(double loss, int batchExamples) {
            lossSum += loss;
            minibatches++;
            examples += batchExamples;
        }

        /** One round: time fitting (reading excluded) and averaging. */
        void round(long compute, long exchange) {
            rounds++;
            computeNanos += compute;
            exchangeNanos += exchange;
        }

        /** Averaging outside a round (the stage's last exchange, collected). */
        void exchanged(long exchange) {
            exchangeNanos += exchange;
        }

        /** How long the worker was held up waiting for peers over the stage. */
        void waited(long wait) {
            waitNanos = wait;
        }

        /** Whether the worker went on with its kept network. */
        void resumed(boolean kept) {
            resumed = kept;
        }

        /** The worker's slice of the test split scored, and how long that took. */
        void evaluated(dev.sparkmnist.evaluation.PartialEvaluation partial, long nanos) {
            evaluation = partial;
            evaluationNanos = nanos;
        }

        /** A probe stage's timings ({@link AutoFrequency#probe}). */
        void probe(long[] timings) {
            probe = timings;
        }

        /** The frequency the workers agreed on after the probe, to go on training at. */
        void agreed(int frequency) {
            agreedFrequency = frequency;
        }

        /** Reading and bytes moved over the stage. */
        void io(long read, long bytes) {
            readNanos = read;
            bytesMoved = bytes;
        }

        /** The network's state at the end of the stage. */
        void end(int iterations, float[] vector) {
            iterationCount = iterations;
            finalVector = vector;
        }

        WorkerOutcome build() {
            return new WorkerOutcome(this);
        }
    }
}
