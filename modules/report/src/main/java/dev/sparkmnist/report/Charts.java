package dev.sparkmnist.report;

import dev.sparkmnist.evaluation.EpochRow;
import dev.sparkmnist.evaluation.EvaluationReport;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.Histogram;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's charts, built with XChart: every chart has a title, axis titles and (with several series) a legend. */
public final class Charts {
    static final int WIDTH = 640;
    static final int HEIGHT = 400;
    /** Bins of the weight histograms. */
    static final int HISTOGRAM_BINS = 40;

    private Charts() {
    }

    /** Train vs test loss per epoch. */
    public static XYChart loss(List<EpochRow> epochs) {
        XYChart chart = xy("Loss per epoch", "Loss");
        line(chart, "train (mean minibatch)", epochs, EpochRow::trainLoss);
        line(chart, "test", epochs, EpochRow::testLoss);
        return chart;
    }

    /** Test accuracy (and macro F1) per epoch, in percent. */
    public static XYChart accuracy(List<EpochRow> epochs) {
        XYChart chart = xy("Test accuracy per epoch", "Percent");
        line(chart, "test accuracy", epochs, e -> 100 * e.testAccuracy());
        line(chart, "test macro F1", epochs, e -> 100 * e.testMacroF1());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE); // accuracy rises to the top right
        return chart;
    }

    /** Learning rate per epoch (logarithmic axis when it spans more than a factor of 100). */
    public static XYChart learningRate(List<EpochRow> epochs) {
        XYChart chart = xy("Learning rate per epoch", "Learning rate");
        line(chart, "learning rate", epochs, EpochRow::learningRate);
        double min = epochs.stream().mapToDouble(EpochRow::learningRate).min().orElse(1);
        double max = epochs.stream().mapToDouble(EpochRow::learningRate).max().orElse(1);
        chart.getStyler().setYAxisLogarithmic(min > 0 && max / min > 100);
        chart.getStyler().setYAxisDecimalPattern("0.#####");
        chart.getStyler().setLegendVisible(false);
        return chart;
    }

    /** Training throughput per epoch, for runs with more than one worker. */
    public static XYChart throughput(List<EpochRow> epochs, int workers) {
        XYChart chart = xy("Training throughput per epoch (" + workers + " workers)", "Examples per second");
        line(chart, "examples/s", epochs, EpochRow::examplesPerSecond);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setLegendVisible(false);
        return chart;
    }

    /** The confusion matrix as a heat map, each cell labelled with its count (x: predicted, y: actual). */
    public static HeatMapChart confusion(long[][] confusion) {
        int n = confusion.length;
        HeatMapChart chart = new HeatMapChartBuilder().width(HEIGHT + 200).height(HEIGHT + 160)
            .title("Confusion matrix (test split)").xAxisTitle("Predicted").yAxisTitle("Actual").build();
        int[] classes = IntStream.range(0, n).toArray();
        List<Number[]> cells = new ArrayList<>();
        long max = 1;
        for (int actual = 0; actual < n; actual++) {
            for (int predicted = 0; predicted < n; predicted++) {
                cells.add(new Number[] {predicted, actual, confusion[actual][predicted]});
                max = Math.max(max, confusion[actual][predicted]);
            }
        }
        List<Integer> axis = IntStream.of(classes).boxed().toList();
        chart.addSeries("count", axis, axis, cells);
        chart.getStyler().setShowValue(true);
        chart.getStyler().setValueFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        chart.getStyler().setHeatMapValueDecimalPattern("#");
        chart.getStyler().setMin(0);
        chart.getStyler().setMax(max);
        // white to mid blue, so that black counts stay readable on the darkest (diagonal) cells
        chart.getStyler().setRangeColors(new Color[] {new Color(0xF7FBFF), new Color(0xC6DBEF),
            new Color(0x4292C6)});
        chart.getStyler().setValueFontColor(Color.BLACK);
        chart.getStyler().setLegendVisible(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        return chart;
    }

    /** Per-class precision, recall and F1 as grouped bars, in percent. */
    public static CategoryChart perClass(EvaluationReport test) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH + 160).height(HEIGHT)
            .title("Per-class precision, recall and F1 (test split)").xAxisTitle("Class").yAxisTitle("Percent")
            .build();
        List<String> classes = IntStream.range(0, test.f1().length).mapToObj(Integer::toString).toList();
        double min = 100;
        for (double[] values : new double[][] {test.precision(), test.recall(), test.f1()}) {
            for (double v : values) {
                min = Math.min(min, 100 * v);
            }
        }
        chart.addSeries("precision", classes, percent(test.precision()));
        chart.addSeries("recall", classes, percent(test.recall()));
        chart.addSeries("F1", classes, percent(test.f1()));
        // bars that differ in the last percent must be told apart: start the axis just below the lowest bar
        chart.getStyler().setYAxisMin(Math.max(0, Math.floor(min - 1)));
        chart.getStyler().setYAxisMax(100.0);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        return chart;
    }

    /**
     * Histograms of a layer's weights and biases, each as the share of its values per bin (so that a few hundred
     * biases and thousands of weights read on one axis).
     */
    public static CategoryChart histogram(String layer, float[] weights, float[] biases) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT - 60)
            .title("Layer " + layer + ": weight and bias values").xAxisTitle("Value")
            .yAxisTitle("Share of values (%)").build();
        double min = Math.min(min(weights), min(biases));
        double max = Math.max(max(weights), max(biases));
        if (!(max > min)) {
            max = min + 1e-6;
        }
        chart.addSeries("weights (" + weights.length + ")", centres(min, max), shares(weights, min, max));
        if (biases.length > 0) {
            chart.addSeries("biases (" + biases.length + ")", centres(min, max), shares(biases, min, max));
        }
        chart.getStyler().setOverlapped(true);
        chart.getStyler().setXAxisLabelRotation(90);
        chart.getStyler().setXAxisDecimalPattern("0.###");
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setAvailableSpaceFill(0.95);
        return chart;
    }

    /** The chart as PNG bytes. */
    public static byte[] png(Chart<?, ?> chart) {
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render chart " + chart.getTitle(), e);
        }
    }

    private static XYChart xy(String title, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("Epoch")
            .yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setXAxisDecimalPattern("0");
        return chart;
    }

    private static void line(XYChart chart, String name, List<EpochRow> epochs, ToDoubleFunction<EpochRow> y) {
        double[] xs = epochs.stream().mapToDouble(EpochRow::epoch).toArray();
        double[] ys = epochs.stream().mapToDouble(y).toArray();
        chart.addSeries(name, xs, ys).setMarker(SeriesMarkers.CIRCLE);
    }

    private static List<Double> percent(double[] values) {
        return java.util.Arrays.stream(values).map(v -> 100 * v).boxed().toList();
    }

    /** Bin centres shared by both series. */
    static List<Double> centres(double min, double max) {
        return new Histogram(new ArrayList<>(List.of(min, max)), HISTOGRAM_BINS, min, max).getxAxisData();
    }

    /** Percentage of the values in each of {@link #HISTOGRAM_BINS} equal bins over [min, max]. */
    static List<Double> shares(float[] values, double min, double max) {
        List<Double> data = new ArrayList<>(values.length);
        for (float v : values) {
            data.add((double) v);
        }
        List<Double> counts = new Histogram(data, HISTOGRAM_BINS, min, max).getyAxisData();
        return counts.stream().map(c -> values.length == 0 ? 0 : 100 * c / values.length).toList();
    }

    private static double min(float[] values) {
        double m = Double.POSITIVE_INFINITY;
        for (float v : values) {
            m = Math.min(m, v);
        }
        return m;
    }

    private static double max(float[] values) {
        double m = Double.NEGATIVE_INFINITY;
        for (float v : values) {
            m = Math.max(m, v);
        }
        return m;
    }
}
