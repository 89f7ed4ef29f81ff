package dev.sparkmnist.runs;

import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.report.HtmlReport;
import dev.sparkmnist.report.RunFigures;
import dev.sparkmnist.report.TestDigits;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds a run's report from the run's own files' content and writes it beside them. */
public final class ReportFiles {
    private static final Logger LOG = LoggerFactory.getLogger(ReportFiles.class);

    private ReportFiles() {
    }

    /** The report of a run: its metrics.json and provenance.json text, its network, the test split it used. */
    public static HtmlReport.Built build(String metricsJson, String provenanceJson, MultiLayerNetwork net,
                              Normalization normalization, MnistSet test, int limitTest, Configuration hadoop) {
        long start = System.nanoTime();
        HtmlReport.Built built = HtmlReport.build(RunFigures.parse(metricsJson, provenanceJson), net, normalization,
            TestDigits.read(test, limitTest, hadoop));
        LOG.info("report built in {} ms ({} charts)", (System.nanoTime() - start) / 1_000_000,
            built.figures().size());
        return built;
    }

    /** Writes report.html and charts/ into the output's staging directory. */
    /** A report file's bytes, the page cleaned of credentials ({@link Secrets}): it quotes the provenance. */
    public static byte[] cleaned(String name, byte[] bytes) {
        if (!name.endsWith(".html")) {
            return bytes;
        }
        return Secrets.current().scrub(new String(bytes, java.nio.charset.StandardCharsets.UTF_8))
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    public static void write(AtomicOutput out, HtmlReport.Built built) {
        for (Map.Entry<String, byte[]> file : built.files().entrySet()) {
            try (OutputStream stream = out.create(file.getKey())) {
                stream.write(cleaned(file.getKey(), file.getValue()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file.getKey(), e);
            }
        }
    }
}
