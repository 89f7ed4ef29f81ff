package dev.sparkmnist.training.resident;

import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.training.EpochEngine;
import dev.sparkmnist.training.EpochResult;
import dev.sparkmnist.training.SparkProgress;
import dev.sparkmnist.training.SparkRun;
import dev.sparkmnist.training.TrainingOptions;
import dev.sparkmnist.training.TrainingResult;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training with the resident engine ({@link ResidentEngine}): one long-lived task per worker keeps the network and
 * averages executor to executor; one barrier stage trains the run's epochs (or each epoch is one or several stages:
 * {@code --rounds-per-stage}, the {@code epochSpans} switch).
 */
public final class ResidentTraining implements EpochEngine {
    private static final Logger LOG = LoggerFactory.getLogger(ResidentTraining.class);

    private final SparkRun run;
    private final ResidentEngine engine;
    private final SparkProgress watcher;
    private final Set<String> jvms = new TreeSet<>();
    /** The last epoch's evaluation by its workers, until {@link #evaluate} hands it over. */
    private EvaluationReport evaluated;
    private double evaluationSeconds;
    private double wallSeconds = Double.NaN;

    private ResidentTraining(SparkRun run, ResidentEngine engine) {
        this.run = run;
        this.engine = engine;
        this.watcher = SparkProgress.watch(run.sc().sc(), engine.examplesFitted(), run.progress());
    }

    /** Trains {@code run}'s network for the epochs it has still to do. */
    public static TrainingResult train(SparkRun run) {
        TrainingOptions options = run.options();
        TrainingOptions.Averaging averaging = options.averaging();
        MultiLayerNetwork net = run.network();
        boolean stageEvaluation = StageEvaluation.enabled();
        try (ResidentEngine engine = new ResidentEngine(run.sc(), run.train(), new ResidentSettings(
            run.partitions(), options.batching().perWorker(), averaging.frequency(), averaging.roundsPerStage(),
            options.input().normalization(), options.seed(), run.setup(), averaging.exchangeTimeoutSeconds(),
            Slots.waitSeconds(run.sc().getConf()), averaging.overlap(), averaging.updaterAveraging(),
            run.model().randomShift()), run.hadoop(),
            stageEvaluation ? new StageEvaluation(run.test(), options.batching().eval()) : null)) {
            // with auto: a short probe measures what a round costs (at the start of the epochs' stage where they run
            // as one)
            int frequency = engine.frequency(net, run.start().epochsDone(), options.epochs());
            boolean overlapped = run.partitions() > 1 && averaging.overlap(); // one worker exchanges nothing
            TrainingOptions.UpdaterAveraging updater = averaging.updaterAveraging().at(frequency);
            LOG.info("training {} ({} parameters) on {} with the resident engine: {} workers, {} ND4J thread(s)"
                + " each, averaging every {} minibatches{}{}{}; {}", run.model().architecture(), net.numParams(),
                run.train(), run.partitions(), run.setup().threads(), frequency, averaging.auto() ? " (auto)" : "",
                overlapped ? ", each exchange overlapping the next round" : "",
                run.partitions() == 1 ? "" : updater == TrainingOptions.UpdaterAveraging.ROUND
                    ? ", the updater state with the parameters" : ", the updater state at the end of each stage",
                stageEvaluation ? "the workers evaluate each epoch at the end of its last stage"
                    : "each epoch evaluated in a job of its own");
            TrainingResult.Averaging how = new TrainingResult.Averaging(frequency, averaging.auto() ? "auto"
                : "given", engine.autoFrequency(), overlapped,
                updater.optionValue());
            ResidentTraining training = new ResidentTraining(run, engine);
            List<EpochResult> epochs;
            try {
                epochs = run.epochs(training);
            } finally {
                training.watcher.close();
            }
            return new TrainingResult(net, epochs, run.setup().threads(), run.partitions(), training.jvms, how);
        }
    }

    @Override
    public FitStats fitEpoch(int epoch) {
        watcher.reset();
        evaluated = null;
        ResidentEngine.EpochFit fit = engine.fitEpoch(run.network(), epoch, run.options().epochs());
        evaluated = fit.evaluation();
        evaluationSeconds = fit.evaluationSeconds();
        wallSeconds = fit.wallSeconds();
        jvms.clear();
        jvms.addAll(fit.jvms());
        LOG.info("epoch {}: {} rounds in {} stage(s); per worker: fit {}s, averaging {}s (waiting for peers {}s),"
            + " reading {}s, {} KB moved per round; {} of {} worker tasks went on with their kept networks", epoch + 1,
            fit.rounds(), fit.stages(), seconds(fit.computeSeconds()), seconds(fit.exchangeSeconds()),
            seconds(fit.waitSeconds()), seconds(fit.readSeconds()), fit.bytesPerRound() / 1024,
            fit.resumedWorkers(), fit.stages() * run.partitions());
        return fit.stats();
    }

    private static String seconds(double s) {
        return String.format(Locale.ROOT, "%.2f", s);
    }

    /**
     * The workers' evaluation at the end of the last epoch's last stage, of the network that epoch ended with
     * ({@link StageEvaluation}); else an evaluation job of its own.
     */
    @Override
    public EvaluationReport evaluate() {
        EvaluationReport report = evaluated;
        evaluated = null;
        return report != null ? report : run.evaluation().apply(run.network());
    }

    @Override
    public double evaluationSecondsInFit() {
        return evaluationSeconds;
    }

    @Override
    public double fitWallSeconds() {
        return wallSeconds;
    }

    @Override
    public MultiLayerNetwork network() {
        return run.network();
    }
}
