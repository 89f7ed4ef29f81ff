package dev.sparkmnist.data;

import java.util.List;
import java.util.function.IntFunction;
import org.apache.hadoop.conf.Configuration;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The reusing {@link SliceReader}s of one slice, epoch after epoch: the next epoch's reader opens as soon as the caller
 * has fitted an epoch's minibatches ({@link #fitted}), with that epoch's arrays to write into, so its first chunk is
 * read on the reader's thread while the caller evaluates or hands the epoch over, not on the next epoch's clock; the
 * first epoch's opens where the caller asks ({@link #open}), e.g. before it sets its network up. Used by the one-JVM
 * trainer and the resident workers (BENCHMARKS.md, round 36). Not thread-safe: one caller.
 */
public final class EpochReaders implements AutoCloseable {
    private final MnistSet set;
    private final IntFunction<int[]> indices;
    private final int batch;
    private final int examplesPerChunk;
    private final Normalization normalization;
    private final RandomShift shift;
    private final Configuration conf;
    private final int endEpoch;
    private SliceReader ahead;
    private int aheadEpoch = -1;

    /**
     * @param indices each epoch's (0-based) examples in the order to read them
     * @param endEpoch one past the last epoch the caller reads: none is opened ahead for it
     * @see SliceReader#SliceReader(MnistSet, int[], int, int, Normalization, Configuration, boolean, List)
     */
    public EpochReaders(MnistSet set, IntFunction<int[]> indices, int batch, int examplesPerChunk,
                        Normalization normalization, Configuration conf, int endEpoch) {
        this(set, indices, batch, examplesPerChunk, normalization, RandomShift.NONE, conf, endEpoch);
    }

    /**
     * As above, each epoch's pictures moved by {@code shift} at that epoch ({@link RandomShift#atEpoch}).
     *
     * @param shift the run's shift of the training pictures, or {@link RandomShift#NONE}
     */
    public EpochReaders(MnistSet set, IntFunction<int[]> indices, int batch, int examplesPerChunk,
                        Normalization normalization, RandomShift shift, Configuration conf, int endEpoch) {
        this.shift = shift;
        this.set = set;
        this.indices = indices;
        this.batch = batch;
        this.examplesPerChunk = examplesPerChunk;
        this.normalization = normalization;
        this.conf = conf;
        this.endEpoch = endEpoch;
    }

    /** Opens epoch {@code epoch}'s reader now: its first chunk's read starts on the reader's thread. */
    public void open(int epoch) {
        open(epoch, List.of());
    }

    private void open(int epoch, List<List<DataSet>> arrays) {
        close();
        ahead = new SliceReader(set, indices.apply(epoch), batch, examplesPerChunk, normalization,
            shift.atEpoch(epoch), conf, true, arrays);
        aheadEpoch = epoch;
    }

    /** Epoch {@code epoch}'s reader, the one opened ahead or a new one; the caller closes it. */
    public SliceReader take(int epoch) {
        if (aheadEpoch != epoch) {
            open(epoch);
        }
        SliceReader reader = ahead;
        ahead = null;
        aheadEpoch = -1;
        return reader;
    }

    /**
     * Epoch {@code epoch}'s minibatches are fitted with {@code reader} (read to its end): opens the next epoch's
     * reader, if the caller reads one, writing into {@code reader}'s arrays.
     */
    public void fitted(int epoch, SliceReader reader) {
        if (epoch + 1 < endEpoch) {
            open(epoch + 1, reader.handOver());
        } // else the reader gives its arrays to ReaderArrays as it is closed
    }

    /** Closes the reader opened ahead for an epoch that did not run (the caller stopped, or failed), if any. */
    @Override
    public void close() {
        if (ahead != null) {
            ahead.close();
            ahead = null;
            aheadEpoch = -1;
        }
    }
}
