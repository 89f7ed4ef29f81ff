package dev.sparkmnist.training.resident;

import java.io.Serializable;

/**
 * What one worker did in one stage attempt that succeeded. A plain class (not a record) so that any Spark
 * serializer, Java or Kryo, can carry it through the stage's shuffle.
 */
final class WorkerReport implements Serializable {
    private static final long serialVersionUID = 1L;
    final int worker;
    final int stageId;
    final int stageAttempt;
    final String jvm;
    final double lossSum;
    final long minibatches;
    final long examples;
    final int rounds;
    final long readNanos;
    final long computeNanos;
    final long exchangeNanos;
    final long waitNanos;
    final long bytesMoved;
    final int iterationCount;
    /** Worker 0 only: the averaged parameters and updater state after the stage's last round; else null. */
    final float[] finalVector;

    WorkerReport(int worker, int stageId, int stageAttempt, String jvm, double lossSum, long minibatches, long examples,
                 int rounds, long readNanos, long computeNanos, long exchangeNanos, long waitNanos, long bytesMoved,
                 int iterationCount, float[] finalVector) {
        this.worker = worker;
        this.stageId = stageId;
        this.stageAttempt = stageAttempt;
        this.jvm = jvm;
        this.lossSum = lossSum;
        this.minibatches = minibatches;
        this.examples = examples;
        this.rounds = rounds;
        this.readNanos = readNanos;
        this.computeNanos = computeNanos;
        this.exchangeNanos = exchangeNanos;
        this.waitNanos = waitNanos;
        this.bytesMoved = bytesMoved;
        this.iterationCount = iterationCount;
        this.finalVector = finalVector;
    }
}
