package dev.sparkmnist.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.training.EpochResult;
import dev.sparkmnist.training.TrainingOptions;
import dev.sparkmnist.training.TrainingResult;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * Writes a training run's outputs: model.zip, metrics.json, metrics.csv, evaluation.txt, provenance.json, and the
 * report built from them (report.html, charts/).
 */
public final class RunFiles {
    public static final String METRICS_JSON = "metrics.json";
    public static final String METRICS_CSV = "metrics.csv";
    public static final String EVALUATION_TXT = "evaluation.txt";
    public static final String PROVENANCE_JSON = "provenance.json";
    public static final String CSV_HEADER = "epoch,train_loss,test_loss,test_accuracy,test_macro_f1,examples_trained,"
        + "minibatches,fit_seconds,eval_seconds,examples_per_second,learning_rate,averaging_rounds,compute_seconds,"
        + "overhead_ms_per_round,stage_retries";
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RunFiles() {
    }

    /** Writes a finished run's files into its staging directory: {@code out.commit()} publishes them. */
    public static void write(AtomicOutput out, RunRecord run, TrainingResult result, List<Map<String, Object>> rows,
                             String sparkVersion, Configuration hadoop) {
        ModelOptions model = run.model();
        TrainingOptions training = run.training();
        ModelFiles.save(result.network(), training.input().normalization(), model, result.last().epoch(), out);
        String metricsJson = json(metrics(model, rows, result.last().test()));
        out.writeText(METRICS_JSON, metricsJson);
        out.writeText(METRICS_CSV, csv(rows));
        out.writeText(EVALUATION_TXT, result.last().test().toText());
        String provenanceJson = json(provenance(run, result, sparkVersion, hadoop)); // cleaned as written
        out.writeText(PROVENANCE_JSON, provenanceJson);
        ReportFiles.write(out, ReportFiles.build(metricsJson, provenanceJson, result.network(),
            training.input().normalization(), run.test(), training.input().limitTest(), hadoop));
    }

    /** provenance.json: how the run was asked for, with what data and versions, and what it found. */
    static Map<String, Object> provenance(RunRecord run, TrainingResult result, String sparkVersion,
                                          Configuration hadoop) {
        TrainingOptions training = run.training();
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("createdAt", Instant.now().toString());
        provenance.put("command", "train");
        provenance.put("mode", run.invocation().mode());
        provenance.put("master", run.invocation().master());
        provenance.put("commandLine", run.invocation().commandLine());
        provenance.put("dataDir", run.invocation().dataDir());
        provenance.put("seed", training.seed());
        provenance.put("model", run.model());
        provenance.put("parameters", result.network().numParams());
        provenance.put("training", training);
        provenance.put("partitions", result.partitions());
        provenance.put("threadsPerTask", result.threadsPerTask());
        provenance.put("trainerJvms", result.trainerJvms());
        provenance.put("averaging", result.averaging());
        provenance.put("memory", run.memory());
        if (run.resumedFrom() != null) {
            Map<String, Object> resumed = new LinkedHashMap<>();
            resumed.put("path", run.resumedFrom());
            resumed.put("epochs", result.epochs().get(0).epoch() - 1);
            provenance.put("resumedFrom", resumed);
        }
        if (run.checkpoints() != null) {
            Map<String, Object> ckpt = new LinkedHashMap<>();
            ckpt.put("dir", run.checkpoints().dir());
            ckpt.put("every", run.checkpoints().every());
            provenance.put("checkpoints", ckpt);
        }
        provenance.put("trainExamples", run.train().limit(training.input().limitTrain()).size());
        provenance.put("testExamples", run.test().limit(training.input().limitTest()).size());
        Map<String, Object> data = new LinkedHashMap<>();
        data.putAll(Provenance.dataFiles(run.train(), hadoop));
        data.putAll(Provenance.dataFiles(run.test(), hadoop));
        provenance.put("data", data);
        provenance.put("versions", Provenance.versions(sparkVersion));
        provenance.put("gitCommit", Provenance.gitCommit());
        return provenance;
    }

    /** metrics.json: the per-epoch rows (earlier runs' first when resumed) and the last epoch's evaluation. */
    static Map<String, Object> metrics(ModelOptions model, List<Map<String, Object>> rows, EvaluationReport test) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.architecture().name().toLowerCase(Locale.ROOT));
        m.put("epochs", rows);
        m.put("test", test);
        return m;
    }

    /** One epoch as metrics.json holds it. */
    static Map<String, Object> row(EpochResult e) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("epoch", e.epoch());
        row.put("trainLoss", e.trainLoss());
        row.put("testLoss", e.test().loss());
        row.put("testAccuracy", e.test().accuracy());
        row.put("testMacroF1", e.test().macroF1());
        row.put("examplesTrained", e.examplesTrained());
        row.put("minibatches", e.minibatches());
        row.put("fitSeconds", e.fitSeconds());
        row.put("evalSeconds", e.evalSeconds());
        row.put("examplesPerSecond", e.examplesPerSecond());
        row.put("learningRate", e.learningRate());
        row.put("averagingRounds", e.averagingRounds());
        row.put("computeSeconds", e.computeSeconds());
        row.put("overheadMsPerRound", Double.isNaN(e.overheadMsPerRound()) ? null : e.overheadMsPerRound());
        row.put("stageRetries", e.stageRetries());
        return row;
    }

    /** metrics.json keys in CSV column order, with the format of each value ("" for a missing one). */
    private static final String[][] CSV_COLUMNS = {{"epoch", "%d"}, {"trainLoss", "%.6f"}, {"testLoss", "%.6f"},
        {"testAccuracy", "%.6f"}, {"testMacroF1", "%.6f"}, {"examplesTrained", "%d"}, {"minibatches", "%d"},
        {"fitSeconds", "%.3f"}, {"evalSeconds", "%.3f"}, {"examplesPerSecond", "%.1f"}, {"learningRate", "%.6g"},
        {"averagingRounds", "%d"}, {"computeSeconds", "%.3f"}, {"overheadMsPerRound", "%.2f"},
        {"stageRetries", "%d"}};

    static String csv(List<Map<String, Object>> rows) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (Map<String, Object> row : rows) {
            for (int c = 0; c < CSV_COLUMNS.length; c++) {
                Object v = row.get(CSV_COLUMNS[c][0]);
                if (c > 0) {
                    sb.append(',');
                }
                if (v instanceof Number n) {
                    boolean integral = CSV_COLUMNS[c][1].equals("%d");
                    sb.append(String.format(Locale.ROOT, CSV_COLUMNS[c][1],
                        integral ? (Object) n.longValue() : (Object) n.doubleValue()));
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    public static String json(Object value) {
        try {
            return JSON.writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
