package dev.sparkmnist.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.testing.TestData;
import java.nio.file.Path;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@link ReaderArrays}: a reusing reader gives its arrays back as it is closed and the next reader's first chunks
 * are written into them, with the floats a fresh read gives; arrays made ahead are taken the same way; only the
 * shape asked for is taken, and a reader that does not reuse gives nothing back. Minibatches of 3 here, a shape no
 * other test of this module reads, since the pool is the JVM's.
 */
class ReaderArraysTest {
    private static final int BATCH = 3;
    private static final int[] FIRST = {3, 11, 0, 7, 5, 9, 1, 10, 2};
    private static final int[] SECOND = {6, 2, 9, 0, 11, 4, 8, 1, 5};

    @TempDir
    Path dir;
    private MnistSet set;
    private final Configuration conf = new Configuration();

    @BeforeEach
    void tinySet() {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 12);
        set = MnistSet.trainFrom(dir.toString(), conf);
        ReaderArrays.clear();
    }

    @AfterEach
    void letGo() {
        ReaderArrays.clear();
    }

    @Test
    void aClosedReadersArraysAreWhereTheNextReaderWritesItsFirstChunk() {
        Set<DataSet> first = Collections.newSetFromMap(new IdentityHashMap<>());
        try (SliceReader reader = new SliceReader(set, FIRST, BATCH, 2 * BATCH, Normalization.SCALE, conf, true)) {
            first.addAll(MnistBatchesTest.readAll(reader,
                MnistBatches.read(set, FIRST, BATCH, Normalization.SCALE, conf)));
        }
        assertEquals(3, first.size());
        assertEquals(3, ReaderArrays.kept(BATCH, set.pixels()), "the closed reader's three minibatches");
        List<DataSet> expected = MnistBatches.read(set, SECOND, BATCH, Normalization.SCALE, conf);
        try (SliceReader reader = new SliceReader(set, SECOND, BATCH, 2 * BATCH, Normalization.SCALE, conf, true)) {
            List<DataSet> second = MnistBatchesTest.readAll(reader, expected); // the floats of a fresh read
            assertTrue(first.contains(second.get(0)) && first.contains(second.get(1)),
                "the first chunk was written into the arrays given back");
            assertTrue(first.contains(second.get(2)), "and the second chunk into the third");
            assertEquals(0, ReaderArrays.kept(BATCH, set.pixels()), "the reader holds them");
        }
        assertEquals(3, ReaderArrays.kept(BATCH, set.pixels()), "given back again");
    }

    @Test
    void arraysMadeAheadAreTakenByAReadersFirstChunk() throws InterruptedException {
        ReaderArrays.prepare(2, BATCH, set.pixels()).join();
        assertEquals(2, ReaderArrays.kept(BATCH, set.pixels()));
        List<DataSet> made = ReaderArrays.take(5, BATCH, set.pixels());
        assertEquals(2, made.size(), "all there were");
        assertEquals(0, ReaderArrays.kept(BATCH, set.pixels()));
        ReaderArrays.giveBack(made);
        List<DataSet> expected = MnistBatches.read(set, FIRST, BATCH, Normalization.SCALE, conf);
        try (SliceReader reader = new SliceReader(set, FIRST, BATCH, 2 * BATCH, Normalization.SCALE, conf, true)) {
            DataSet d = reader.next();
            assertSame(made.get(0), d);
            assertEquals(expected.get(0).getFeatures(), d.getFeatures());
            assertEquals(expected.get(0).getLabels(), d.getLabels());
        }
    }

    @Test
    void onlyTheShapeAskedForIsTaken() {
        ReaderArrays.giveBack(MnistBatches.read(set, FIRST, BATCH, Normalization.SCALE, conf));
        assertEquals(List.of(), ReaderArrays.take(1, BATCH + 1, set.pixels()));
        assertEquals(List.of(), ReaderArrays.take(1, BATCH, set.pixels() + 1));
        assertEquals(1, ReaderArrays.take(1, BATCH, set.pixels()).size());
    }

    @Test
    void aReaderThatDoesNotReuseNeitherTakesNorGivesBack() throws InterruptedException {
        ReaderArrays.prepare(1, BATCH, set.pixels()).join();
        DataSet made = ReaderArrays.take(1, BATCH, set.pixels()).get(0);
        ReaderArrays.giveBack(List.of(made));
        try (SliceReader reader = new SliceReader(set, FIRST, BATCH, 2 * BATCH, Normalization.SCALE, conf)) {
            // a caller may hold a non-reusing reader's minibatches for as long as it likes
            for (DataSet d = reader.next(); d != null; d = reader.next()) {
                assertNotSame(made, d);
            }
        }
        assertEquals(1, ReaderArrays.kept(BATCH, set.pixels()), "the one made ahead, and none of the reader's");
    }
}
