package dev.sparkmnist.training.resident;

import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.RandomShift;
import dev.sparkmnist.runtime.TaskSetup;
import dev.sparkmnist.training.TrainingOptions.UpdaterAveraging;
import java.io.Serializable;

/**
 * What the engine needs beyond the data.
 *
 * @param workers workers (tasks of each barrier stage)
 * @param batch examples per minibatch on each worker
 * @param frequency minibatches per worker between averagings, or {@link dev.sparkmnist.training.TrainingOptions#AUTO_AVERAGING}
 * @param roundsPerStage averaging rounds per stage (0 = whole epochs, {@link ResidentEngine#fitEpoch})
 * @param normalization pixel normalisation
 * @param seed seed of the epoch order
 * @param setup the ND4J and GPU set-up each worker task applies first
 * @param exchangeTimeoutSeconds how long a worker waits for a peer's parameters
 * @param slotWaitSeconds how long to wait for enough task slots before refusing
 * @param overlap exchange each round while the next is fitted ({@link OverlappedExchange})
 * @param updaterAveraging when the updater state is averaged: in every round, or in a stage's last round only (the
 *     other rounds exchange the parameters alone)
 * @param randomShift the most pixels each training picture is moved by along each axis, a new shift each epoch
 *     ({@link RandomShift}; 0 = none)
 */
public record ResidentSettings(int workers, int batch, int frequency, int roundsPerStage, Normalization normalization,
                       long seed, TaskSetup setup, long exchangeTimeoutSeconds,
                       long slotWaitSeconds, boolean overlap, UpdaterAveraging updaterAveraging, int randomShift)
    implements Serializable {
    /** As above, the pictures as they are (no random shift). */
    public ResidentSettings(int workers, int batch, int frequency, int roundsPerStage, Normalization normalization,
                            long seed, TaskSetup setup, long exchangeTimeoutSeconds, long slotWaitSeconds,
                            boolean overlap, UpdaterAveraging updaterAveraging) {
        this(workers, batch, frequency, roundsPerStage, normalization, seed, setup, exchangeTimeoutSeconds,
            slotWaitSeconds, overlap, updaterAveraging, 0);
    }

    /** The run's shift of the training pictures, for {@link dev.sparkmnist.data.EpochReaders} (each epoch's). */
    RandomShift shift() {
        return RandomShift.of(randomShift, seed);
    }
}
