package dev.sparkmnist.runs;

import dev.sparkmnist.evaluation.EpochRow;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.training.EpochListener;
import dev.sparkmnist.training.EpochResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Rewrites metrics.json and metrics.csv as each epoch ends, so that a run killed at epoch k keeps epochs 1..k: in the
 * output's staging directory (which a killed run leaves behind, see {@link AtomicOutput}) and, with
 * {@code --checkpoint-dir}, beside the checkpoints, where {@code --resume} finds them. Each file is replaced whole
 * (written under a temporary name, then renamed), never left half-written.
 */
public final class EpochMetrics implements EpochListener {
    private final ModelOptions model;
    private final List<EpochRow> rows;
    private final List<BiConsumer<String, String>> targets;

    /**
     * @param model the run's model options
     * @param earlier rows of the epochs a resumed run does not repeat (empty for a fresh run)
     * @param targets where to write: each takes (file name, content) and replaces the file whole
     */
    public EpochMetrics(ModelOptions model, List<EpochRow> earlier, List<BiConsumer<String, String>> targets) {
        this.model = model;
        this.rows = new ArrayList<>(earlier);
        this.targets = List.copyOf(targets);
    }

    /** Every row so far: the earlier run's, then this run's. */
    public List<EpochRow> rows() {
        return List.copyOf(rows);
    }

    @Override
    public void onEpochEnd(EpochResult result, MultiLayerNetwork network) {
        rows.add(result.row());
        String json = RunFiles.json(RunFiles.metrics(model, rows, result.test()));
        String csv = RunFiles.csv(rows);
        for (BiConsumer<String, String> target : targets) {
            target.accept(RunLayout.METRICS_JSON, json);
            target.accept(RunLayout.METRICS_CSV, csv);
        }
    }
}
