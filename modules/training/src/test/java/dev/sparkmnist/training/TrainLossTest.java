package dev.sparkmnist.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.models.Optimizer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class TrainLossTest {
    @Test
    void theTrainLossLeavesOutTheL2PenaltyAsTheTestLossDoes() {
        Nd4j.getRandom().setSeed(7);
        INDArray features = Nd4j.rand(16, 784);
        INDArray labels = Nd4j.zeros(16, 10);
        for (int i = 0; i < 16; i++) {
            labels.putScalar(i, i % 10, 1.0);
        }
        DataSet batch = new DataSet(features, labels);
        // a large SGD step: the penalty after it differs from the one DL4J's score holds (before it)
        ModelOptions withL2 = ModelOptions.mlp().withOptimizer(Optimizer.SGD, 0.5).withRegularisation(0.05, 0);
        MultiLayerNetwork net = Models.network(withL2);
        MultiLayerNetwork same = Models.network(withL2.withRegularisation(0, 0));
        same.setParams(net.params().dup());
        double dataLoss = same.score(batch, false); // the loss of the batch alone, as the evaluator scores it

        net.fit(batch);
        double penalty = net.score() - dataLoss;
        assertTrue(penalty > 1, "DL4J's score holds the L2 penalty: " + net.score() + " vs " + dataLoss);
        // the training step's loss is summed apart from the evaluator's (in Java, in double): equal to float
        // rounding, and far from the loss after the update (below)
        assertEquals(dataLoss, TrainLoss.lastMinibatch(net), 1e-6, "the data loss before the update");
        assertTrue(Math.abs(net.score() - net.calcRegularizationScore(true) - dataLoss) > 1e-3,
            "the penalty after the update would not do: " + (net.score() - net.calcRegularizationScore(true)));

        // DL4J's own network does not keep the penalty: it is computed again, after the update
        MultiLayerNetwork dl4j = new MultiLayerNetwork(Models.configuration(withL2));
        dl4j.init();
        dl4j.setParams(same.params().dup());
        dl4j.fit(batch);
        assertEquals(dl4j.score() - dl4j.calcRegularizationScore(true), TrainLoss.lastMinibatch(dl4j), 1e-9);
        assertEquals(net.score(), dl4j.score(), 1e-4, "the same step");

        MultiLayerNetwork plain = Models.network(ModelOptions.mlp());
        plain.fit(batch);
        assertEquals(plain.score(), TrainLoss.lastMinibatch(plain), 0, "without L2 it is the score itself");
    }
}
