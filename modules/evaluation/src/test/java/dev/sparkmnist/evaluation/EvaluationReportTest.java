package dev.sparkmnist.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EvaluationReportTest {

    /** 3 classes; actual -> predicted: 0->0, 0->0, 0->1, 1->1, 2->1, 2->2. */
    private static long[][] fixed() {
        return new long[][] {{2, 1, 0}, {0, 1, 0}, {0, 1, 1}};
    }

    @Test
    void metricsFromAKnownConfusionMatrix() {
        long[][] counts = fixed();
        EvaluationReport r = EvaluationReport.of(counts, 3.0, 6);
        counts[0][0] = 99;
        assertEquals(2, r.confusion()[0][0], "the report keeps a copy");
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
        EvaluationReport r = EvaluationReport.of(new long[][] {{1, 0}, {1, 0}}, 0, 2);
        assertEquals(0.0, r.precision()[1]);
        assertEquals(0.0, r.f1()[1]);
        assertEquals(0.5, r.precision()[0], 1e-12);
    }
}
