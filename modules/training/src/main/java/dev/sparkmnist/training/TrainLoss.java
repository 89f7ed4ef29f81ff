package dev.sparkmnist.training;

import dev.sparkmnist.models.Models;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** The training loss every engine reports per minibatch, comparable with the test loss. */
public final class TrainLoss {
    private TrainLoss() {
    }

    /**
     * The last fitted minibatch's data loss: DL4J's score less the L1/L2 penalty it adds, so that it measures what the
     * test loss measures (the evaluator scores examples without the penalty). Without L1/L2 it is the score itself.
     * The penalty is the one DL4J added to that score (before the update) where the network keeps it
     * ({@link Models#scorePenalty}: networks set up by {@code Models.forTraining}); otherwise (DL4J's master builds
     * plain networks) it is computed again, at the parameters after the update, a difference of one step. Computing
     * it again costs a norm per weight array: about 0.2 ms a step for the default LeNet-5.
     */
    public static double lastMinibatch(Model model) {
        double score = model.score();
        if (model instanceof MultiLayerNetwork net) {
            double penalty = Models.scorePenalty(net);
            return score - (Double.isNaN(penalty) ? net.calcRegularizationScore(true) : penalty);
        }
        return score;
    }
}
