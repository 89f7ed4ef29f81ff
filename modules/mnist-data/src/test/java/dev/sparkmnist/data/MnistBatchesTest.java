package dev.sparkmnist.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sparkmnist.data.testing.TestData;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

class MnistBatchesTest {
    @TempDir
    Path dir;

    @Test
    void batchesFollowTheRequestedOrderWithExactValues() {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 12);
        MnistSet set = MnistSet.trainFrom(dir.toString(), new Configuration());
        List<DataSet> batches = MnistBatches.read(set, new int[] {11, 0, 5, 3, 7}, 2, Normalization.SCALE,
            new Configuration());
        assertEquals(3, batches.size());
        assertArrayEquals(new long[] {2, 4}, batches.get(0).getFeatures().shape());
        assertArrayEquals(new long[] {1, 4}, batches.get(2).getFeatures().shape());
        // example 11: pixels 44..47 scaled by 1/255; label 1
        assertArrayEquals(new float[] {44 / 255f, 45 / 255f, 46 / 255f, 47 / 255f},
            batches.get(0).getFeatures().getRow(0).toFloatVector(), 1e-7f);
        assertArrayEquals(new float[] {0, 1, 0, 0, 0, 0, 0, 0, 0, 0},
            batches.get(0).getLabels().getRow(0).toFloatVector());
        // example 7 (last, alone): label 7
        assertEquals(7, batches.get(2).getLabels().getRow(0).argMax().getInt(0));
    }

    @Test
    void standardizeUsesMnistMeanAndStd() {
        assertEquals((0f - 0.1307f) / 0.3081f, Normalization.STANDARDIZE.apply((byte) 0), 1e-6f);
        assertEquals((1f - 0.1307f) / 0.3081f, Normalization.STANDARDIZE.apply((byte) 255), 1e-6f);
        assertEquals(128 / 255f, Normalization.SCALE.apply((byte) 128), 1e-7f);
    }
}
