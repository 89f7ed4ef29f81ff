package dev.sparkmnist.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One forward pass for predictions and losses gives what DL4J's {@code output} and {@code scoreExamples} give, one
 * after the other: the same confusion matrix and the same loss to the last bit.
 */
class PartialEvaluationTest {
    /** Seeded pictures (28x28 in [-0.5, 1.5)) and labels of {@code n} examples. */
    private static DataSet batch(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray features = Nd4j.rand(DataType.FLOAT, n, 784).muli(2).subi(0.5);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, n, 10);
        java.util.Random random = new java.util.Random(seed);
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, random.nextInt(10), 1f);
        }
        return new DataSet(features, labels);
    }

    /** A network trained for a few steps, so that its predictions are neither uniform nor all one class. */
    private static MultiLayerNetwork trained(ModelOptions options) {
        MultiLayerNetwork net = Models.network(options);
        for (int step = 0; step < 5; step++) {
            net.fit(batch(32, 100 + step));
        }
        return net;
    }

    /** The two DL4J calls the evaluation made before: the reference. */
    private static void assertSameAsTwoPasses(MultiLayerNetwork net, DataSet... batches) {
        PartialEvaluation ours = new PartialEvaluation(10);
        Evaluation reference = new Evaluation(10);
        double referenceLoss = 0;
        long referenceExamples = 0;
        for (DataSet b : batches) {
            ours.add(net, b);
            reference.eval(b.getLabels(), net.output(b.getFeatures(), false));
            for (double loss : net.scoreExamples(b, false).toDoubleVector()) {
                referenceLoss += loss;
                referenceExamples++;
            }
        }
        EvaluationReport report = ours.report();
        assertEquals(referenceExamples, report.examples());
        long[][] confusion = new long[10][10];
        for (int actual = 0; actual < 10; actual++) {
            for (int predicted = 0; predicted < 10; predicted++) {
                confusion[actual][predicted] = reference.getConfusionMatrix().getCount(actual, predicted);
            }
        }
        assertArrayEquals(confusion, report.confusion());
        assertEquals(referenceLoss / referenceExamples, report.loss(), 0.0, "the same losses to the last bit");
        assertTrue(report.accuracy() > 0 && report.accuracy() < 1, "a non-trivial network: " + report.accuracy());
    }

    @Test
    void lenetTeachingAndDefaultJobAndTheMlp() {
        for (ModelOptions options : new ModelOptions[] {ModelOptions.lenet(), ModelOptions.mlp(),
            ModelOptions.jobDefaults(Architecture.LENET)}) {
            MultiLayerNetwork net = trained(options);
            assertSameAsTwoPasses(net, batch(50, 1), batch(7, 2), batch(1, 3));
            // the same network as the evaluation's executors rebuild it: DL4J's own layers
            MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(net.getLayerWiseConfigurations().toJson());
            MultiLayerNetwork plain = new MultiLayerNetwork(conf);
            plain.init(net.params().dup(), false);
            assertSameAsTwoPasses(plain, batch(50, 1), batch(7, 2));
        }
    }

    @Test
    void aBatchWithALabelMaskTakesDl4jsTwoCalls() {
        MultiLayerNetwork net = trained(ModelOptions.mlp());
        DataSet masked = batch(20, 4);
        INDArray mask = Nd4j.ones(DataType.FLOAT, 20, 1);
        mask.putScalar(3, 0, 0f);
        masked.setLabelsMaskArray(mask);
        PartialEvaluation ours = new PartialEvaluation(10).add(net, masked);
        double referenceLoss = 0;
        for (double loss : net.scoreExamples(masked, false).toDoubleVector()) {
            referenceLoss += loss;
        }
        assertEquals(referenceLoss / 20, ours.report().loss(), 0.0);
    }

    @Test
    void theFirstLargestOfARowIsThePrediction() {
        assertEquals(1, PartialEvaluation.firstLargest(new float[] {0.1f, 0.7f, 0.2f}, 0, 3));
        assertEquals(0, PartialEvaluation.firstLargest(new float[] {0.5f, 0.5f, 0.1f}, 0, 3), "ties: the first");
        assertEquals(1, PartialEvaluation.firstLargest(new float[] {9, 0.2f, 0.4f, 0.4f, 0.1f}, 1, 4));
        assertEquals(2, PartialEvaluation.firstLargest(new float[] {-3, -2, -1}, 0, 3), "negative values");
        assertEquals(0, PartialEvaluation.firstLargest(new float[] {Float.NaN, 1, 2}, 0, 3),
            "a NaN first: nothing compares larger");
        // the same choices as DL4J's Evaluation on ties and plain rows
        INDArray labels = Nd4j.create(new float[][] {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 1}});
        INDArray outputs = Nd4j.create(new float[][] {{.4f, .4f, .2f}, {.1f, .8f, .1f}, {.3f, .3f, .3f},
            {.2f, .3f, .5f}});
        Evaluation reference = new Evaluation(3);
        reference.eval(labels, outputs);
        long[][] expected = new long[3][3];
        for (int a = 0; a < 3; a++) {
            for (int p = 0; p < 3; p++) {
                expected[a][p] = reference.getConfusionMatrix().getCount(a, p);
            }
        }
        float[] flat = outputs.ravel().toFloatVector();
        float[] truth = labels.ravel().toFloatVector();
        long[][] ours = new long[3][3];
        for (int r = 0; r < 4; r++) {
            ours[PartialEvaluation.firstLargest(truth, 3 * r, 3)][PartialEvaluation.firstLargest(flat, 3 * r, 3)]++;
        }
        assertArrayEquals(expected, ours);
    }

    @Test
    void outputsOfAnotherClassCountAreRefusedNamingBothShapes() {
        // a network with 3 outputs scored against a 10-class evaluation: the counts would go out of range
        MultiLayerNetwork three = new MultiLayerNetwork(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
            .seed(5).list()
            .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(784).nOut(3)
                .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
            .build());
        three.init();
        DataSet b = batch(4, 6);
        DataSet threeClasses = new DataSet(b.getFeatures(), Nd4j.eye(3).getRows(0, 1, 2, 0).castTo(DataType.FLOAT));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> new PartialEvaluation(10).add(three, threeClasses));
        assertEquals("outputs [4, 3] and labels [4, 3] must both be [examples, 10]", e.getMessage());
    }
}
