package dev.sparkmnist.report;

import dev.sparkmnist.evaluation.EpochRow;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkmnist.evaluation.EvaluationReport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The figures of a run, as its {@code metrics.json} and {@code provenance.json} hold them.
 *
 * @param epochs per-epoch rows, in order
 * @param test the final evaluation on the test split
 * @param provenance the run's provenance (configuration, seed, data checksums, versions, command line)
 */
public record RunFigures(List<EpochRow> epochs, EvaluationReport test, Map<String, Object> provenance) {
    private static final ObjectMapper JSON = new ObjectMapper()
        .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public RunFigures {
        if (epochs.isEmpty()) {
            throw new IllegalArgumentException("metrics.json holds no epochs: nothing to report");
        }
        epochs = List.copyOf(epochs);
    }

    /** Parses the two files' text; a malformed file fails with its name. */
    public static RunFigures parse(String metricsJson, String provenanceJson) {
        Map<String, Object> metrics = read("metrics.json", metricsJson);
        Map<String, Object> provenance = read("provenance.json", provenanceJson);
        if (!(metrics.get("epochs") instanceof List<?> rows) || metrics.get("test") == null) {
            throw new IllegalArgumentException("metrics.json has no \"epochs\" list or no \"test\" evaluation");
        }
        List<EpochRow> epochs = new ArrayList<>();
        for (Object row : rows) {
            @SuppressWarnings("unchecked")
            Map<String, Object> map = (Map<String, Object>) row;
            epochs.add(EpochRow.of(map));
        }
        EvaluationReport test = JSON.convertValue(metrics.get("test"), EvaluationReport.class);
        return new RunFigures(epochs, test, provenance);
    }

    private static Map<String, Object> read(String name, String text) {
        try {
            return JSON.readValue(text, new TypeReference<Map<String, Object>>() { });
        } catch (IOException e) {
            throw new IllegalArgumentException(name + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** Workers that trained (Spark partitions), 1 for a single-JVM run. */
    public int workers() {
        return provenance.get("partitions") instanceof Number n ? Math.max(1, n.intValue()) : 1;
    }

    /** The command line the run was started with, or null when the provenance does not record it. */
    public String commandLine() {
        return provenance.get("commandLine") instanceof String s ? s : null;
    }
}
