package dev.sparkmnist.report;

import dev.sparkmnist.data.Normalization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.knowm.xchart.internal.chartpart.Chart;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Builds a run's report: the PNG charts and pictures (under {@value #CHARTS_DIR}/) and {@value #HTML}, which embeds
 * them, so that the page alone is the whole report.
 */
public final class HtmlReport {
    /** The page. */
    public static final String HTML = "report.html";
    /** The directory of the PNG files, beside the page. */
    public static final String CHARTS_DIR = "charts";
    /** Most misclassified digits shown. */
    static final int MAX_MISTAKES = 40;
    private static final int MISTAKE_COLUMNS = 10;

    private HtmlReport() {
    }

    /**
     * One picture of the report.
     *
     * @param file file name under {@value #CHARTS_DIR}/
     * @param caption what it shows
     * @param png the PNG bytes
     */
    public record Figure(String file, String caption, byte[] png) {
    }

    /**
     * The report's files.
     *
     * @param figures every picture, in page order
     * @param html the page, images embedded
     */
    public record Built(List<Figure> figures, String html) {
        /** File name (relative to the run directory) to bytes, the page last. */
        public Map<String, byte[]> files() {
            Map<String, byte[]> files = new LinkedHashMap<>();
            for (Figure f : figures) {
                files.put(CHARTS_DIR + "/" + f.file(), f.png());
            }
            files.put(HTML, html.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return files;
        }
    }

    /** Builds every chart and picture and the page. */
    public static Built build(RunFigures data, MultiLayerNetwork net, Normalization normalization,
                              TestDigits digits) {
        List<Figure> figures = new ArrayList<>();
        figures.add(chart("loss.png", "Train vs test loss per epoch", Charts.loss(data.epochs())));
        figures.add(chart("accuracy.png", "Test accuracy and macro F1 per epoch", Charts.accuracy(data.epochs())));
        if (data.epochs().stream().allMatch(e -> Double.isFinite(e.learningRate()))) { // L-BFGS (MLlib) has none
            figures.add(chart("learning-rate.png", "Learning rate per epoch", Charts.learningRate(data.epochs())));
        }
        if (data.workers() > 1) {
            figures.add(chart("throughput.png", "Training examples per second per epoch",
                Charts.throughput(data.epochs(), data.workers())));
        }
        figures.add(chart("confusion.png", "Confusion matrix on the test split (counts)",
            Charts.confusion(data.test().confusion())));
        figures.add(chart("per-class.png", "Per-class precision, recall and F1",
            Charts.perClass(data.test())));
        for (NetworkViews.LayerParams p : NetworkViews.parameters(net)) {
            figures.add(chart("weights-layer-" + p.name().split(" ")[0] + ".png",
                "Weights and biases of layer " + p.name(), Charts.histogram(p.name(), p.weights(), p.biases())));
        }
        if (NetworkViews.hasConvolutionFirst(net)) {
            figures.add(new Figure("filters.png", "The first layer's learned filters",
                Images.png(Images.filters(NetworkViews.firstFilters(net)))));
            if (digits.size() > 0) {
                INDArray first = digits.features(0, 1, normalization);
                Map<String, float[][][]> maps = NetworkViews.featureMaps(net, first);
                figures.add(new Figure("feature-maps.png", "What the first layers make of test digit #0",
                    Images.png(Images.featureMaps(digits.pixels()[0], digits.rows(), digits.cols(),
                        digits.labels()[0], maps.get("convolution"), maps.get("pooling")))));
            }
        }
        List<NetworkViews.Mistake> mistakes = NetworkViews.mistakes(net, digits, normalization, MAX_MISTAKES);
        if (!mistakes.isEmpty()) {
            figures.add(new Figure("mistakes.png", "Misclassified test digits, most confident first (up to "
                + MAX_MISTAKES + "): true class, predicted class, confidence, test index",
                Images.png(Images.mistakes(mistakes, digits, MISTAKE_COLUMNS))));
        }
        return new Built(figures, HtmlPage.render(data, figures));
    }

    private static Figure chart(String file, String caption, Chart<?, ?> chart) {
        return new Figure(file, caption, Charts.png(chart));
    }
}
