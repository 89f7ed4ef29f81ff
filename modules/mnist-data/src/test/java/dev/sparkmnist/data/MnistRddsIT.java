package dev.sparkmnist.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkmnist.data.testing.SparkTestContext;
import dev.sparkmnist.data.testing.TestData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

/** Partitions read their own slices on the executors; epochs reshuffle; nothing is lost or duplicated. */
class MnistRddsIT {
    private static JavaSparkContext sc;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        sc = SparkTestContext.local2("MnistRddsIT");
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    /** The tiny set's pixel 0 of example i is 4 i (for i < 64), so i is recoverable from the scaled feature. */
    private static List<Integer> exampleIds(JavaRDD<DataSet> rdd) {
        List<Integer> ids = new ArrayList<>();
        for (DataSet ds : rdd.collect()) {
            for (int r = 0; r < ds.numExamples(); r++) {
                ids.add(Math.round(ds.getFeatures().getFloat(r, 0) * 255f) / 4);
            }
        }
        return ids;
    }

    @Test
    void everyExampleAppearsOnceAndPartitionsHoldTheirSlices() {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60);
        MnistSet set = MnistSet.trainFrom(dir.toString(), new Configuration());
        JavaRDD<DataSet> rdd = MnistRdds.trainingEpoch(sc, set, 3, 8, Normalization.SCALE, 7L, 0);
        assertEquals(3, rdd.getNumPartitions());
        List<Integer> ids = exampleIds(rdd);
        assertEquals(60, ids.size());
        assertEquals(60, ids.stream().distinct().count(), "an example was duplicated");
        // 20 examples per partition in batches of 8: 8, 8, 4 -> 9 DataSets in all
        assertEquals(9L, rdd.count());
        List<Integer> sizes = rdd.map(DataSet::numExamples).collect();
        assertEquals(List.of(8, 8, 4, 8, 8, 4, 8, 8, 4), sizes);
    }

    @Test
    void epochsAreReshuffledDeterministically() {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60);
        MnistSet set = MnistSet.trainFrom(dir.toString(), new Configuration());
        List<Integer> e0 = exampleIds(MnistRdds.trainingEpoch(sc, set, 2, 10, Normalization.SCALE, 7L, 0));
        List<Integer> e0again = exampleIds(MnistRdds.trainingEpoch(sc, set, 2, 10, Normalization.SCALE, 7L, 0));
        List<Integer> e1 = exampleIds(MnistRdds.trainingEpoch(sc, set, 2, 10, Normalization.SCALE, 7L, 1));
        assertEquals(e0, e0again);
        assertNotEquals(e0, e1);
        assertEquals(e0.stream().sorted().toList(), e1.stream().sorted().toList());
    }

    /**
     * A shifted epoch's partitions hold the pictures a direct read of their slices with the epoch's shift gives
     * ({@link RandomShift}: the same on every executor), and they differ from the unshifted epoch's.
     */
    @Test
    void aShiftedEpochsPartitionsHoldTheirSlicesPicturesMovedByTheEpochsShift() {
        Configuration conf = new Configuration();
        MnistSet set = MnistSet.trainFrom(TestData.sliceDir(), conf).limit(200);
        RandomShift shift = new RandomShift(2, 7L, 0);
        List<DataSet> shifted = MnistRdds.trainingEpoch(sc, set, 2, 32, Normalization.STANDARDIZE, shift, 7L, 1, null)
            .collect();
        List<DataSet> plain = MnistRdds.trainingEpoch(sc, set, 2, 32, Normalization.STANDARDIZE, 7L, 1).collect();
        int[] order = PartitionPlan.epochOrder(set.size(), 7L, 1);
        List<DataSet> expected = new ArrayList<>();
        for (Slice slice : PartitionPlan.balanced(set.size(), 2)) {
            expected.addAll(MnistBatches.read(set, MnistBatches.positions(order, slice.start(), slice.end()), 32,
                Normalization.STANDARDIZE, shift.atEpoch(1), conf, List.of()));
        }
        assertEquals(expected.size(), shifted.size());
        for (int b = 0; b < expected.size(); b++) {
            assertEquals(expected.get(b).getFeatures(), shifted.get(b).getFeatures(), "minibatch " + b);
            assertEquals(expected.get(b).getLabels(), shifted.get(b).getLabels(), "minibatch " + b);
            assertEquals(plain.get(b).getLabels(), shifted.get(b).getLabels(), "the same examples, in the same order");
        }
        assertNotEquals(plain.get(0).getFeatures(), shifted.get(0).getFeatures(), "the pictures moved");
    }

    @Test
    void evaluationRddKeepsFileOrderAndRefusesTrainingData() {
        MnistSet test = MnistSet.testFrom(TestData.sliceDir(), new Configuration());
        JavaRDD<DataSet> rdd = MnistRdds.evaluation(sc, test, 2, 100, Normalization.STANDARDIZE);
        assertEquals(TestData.SLICE_TEST, rdd.map(DataSet::numExamples).reduce(Integer::sum));
        // the first t10k label is a 7
        assertEquals(7, rdd.first().getLabels().getRow(0).argMax().getInt(0));
        MnistSet train = MnistSet.trainFrom(TestData.sliceDir(), new Configuration());
        assertThrows(IllegalArgumentException.class,
            () -> MnistRdds.evaluation(sc, train, 2, 100, Normalization.STANDARDIZE));
        assertThrows(IllegalArgumentException.class,
            () -> MnistRdds.trainingEpoch(sc, test, 2, 100, Normalization.STANDARDIZE, 1L, 0));
    }
}
