package dev.sparkmnist.report;

import dev.sparkmnist.evaluation.EpochRow;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparkmnist.evaluation.EvaluationReport;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/** The report page: one HTML file with the charts embedded as data URIs, no script and no network access. */
final class HtmlPage {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String STYLE = """
        body{font-family:sans-serif;margin:1.5em;max-width:1500px;color:#222}
        table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
        th{background:#f0f0f0}figure{display:inline-block;margin:0.5em;vertical-align:top}
        figcaption{font-size:90%;color:#555;max-width:640px}pre{background:#f7f7f7;padding:1em;overflow:auto}
        .summary{font-size:120%}""";

    private HtmlPage() {
    }

    static String render(RunFigures data, List<HtmlReport.Figure> figures) {
        EpochRow last = data.epochs().get(data.epochs().size() - 1);
        Object model = data.provenance().get("model") instanceof java.util.Map<?, ?> m ? m.get("architecture") : null;
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>spark-mnist report: ")
            .append(esc(String.valueOf(model))).append(", ").append(data.epochs().size()).append(" epochs</title>")
            .append("<style>").append(STYLE).append("</style></head><body>\n");
        h.append("<h1>Training report: ").append(esc(String.valueOf(model))).append("</h1>\n");
        h.append(String.format(Locale.ROOT, "<p class=\"summary\" id=\"summary\">Test accuracy <b id=\"final-accuracy\">"
                + "%.2f%%</b> after epoch %d (test loss %.4f, macro F1 %.4f) on %d test examples; %d worker(s).</p>%n",
            100 * data.test().accuracy(), last.epoch(), data.test().loss(), data.test().macroF1(),
            data.test().examples(), data.workers()));
        if (data.commandLine() != null) {
            h.append("<p>Command line:</p><pre id=\"command-line\">").append(esc(data.commandLine()))
                .append("</pre>\n");
        }
        h.append("<h2>Per epoch</h2>\n").append(epochTable(data.epochs()));
        h.append("<h2>Charts</h2>\n");
        for (HtmlReport.Figure f : figures) {
            h.append("<figure><img alt=\"").append(esc(f.caption())).append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(f.png())).append("\"><figcaption>")
                .append(esc(f.caption())).append(" (").append(HtmlReport.CHARTS_DIR).append('/').append(f.file())
                .append(")</figcaption></figure>\n");
        }
        h.append("<h2>Per class (test split, final model)</h2>\n").append(classTable(data.test()));
        h.append("<h2>Provenance</h2>\n<pre id=\"provenance\">").append(esc(json(data.provenance())))
            .append("</pre>\n</body></html>\n");
        return h.toString();
    }

    private static String epochTable(List<EpochRow> epochs) {
        StringBuilder t = new StringBuilder("<table id=\"epochs\"><tr><th>epoch</th><th>train loss</th>"
            + "<th>test loss</th><th>test accuracy (%)</th><th>test macro F1</th><th>learning rate</th>"
            + "<th>examples/s</th><th>fit (s)</th></tr>\n");
        for (EpochRow e : epochs) {
            t.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.2f</td><td>%.4f</td>"
                    + "<td>%.4g</td><td>%.0f</td><td>%.1f</td></tr>%n", e.epoch(), e.trainLoss(), e.testLoss(),
                100 * e.testAccuracy(), e.testMacroF1(), e.learningRate(), e.examplesPerSecond(), e.fitSeconds()));
        }
        return t.append("</table>\n").toString();
    }

    private static String classTable(EvaluationReport test) {
        StringBuilder t = new StringBuilder("<table id=\"classes\"><tr><th>class</th><th>precision</th>"
            + "<th>recall</th><th>F1</th><th>test examples</th></tr>\n");
        for (int c = 0; c < test.f1().length; c++) {
            long support = 0;
            for (long n : test.confusion()[c]) {
                support += n;
            }
            t.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%d</td>"
                + "</tr>%n", c, test.precision()[c], test.recall()[c], test.f1()[c], support));
        }
        return t.append("</table>\n").toString();
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
