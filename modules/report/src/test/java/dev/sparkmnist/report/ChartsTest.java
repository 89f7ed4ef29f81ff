package dev.sparkmnist.report;

import dev.sparkmnist.evaluation.EpochRow;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.evaluation.EvaluationReport;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.XYChart;

/** The charts hold the run's figures, exactly, and render to PNGs of the chart's size. */
class ChartsTest {
    private static final List<EpochRow> EPOCHS = List.of(
        new EpochRow(1, 0.50, 0.30, 0.91, 0.90, 60000, 0, 60, 0, 1000, 0.03, 0, 0, null, 0),
        new EpochRow(2, 0.20, 0.10, 0.97, 0.96, 60000, 0, 50, 0, 1200, 0.03, 0, 0, null, 0),
        new EpochRow(3, 0.10, 0.08, 0.98, 0.979, 60000, 0, 55, 0, 1100, 0.0075, 0, 0, null, 0));

    @Test
    void lossAndAccuracyChartsPlotEveryEpoch() {
        XYChart loss = Charts.loss(EPOCHS);
        assertEquals("Loss per epoch", loss.getTitle());
        assertEquals("Epoch", loss.getXAxisTitle());
        assertArrayEquals(new double[] {1, 2, 3}, loss.getSeriesMap().get("test").getXData());
        assertArrayEquals(new double[] {0.5, 0.2, 0.1}, loss.getSeriesMap().get("train (mean minibatch)").getYData());
        assertArrayEquals(new double[] {0.3, 0.1, 0.08}, loss.getSeriesMap().get("test").getYData());
        XYChart acc = Charts.accuracy(EPOCHS);
        assertArrayEquals(new double[] {91, 97, 98}, acc.getSeriesMap().get("test accuracy").getYData(), 1e-9);
        XYChart lr = Charts.learningRate(EPOCHS);
        assertArrayEquals(new double[] {0.03, 0.03, 0.0075}, lr.getSeriesMap().get("learning rate").getYData());
        XYChart speed = Charts.throughput(EPOCHS, 2);
        assertArrayEquals(new double[] {1000, 1200, 1100}, speed.getSeriesMap().get("examples/s").getYData());
    }

    @Test
    void heatMapCountsAreTheConfusionMatrix() {
        long[][] confusion = {{5, 1, 0}, {2, 7, 0}, {0, 3, 9}};
        HeatMapChart chart = Charts.confusion(confusion);
        List<? extends Number[]> cells = chart.getHeatMapSeries().getHeatData();
        assertEquals(9, cells.size());
        long[][] back = new long[3][3];
        for (Number[] cell : cells) {
            back[cell[1].intValue()][cell[0].intValue()] = cell[2].longValue(); // [predicted, actual, count]
        }
        assertArrayEquals(confusion, back);
        assertEquals("Predicted", chart.getXAxisTitle());
        assertEquals("Actual", chart.getYAxisTitle());
    }

    @Test
    void perClassBarsArePrecisionRecallAndF1InPercent() {
        EvaluationReport test = new EvaluationReport(10, 0.8, 0.5, 0.75, new double[] {1.0, 0.5},
            new double[] {0.8, 0.75}, new double[] {0.8889, 0.6}, new long[][] {{4, 1}, {0, 5}});
        CategoryChart chart = Charts.perClass(test);
        assertEquals(List.of(100.0, 50.0), List.copyOf(chart.getSeriesMap().get("precision").getYData()));
        assertEquals(List.of(80.0, 75.0), List.copyOf(chart.getSeriesMap().get("recall").getYData()));
        assertEquals(List.of("0", "1"), List.copyOf(chart.getSeriesMap().get("F1").getXData()));
        assertEquals(49.0, chart.getStyler().getYAxisMin(), "the axis starts just below the lowest bar");
    }

    @Test
    void histogramSharesCountEveryValueOnce() {
        float[] weights = {-1f, -0.5f, 0f, 0f, 0.5f, 1f, 1f, 1f};
        float[] biases = {0f, 0.25f};
        CategoryChart chart = Charts.histogram("0 (DenseLayer)", weights, biases);
        List<Number> w = List.copyOf(chart.getSeriesMap().get("weights (8)").getYData());
        List<Number> b = List.copyOf(chart.getSeriesMap().get("biases (2)").getYData());
        assertEquals(Charts.HISTOGRAM_BINS, w.size());
        assertEquals(100.0, w.stream().mapToDouble(Number::doubleValue).sum(), 1e-9);
        assertEquals(100.0, b.stream().mapToDouble(Number::doubleValue).sum(), 1e-9);
        assertEquals(12.5, w.get(0).doubleValue(), 1e-9, "-1 alone in the first bin");
        assertEquals(37.5, w.get(Charts.HISTOGRAM_BINS - 1).doubleValue(), 1e-9, "the three 1s in the last bin");
    }

    @Test
    void chartsRenderToPngsOfTheirSize() throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(Charts.png(Charts.loss(EPOCHS))));
        assertEquals(Charts.WIDTH, img.getWidth());
        assertEquals(Charts.HEIGHT, img.getHeight());
        assertTrue(distinctColours(img) > 10, "a drawn chart, not a blank canvas");
    }

    static int distinctColours(BufferedImage img) {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                seen.add(img.getRGB(x, y));
            }
        }
        return seen.size();
    }
}
