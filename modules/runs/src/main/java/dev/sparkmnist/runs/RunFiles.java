package dev.sparkmnist.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.evaluation.EpochRow;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.models.ModelOptions;
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
    public static final String CSV_HEADER = "epoch,train_loss,test_loss,test_accuracy,test_macro_f1,examples_trained,"
        + "minibatches,fit_seconds,eval_seconds,examples_per_second,learning_rate,averaging_rounds,compute_seconds,"
        + "overhead_ms_per_round,stage_retries";

    private RunFiles() {
    }

    /** Writes a finished run's files into its staging directory: {@code out.commit()} publishes them. */
    public static void write(AtomicOutput out, RunRecord run, TrainingResult result, List<EpochRow> rows,
                             String sparkVersion, Configuration hadoop) {
        ModelOptions model = run.model();
        TrainingOptions training = run.training();
        ModelFiles.save(result.network(), training.input().normalization(), model, result.last().epoch(), out);
        String metricsJson = json(metrics(model, rows, result.last().test()));
        out.writeText(RunLayout.METRICS_JSON, metricsJson);
        out.writeText(RunLayout.METRICS_CSV, csv(rows));
        out.writeText(RunLayout.EVALUATION_TXT, result.last().test().toText());
        String provenanceJson = json(provenance(run, result, sparkVersion, hadoop)); // cleaned as written
        out.writeText(RunLayout.PROVENANCE_JSON, provenanceJson);
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
    static Map<String, Object> metrics(ModelOptions model, List<EpochRow> rows, EvaluationReport test) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.architecture().name().toLowerCase(Locale.ROOT));
        m.put("epochs", rows);
        m.put("test", test);
        return m;
    }

    /** The format of each CSV column, in {@link EpochRow}'s component order ("" for a missing value). */
    private static final String[] CSV_FORMATS = {"%d", "%.6f", "%.6f", "%.6f", "%.6f", "%d", "%d", "%.3f", "%.3f",
        "%.1f", "%.6g", "%d", "%.3f", "%.2f", "%d"};

    static String csv(List<EpochRow> rows) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (EpochRow row : rows) {
            Object[] values = {row.epoch(), row.trainLoss(), row.testLoss(), row.testAccuracy(), row.testMacroF1(),
                row.examplesTrained(), row.minibatches(), row.fitSeconds(), row.evalSeconds(),
                row.examplesPerSecond(), row.learningRate(), row.averagingRounds(), row.computeSeconds(),
                row.overheadMsPerRound(), row.stageRetries()};
            for (int c = 0; c < values.length; c++) {
                if (c > 0) {
                    sb.append(',');
                }
                if (values[c] != null) {
                    sb.append(String.format(Locale.ROOT, CSV_FORMATS[c], values[c]));
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    public static String json(Object value) {
        try {
            return RunLayout.JSON.writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
