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
        // a tiny SGD step, so the parameters after the step (where the penalty is taken) are those before it
        ModelOptions withL2 = ModelOptions.mlp().withOptimizer(Optimizer.SGD, 1e-6).withRegularisation(0.05, 0);
        MultiLayerNetwork net = Models.network(withL2);
        MultiLayerNetwork same = Models.network(withL2.withRegularisation(0, 0));
        same.setParams(net.params().dup());
        double dataLoss = same.score(batch, false); // the loss of the batch alone, as the evaluator scores it

        net.fit(batch);
        double penalty = net.score() - dataLoss;
        assertTrue(penalty > 1, "DL4J's score holds the L2 penalty: " + net.score() + " vs " + dataLoss);
        assertEquals(dataLoss, TrainLoss.lastMinibatch(net), 1e-4);

        MultiLayerNetwork plain = Models.network(ModelOptions.mlp());
        plain.fit(batch);
        assertEquals(plain.score(), TrainLoss.lastMinibatch(plain), 0, "without L2 it is the score itself");
    }
}
