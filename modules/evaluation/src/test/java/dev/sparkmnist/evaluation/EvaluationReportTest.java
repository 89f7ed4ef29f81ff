package dev.sparkmnist.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.factory.Nd4j;

class EvaluationReportTest {

    /** 3 classes; actual -> predicted: 0->0, 0->0, 0->1, 1->1, 2->1, 2->2. */
    private static Evaluation fixed() {
        float[][] labels = {{1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 1}};
        float[][] outputs = {{.9f, .1f, 0}, {.8f, .2f, 0}, {.2f, .7f, .1f}, {.1f, .8f, .1f}, {0, .6f, .4f},
            {0, .1f, .9f}};
        Evaluation e = new Evaluation(3);
        e.eval(Nd4j.create(labels), Nd4j.create(outputs));
        return e;
    }

    @Test
    void metricsFromAKnownConfusionMatrix() {
        EvaluationReport r = EvaluationReport.of(3, fixed(), 3.0, 6);
        assertArrayEquals(new long[][] {{2, 1, 0}, {0, 1, 0}, {0, 1, 1}}, r.confusion());
        assertEquals(4.0 / 6, r.accuracy(), 1e-12);
        assertEquals(0.5, r.loss(), 1e-12);
        assertEquals(4, r.correct());
        assertArrayEquals(new double[] {1.0, 1.0 / 3, 1.0}, r.precision(), 1e-12);
        assertArrayEquals(new double[] {2.0 / 3, 1.0, 0.5}, r.recall(), 1e-12);
        double f0 = 2 * (2.0 / 3) / (1 + 2.0 / 3);
        double f1 = 2 * (1.0 / 3) / (1 + 1.0 / 3);
        double f2 = 2 * 0.5 / 1.5;
        assertArrayEquals(new double[] {f0, f1, f2}, r.f1(), 1e-12);
        assertEquals((f0 + f1 + f2) / 3, r.macroF1(), 1e-12);
        assertTrue(r.toText().startsWith("test accuracy 0.6667 (4/6)  test loss 0.5000"), r.toText());
    }

    @Test
    void classNeverPredictedHasZeroPrecision() {
        Evaluation e = new Evaluation(2);
        e.eval(Nd4j.create(new float[][] {{1, 0}, {0, 1}}), Nd4j.create(new float[][] {{.9f, .1f}, {.8f, .2f}}));
        EvaluationReport r = EvaluationReport.of(2, e, 0, 2);
        assertEquals(0.0, r.precision()[1]);
        assertEquals(0.0, r.f1()[1]);
        assertEquals(0.5, r.precision()[0], 1e-12);
    }
}
