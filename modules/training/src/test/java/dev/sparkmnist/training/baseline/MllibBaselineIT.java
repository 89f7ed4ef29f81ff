package dev.sparkmnist.training.baseline;

import dev.sparkmnist.training.TrainingOptions;
import dev.sparkmnist.training.TrainingResult;
import dev.sparkmnist.training.EpochListener;
import dev.sparkmnist.training.EpochResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.MnistRdds;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.testing.SparkSlice;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.models.Models;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** MLlib's perceptron on the MNIST slice: its weights copied into DL4J predict exactly what MLlib predicts. */
class MllibBaselineIT {
    @RegisterExtension
    static final SparkSlice SLICE = new SparkSlice("mllib");

    private static Dataset<Row> frame(JavaSparkContext sc, MnistSet set, boolean training) {
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        return spark.createDataFrame(MllibBaseline.rows(training
            ? MnistRdds.trainingEpoch(sc, set, 2, 500, Normalization.STANDARDIZE, 1, 0)
            : MnistRdds.evaluation(sc, set, 2, 500, Normalization.STANDARDIZE)), MllibBaseline.schema());
    }

    @Test
    void copiedWeightsPredictExactlyWhatMllibPredicts() {
        MultilayerPerceptronClassificationModel model =
            MllibBaseline.fit(frame(SLICE.sc(), SLICE.train(), true), 15, 1);
        MultiLayerNetwork net = Models.network(MllibBaseline.equivalentModel(1));
        MllibBaseline.copyWeights(model.weights().toArray(), net);
        List<Row> scored = model.transform(frame(SLICE.sc(), SLICE.test(), false))
            .select("features", "prediction", "probability").collectAsList();
        assertEquals(TestData.SLICE_TEST, scored.size());
        int agree = 0;
        double worst = 0;
        for (Row r : scored) {
            double[] x = ((org.apache.spark.ml.linalg.Vector) r.get(0)).toArray();
            INDArray out = net.output(Nd4j.create(x, new long[] {1, x.length}).castTo(
                org.nd4j.linalg.api.buffer.DataType.FLOAT), false);
            agree += out.argMax(1).getInt(0) == (int) r.getDouble(1) ? 1 : 0;
            double[] p = ((org.apache.spark.ml.linalg.Vector) r.get(2)).toArray();
            for (int c = 0; c < p.length; c++) {
                worst = Math.max(worst, Math.abs(p[c] - out.getDouble(0, c)));
            }
        }
        assertEquals(TestData.SLICE_TEST, agree, "every test prediction the same");
        assertTrue(worst < 1e-4, "probabilities agree to float precision: worst " + worst);
    }

    @Test
    void baselineRunsThroughTheSameEvaluation() {
        TrainingResult r = MllibBaseline.train(SLICE.sc(), SLICE.train(), SLICE.test(), TrainingOptions.defaults(), 30,
            List.of());
        assertEquals(1, r.epochs().size());
        EpochResult e = r.last();
        assertEquals(TestData.SLICE_TRAIN, e.examplesTrained());
        assertEquals(TestData.SLICE_TEST, e.test().examples());
        assertTrue(e.test().accuracy() >= 0.80, "test accuracy " + e.test().accuracy());
        assertTrue(e.minibatches() > 1 && e.minibatches() <= 31, "L-BFGS iterations recorded: " + e.minibatches());
    }
}
