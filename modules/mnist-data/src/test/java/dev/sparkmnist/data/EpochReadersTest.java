package dev.sparkmnist.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.sparkmnist.data.testing.TestData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@link EpochReaders}: each epoch's reader reads that epoch's order, the next one opens when an epoch is fitted and
 * writes into its arrays, and none opens past the last epoch.
 */
class EpochReadersTest {
    @TempDir
    Path dir;

    private static final int[][] ORDERS = {{3, 11, 0, 7, 5, 9, 1, 10}, {6, 2, 9, 0, 11, 4, 8, 1}, {5, 7, 1, 2, 0, 3, 4, 6}};

    @Test
    void eachEpochsReaderOpensAsTheEpochBeforeIsFittedAndWritesIntoItsArrays() {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 12);
        Configuration conf = new Configuration();
        MnistSet set = MnistSet.trainFrom(dir.toString(), conf);
        List<List<DataSet>> seen = new ArrayList<>();
        try (EpochReaders reads = new EpochReaders(set, e -> ORDERS[e], 2, 4, Normalization.SCALE, conf, 2)) {
            reads.open(0);
            for (int e = 0; e < 2; e++) {
                List<DataSet> expected = MnistBatches.read(set, ORDERS[e], 2, Normalization.SCALE, conf);
                try (SliceReader reader = reads.take(e)) {
                    seen.add(MnistBatchesTest.readAll(reader, expected));
                    reads.fitted(e, reader);
                }
            }
            // epoch 0 read four batches in two chunks: epoch 1's first read wrote into the first chunk's arrays (the
            // finished reader's spare), its second into the second's
            assertSame(seen.get(0).get(0), seen.get(1).get(0));
            assertSame(seen.get(0).get(2), seen.get(1).get(2));
            // epoch 2, past the last one the readers were made for: take opens its reader
            try (SliceReader reader = reads.take(2)) {
                assertEquals(MnistBatches.read(set, ORDERS[2], 2, Normalization.SCALE, conf).get(0).getFeatures(),
                    reader.next().getFeatures());
            }
        }
    }

    @Test
    void aTakeOfAnotherEpochThanTheOneOpenedReadsThatEpoch() {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 12);
        Configuration conf = new Configuration();
        MnistSet set = MnistSet.trainFrom(dir.toString(), conf);
        try (EpochReaders reads = new EpochReaders(set, e -> ORDERS[e], 2, 4, Normalization.SCALE, conf, 3)) {
            reads.open(0);
            try (SliceReader reader = reads.take(1)) {
                List<DataSet> expected = MnistBatches.read(set, ORDERS[1], 2, Normalization.SCALE, conf);
                DataSet first = reader.next();
                assertEquals(expected.get(0).getFeatures(), first.getFeatures());
                assertNotSame(expected.get(0), first);
            }
            try (SliceReader reader = reads.take(2)) {
                for (int i = 0; i < 4; i++) {
                    reader.next();
                }
                assertNull(reader.next(), "eight examples in batches of two");
            }
        }
    }
}
