package dev.sparkmnist.training.baseline;

import dev.sparkmnist.training.Listeners;
import dev.sparkmnist.training.TrainingOptions;
import dev.sparkmnist.training.TrainingResult;
import dev.sparkmnist.training.EpochListener;
import dev.sparkmnist.training.EpochResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.models.ModelOptions;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The single-JVM baseline on the real MNIST slice. */
@Timeout(300)
class LocalTrainerIT {
    @Test
    void mlpBaselineLearns() {
        Configuration conf = new Configuration();
        MnistSet train = MnistSet.trainFrom(TestData.sliceDir(), conf);
        MnistSet test = MnistSet.testFrom(TestData.sliceDir(), conf);
        TrainingResult r = LocalTrainer.train(train, test, ModelOptions.mlp(),
            TrainingOptions.defaults().withEpochs(2), conf, List.of(Listeners.progress(2)));
        assertEquals(2, r.epochs().size());
        assertEquals(1, r.partitions());
        assertEquals(TestData.SLICE_TRAIN, r.last().examplesTrained());
        assertEquals(63, r.last().minibatches(), "ceil(2000/32)");
        assertEquals(2, r.network().getLayerWiseConfigurations().getEpochCount());
        // Floor for 2 epochs of Adam on 2,000 examples; measured about 0.90 here.
        assertTrue(r.last().test().accuracy() >= 0.82, "test accuracy " + r.last().test().accuracy());
    }
}
