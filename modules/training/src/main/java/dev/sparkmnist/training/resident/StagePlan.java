package dev.sparkmnist.training.resident;

import dev.sparkmnist.data.PartitionPlan;
import dev.sparkmnist.data.Slice;
import java.io.Serializable;
import java.util.List;

/**
 * How one epoch is cut for the resident engine: worker {@code w} trains on slice {@code w} of the epoch's example
 * order ({@link PartitionPlan#balanced}), in minibatches of {@code batch}; every {@code frequency} minibatches is one
 * averaging round; {@code roundsPerStage} rounds make one Spark stage (0 = the whole epoch in one stage). Slices
 * differ by at most one example, so a worker may have one minibatch fewer than another in the last round; it then
 * takes part in the averaging with weight 0.
 *
 * @param examples examples in the epoch
 * @param workers workers, each one task of the barrier stage
 * @param batch examples per minibatch
 * @param frequency minibatches per averaging round
 * @param roundsPerStage rounds per stage, 0 = all
 * @param slices each worker's positions in the epoch order
 */
record StagePlan(int examples, int workers, int batch, int frequency, int roundsPerStage, List<Slice> slices)
    implements Serializable {

    static StagePlan of(int examples, int workers, int batch, int frequency, int roundsPerStage) {
        return new StagePlan(examples, workers, batch, frequency, roundsPerStage,
            List.copyOf(PartitionPlan.balanced(examples, workers)));
    }

    /** Minibatches worker {@code w} fits in the epoch. */
    int minibatches(int w) {
        return (slices.get(w).size() + batch - 1) / batch;
    }

    /** Averaging rounds in the epoch: every worker takes part in each. */
    int rounds() {
        int most = 0;
        for (int w = 0; w < workers; w++) {
            most = Math.max(most, minibatches(w));
        }
        return (most + frequency - 1) / frequency;
    }

    /** Stages in the epoch. */
    int stages() {
        return roundsPerStage == 0 ? 1 : (rounds() + roundsPerStage - 1) / roundsPerStage;
    }

    /** First round of stage {@code s}. */
    int firstRound(int s) {
        return roundsPerStage == 0 ? 0 : s * roundsPerStage;
    }

    /** One past the last round of stage {@code s}. */
    int endRound(int s) {
        return roundsPerStage == 0 ? rounds() : Math.min(rounds(), (s + 1) * roundsPerStage);
    }

    /** Positions {@code [from, to)} of the epoch order that worker {@code w} trains on in stage {@code s}. */
    int[] positions(int w, int s) {
        Slice slice = slices.get(w);
        long perRound = (long) frequency * batch;
        int from = (int) Math.min(slice.end(), slice.start() + firstRound(s) * perRound);
        int to = (int) Math.min(slice.end(), slice.start() + endRound(s) * perRound);
        return new int[] {from, to};
    }
}
