package dev.sparkmnist.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.ModelOptions;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A report built from a real (small) LeNet run on the MNIST slice holds every picture the issue asks for. */
class ReportTest {
    private static RunFixture lenet;
    private static HtmlReport.Built built;

    @BeforeAll
    static void fit() {
        lenet = RunFixture.fit(ModelOptions.lenet(), 2);
        built = HtmlReport.build(lenet.data, lenet.net, RunFixture.NORM, lenet.digits);
    }

    @Test
    void lenetReportHasEveryChartAndPicture() throws IOException {
        List<String> files = built.figures().stream().map(HtmlReport.Figure::file).toList();
        assertEquals(List.of("loss.png", "accuracy.png", "learning-rate.png", "throughput.png", "confusion.png",
            "per-class.png", "weights-layer-0.png", "weights-layer-2.png", "weights-layer-4.png",
            "weights-layer-5.png", "weights-layer-6.png", "filters.png", "feature-maps.png", "mistakes.png"), files);
        for (HtmlReport.Figure f : built.figures()) {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(f.png()));
            assertTrue(img.getWidth() > 100 && img.getHeight() > 50, f.file() + " has a size");
            assertTrue(ChartsTest.distinctColours(img) > 2, f.file() + " is not blank");
        }
    }

    @Test
    void pageEmbedsEveryFigureAndHoldsTheRunsFigures() {
        String html = built.html();
        Matcher m = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
        int i = 0;
        while (m.find()) {
            assertArrayEquals(built.figures().get(i).png(), Base64.getDecoder().decode(m.group(1)),
                "image " + i + " is " + built.figures().get(i).file());
            i++;
        }
        assertEquals(built.figures().size(), i);
        assertFalse(html.contains("http://") || html.contains("https://"), "nothing is fetched from a network");
        assertTrue(html.contains(String.format(java.util.Locale.ROOT, "%.2f%%", 100 * lenet.data.test().accuracy())));
        assertTrue(html.contains("&lt;fixture&gt;"), "the command line, escaped");
        assertEquals(HtmlReport.HTML, List.copyOf(built.files().keySet()).get(built.files().size() - 1));
        assertTrue(built.files().containsKey("charts/confusion.png"));
    }

    @Test
    void mistakesAreExactlyTheWrongPredictionsMostConfidentFirst() {
        List<NetworkViews.Mistake> all = NetworkViews.mistakes(lenet.net, lenet.digits, RunFixture.NORM, 10_000);
        assertEquals(lenet.data.test().examples() - lenet.data.test().correct(), all.size());
        for (int k = 0; k < all.size(); k++) {
            NetworkViews.Mistake mistake = all.get(k);
            assertNotEquals(mistake.actual(), mistake.predicted());
            assertEquals(lenet.digits.labels()[mistake.index()], mistake.actual());
            if (k > 0) {
                assertTrue(all.get(k - 1).confidence() >= mistake.confidence());
            }
        }
        assertEquals(Math.min(HtmlReport.MAX_MISTAKES, all.size()),
            NetworkViews.mistakes(lenet.net, lenet.digits, RunFixture.NORM, HtmlReport.MAX_MISTAKES).size());
    }

    @Test
    void featureMapsHaveLeNetsShapes() {
        var maps = NetworkViews.featureMaps(lenet.net, lenet.digits.features(0, 1, RunFixture.NORM));
        assertEquals(6, maps.get("convolution").length);
        assertEquals(24, maps.get("convolution")[0].length, "28 - 5 + 1");
        assertEquals(12, maps.get("pooling")[0].length, "24 / 2");
        assertEquals(6, NetworkViews.firstFilters(lenet.net).length);
        assertEquals(5, NetworkViews.firstFilters(lenet.net)[0].length);
    }

    @Test
    void mlpReportHasNoFiltersAndOneWorkerNoThroughput() {
        RunFixture mlp = RunFixture.fit(ModelOptions.mlp(), 1);
        List<String> files = HtmlReport.build(mlp.data, mlp.net, RunFixture.NORM, mlp.digits).figures().stream()
            .map(HtmlReport.Figure::file).toList();
        assertEquals(List.of("loss.png", "accuracy.png", "learning-rate.png", "confusion.png", "per-class.png",
            "weights-layer-0.png", "weights-layer-1.png", "weights-layer-2.png", "mistakes.png"), files);
    }

    @Test
    void malformedMetricsFailWithTheFileName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> RunFigures.parse("{not json", "{}"));
        assertTrue(e.getMessage().startsWith("metrics.json is not valid JSON"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RunFigures.parse("{\"epochs\":[]}", "{}"));
        assertEquals("metrics.json has no \"epochs\" list or no \"test\" evaluation", e.getMessage());
    }
}
