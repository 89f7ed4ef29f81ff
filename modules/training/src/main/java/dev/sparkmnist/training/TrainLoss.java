package dev.sparkmnist.training;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** The training loss every engine reports per minibatch, comparable with the test loss. */
public final class TrainLoss {
    private TrainLoss() {
    }

    /**
     * The last fitted minibatch's data loss: DL4J's score less the L1/L2 penalty it adds (computed at the parameters
     * after the update, a difference of one step), so that it measures what the test loss measures (the evaluator
     * scores examples without the penalty). Without L1/L2 it is the score itself.
     */
    public static double lastMinibatch(Model model) {
        double score = model.score();
        if (model instanceof MultiLayerNetwork net) {
            return score - net.calcRegularizationScore(true);
        }
        return score;
    }
}
