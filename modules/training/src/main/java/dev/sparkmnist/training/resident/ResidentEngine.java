package dev.sparkmnist.training.resident;

import dev.sparkmnist.data.MnistBatches;
import dev.sparkmnist.data.MnistRdds;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.data.ReaderArrays;
import dev.sparkmnist.data.SparkJobs;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.evaluation.PartialEvaluation;
import dev.sparkmnist.models.ExchangeBlend;
import dev.sparkmnist.training.EpochEngine;
import dev.sparkmnist.training.TrainingOptions;
import dev.sparkmnist.runtime.TaskSetup;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SerializableWritable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.reflect.ClassTag$;

/**
 * Driver side of the resident-workers engine. Each epoch runs as one Spark barrier stage (or several, with
 * {@code roundsPerStage}) of {@code workers} tasks started together; each task is a {@link WorkerTask} that keeps
 * its network resident for the whole stage (and, in its JVM, for the next stage: {@link ResidentNets}) and averages
 * with its peers every {@code frequency} minibatches, executor to executor ({@link PeerExchange}); the driver takes
 * part once per stage (the {@link Rendezvous}), never per round. The update rule is DL4J's parameter averaging (mean
 * of parameters and updater state over the workers that trained in the round), without a Spark job per round.
 *
 * <p>Faults: the barrier stage is a result stage (the workers' reports come back as task results, without a
 * shuffle), which Spark does not retry: when any of its tasks fails (an executor killed, a task error) Spark fails the
 * job, and the engine submits the stage again, up to {@code spark.stage.maxConsecutiveAttempts} attempts in all (the
 * limit Spark puts on its own stage retries). Every attempt starts again from the parameters broadcast at the start of
 * the stage (a task takes a kept network out before training it, so a retry goes on only with kept networks no
 * failed task touched, and rebuilds the rest), and only the successful attempt's reports reach the driver, so no
 * example is counted twice. The work lost is at most one stage: one epoch by default, {@code roundsPerStage} rounds
 * when set.
 * When the cluster shrinks below the workers (an executor lost and not replaced), the stage is cancelled after
 * {@code slotWaitSeconds} with one line naming the slots ({@link Slots#watch}).
 */
public final class ResidentEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ResidentEngine.class);

    private final JavaSparkContext sc;
    private final ResidentSettings settings;
    private final ResidentJob job;
    private final Rendezvous rendezvous;
    private AutoFrequency auto;
    /** Stage attempts started: the last one's token ({@link ResidentNets}). */
    private long tokens;
    /**
     * The stage attempt whose end state {@link #residentNet} holds and whose workers kept their networks, or -1; the
     * network it was applied to, which must be the one the next stage trains (else its workers rebuild theirs).
     */
    private long resident = -1;
    private MultiLayerNetwork residentNet;

    /**
     * What one epoch did on the resident engine.
     *
     * @param stats the counts every engine reports (loss, minibatches, examples, rounds, mean compute seconds per
     *     worker, stage retries)
     * @param stages stages the epoch ran in
     * @param perWorker mean seconds per worker outside fitting
     * @param bytesPerRound bytes a worker moved per averaging round
     * @param jvms the JVMs (pid@host) that ran workers
     * @param resumedWorkers worker tasks (over the epoch's stages) that went on with the network they kept from the
     *     stage before instead of rebuilding it from the broadcast ({@link ResidentNets})
     * @param evaluation the test split scored by the workers at the end of the epoch's last stage
     *     ({@link StageEvaluation}), or null where the engine has none
     * @param evaluationSeconds the longest of the workers' evaluations (part of the stage's time), 0 without one
     * @param wallSeconds for an epoch of a stage that spans epochs, the time from the outcome of the epoch before
     *     (or the call, for the first one the stage trains) to its own; NaN otherwise (the call's time is the epoch's)
     */
    public record EpochFit(EpochEngine.FitStats stats, int stages, Overheads perWorker, long bytesPerRound,
                           Set<String> jvms, int resumedWorkers, EvaluationReport evaluation,
                           double evaluationSeconds, double wallSeconds) {
        public double lossSum() {
            return stats.lossSum();
        }

        public long minibatches() {
            return stats.minibatches();
        }

        public long examples() {
            return stats.examples();
        }

        public int rounds() {
            return stats.rounds();
        }

        public double computeSeconds() {
            return stats.computeSeconds();
        }

        /** Stage attempts, retries included. */
        public int stageAttempts() {
            return stages + stats.stageRetries();
        }

        public double exchangeSeconds() {
            return perWorker.exchangeSeconds();
        }

        public double waitSeconds() {
            return perWorker.waitSeconds();
        }

        public double readSeconds() {
            return perWorker.readSeconds();
        }
    }

    /**
     * Mean seconds per worker outside fitting.
     *
     * @param exchangeSeconds averaging with the peers (waiting included)
     * @param waitSeconds waiting for the peers
     * @param readSeconds reading data not hidden behind training
     */
    public record Overheads(double exchangeSeconds, double waitSeconds, double readSeconds) {
    }

    public ResidentEngine(JavaSparkContext sc, MnistSet train, ResidentSettings settings) {
        this(sc, train, settings, null);
    }

    /**
     * The same, the workers reading {@code train} with {@code hadoop} (the run's broadcast of the Hadoop
     * configuration, {@link dev.sparkmnist.data.MnistRdds#hadoopConf}; null: the engine broadcasts its own).
     */
    public ResidentEngine(JavaSparkContext sc, MnistSet train, ResidentSettings settings,
                          Broadcast<SerializableWritable<Configuration>> hadoop) {
        this(sc, train, settings, hadoop, null);
    }

    /**
     * The same, the workers scoring {@code evaluation}'s test split at the end of every epoch's last stage
     * ({@link StageEvaluation}; null: the epoch's {@link EpochFit#evaluation} is null and the caller evaluates).
     */
    ResidentEngine(JavaSparkContext sc, MnistSet train, ResidentSettings settings,
                   Broadcast<SerializableWritable<Configuration>> hadoop, StageEvaluation evaluation) {
        if (settings.workers() <= 0) {
            throw new IllegalArgumentException("workers (" + settings.workers() + ") must be > 0");
        }
        Slots.require(sc, settings.workers(), settings.slotWaitSeconds());
        this.sc = sc;
        this.settings = settings;
        String runPrefix = "smnist-" + UUID.randomUUID().toString().substring(0, 8);
        String endpoint = runPrefix + "-rendezvous";
        this.rendezvous = sc.isLocal() ? null : Rendezvous.start(endpoint); // local mode: every worker is here
        if (sc.isLocal() && settings.workers() > 1) {
            ExchangeBlend.start(); // the workers' JVM: warm the blend while the run sets up
        }
        this.job = new ResidentJob(train, hadoop != null ? hadoop : MnistRdds.hadoopConf(sc),
            settings, runPrefix, endpoint, sc.sc().longAccumulator("resident examples fitted"), evaluation);
        if (sc.isLocal()) { // the workers' JVM: their first reads find the files in memory (IdxCache)
            Configuration conf = job.hadoop().value().value();
            MnistBatches.prefetch(train, conf);
            if (evaluation != null) {
                MnistBatches.prefetch(evaluation.test(), conf);
            }
            // and the arrays of each worker's first two chunks are made (their pages touched) on the other core, not
            // on the first epoch's clock; auto sizes them for its ceiling; no more than a worker's share of the set
            int frequency = settings.frequency() == TrainingOptions.AUTO_AVERAGING ? AutoFrequency.CEILING
                : settings.frequency();
            long perWorker = readerMinibatches(frequency, train.size(), settings.workers(), settings.batch());
            ReaderArrays.prepare((int) Math.min(Integer.MAX_VALUE, settings.workers() * perWorker), settings.batch(),
                train.pixels());
        }
    }


    /**
     * Minibatches a worker's reader holds at once: two chunks (the one its worker fits from and the next, read ahead)
     * of {@link WorkerTask#ROUNDS_PER_CHUNK} rounds of {@code frequency} minibatches of {@code batch}, no more than
     * the worker's share of an epoch of {@code examples} over {@code workers}. A reader that is closed leaves them to
     * the next in its JVM ({@link ReaderArrays}).
     */
    public static long readerMinibatches(int frequency, long examples, int workers, long batch) {
        long share = (examples / Math.max(1, workers) + batch - 1) / batch;
        return Math.min(2L * frequency * WorkerTask.ROUNDS_PER_CHUNK, share);
    }

    /**
     * The examples counter the workers add to after each minibatch; Spark sends running tasks' values with executor
     * heartbeats, so the driver can show progress within a stage.
     */
    public LongAccumulator examplesFitted() {
        return job.examplesFitted();
    }

    /** The name of the driver's rendezvous endpoint (as {@link DriverMessages} counts it). */
    public String rendezvousName() {
        return job.rendezvous();
    }

    /** Join messages the driver's rendezvous received (one per worker and stage attempt; 0 in local mode). */
    public long rendezvousMessages() {
        return rendezvous == null ? 0 : rendezvous.joins();
    }

    /**
     * Minibatches per round: the given frequency, or with {@link TrainingOptions#AUTO_AVERAGING} the one a probe stage chooses on
     * {@code net} (once per engine; {@link AutoFrequency}).
     */
    public int frequency(MultiLayerNetwork net) {
        if (settings.frequency() != TrainingOptions.AUTO_AVERAGING) {
            return settings.frequency();
        }
        if (settings.workers() == 1) {
            return AutoFrequency.CEILING; // nothing to average: no probe; the frequency only sizes the reader's chunks
        }
        if (auto == null) {
            StageRun probe = runStage(net, probePlan(), 0, 0, true);
            resident = probe.token(); // its workers kept networks of net's state (WorkerTask): the first epoch's
            residentNet = net; // stage goes on with them where net is still the network it trains
            auto = AutoFrequency.of(probe.reports());
            logAuto("");
        }
        return auto.frequency();
    }

    /** The switch of {@link #frequency(MultiLayerNetwork, int, int)}'s probe in a span: on unless set to false. */
    static final String PROBE_IN_SPAN = "sparkmnist.probeInSpan";

    /**
     * The same, for a run that goes on to train {@code net} for epochs {@code first} to {@code end - 1}: where auto
     * must still probe and those epochs will run as one stage (a span: several epochs, no {@code roundsPerStage},
     * spans on),
     * the probe runs at the start of that stage, whose workers agree on the frequency among themselves
     * ({@link AutoFrequency#agree}) and go on into epoch {@code first} without a stage launch in between (on the
     * 2-Worker standalone cluster 0.25-0.4 s of epoch 1 was outside the workers' training with a probe stage of its
     * own; BENCHMARKS.md, round 38). Epoch {@code first}'s clock starts when the driver has the probe's outcome, as a
     * span's later epochs' start when the driver has the epoch before. Should that stage fail during the probe, the
     * probe runs in a stage of its own as {@link #frequency(MultiLayerNetwork)} does.
     */
    public int frequency(MultiLayerNetwork net, int first, int end) {
        boolean oneStage = settings.roundsPerStage() == 0 && end > first + 1 && spans();
        if (auto == null && settings.frequency() == TrainingOptions.AUTO_AVERAGING && settings.workers() > 1
            && oneStage && dev.sparkmnist.runtime.Switches.enabled(PROBE_IN_SPAN)) {
            probeInSpan(net, first, end);
        }
        int frequency = frequency(net);
        if (span == null && oneStage && dev.sparkmnist.runtime.Switches.enabled(READY_IN_SPAN)) {
            readyInSpan(net, frequency, first, end);
        }
        return frequency;
    }

    /** The switch of {@link #frequency(MultiLayerNetwork, int, int)}'s set-up before the clock: on unless false. */
    static final String READY_IN_SPAN = "sparkmnist.readyInSpan";

    /**
     * Starts the stage of epochs {@code first} to {@code end - 1} at {@code frequency} where no probe starts it (a
     * given frequency, one worker, or a probe that ran in a stage of its own) and waits until every worker reports
     * that it has its network and its first reader open ({@link WorkerTask#READY_EPOCH}); epoch {@code first}'s clock
     * starts then, as after a span's probe. Without it the stage's launch, the networks built from its state and the
     * first reads fell on epoch 1's clock: 0.8-1.1 s of the default job's at a given frequency, epoch 1 / epoch 2
     * 1.39-1.57 (BENCHMARKS.md, round 42). The set-up's time is logged. Should the stage fail before every worker is
     * set up, epoch {@code first} starts another, on its clock.
     */
    private void readyInSpan(MultiLayerNetwork net, int frequency, int first, int end) {
        long t0 = System.nanoTime();
        Span s = new Span(net, epochPlan(frequency), first, end, 0, false, true);
        try {
            EpochReports.await(s.key, WorkerTask.READY_EPOCH, settings.workers(), s.done);
        } catch (Exception e) {
            s.close();
            LOG.warn("the stage of epochs {}-{} failed as its workers set up ({}): epoch {} starts another", first + 1,
                end, reason(e), first + 1);
            return;
        }
        s.mark = System.nanoTime(); // epoch first's clock starts here, as after a span's probe
        span = s;
        LOG.info("epochs {}-{}: {} worker(s) set up in {} s (the stage's launch, the networks, the first reads), before"
            + " epoch {}'s clock", first + 1, end, settings.workers(),
            String.format(java.util.Locale.ROOT, "%.2f", (s.mark - t0) / 1e9), first + 1);
    }

    private void probeInSpan(MultiLayerNetwork net, int first, int end) {
        abandon();
        Span s = new Span(net, probePlan(), first, end, 0, true, false);
        List<WorkerOutcome> probes;
        try {
            probes = EpochReports.await(s.key, WorkerTask.PROBE_EPOCH, settings.workers(), s.done);
        } catch (Exception e) {
            s.close();
            LOG.warn("the averaging-frequency probe at the start of epochs {}-{} failed ({}): probing in a stage of"
                + " its own", first + 1, end, reason(e));
            return;
        }
        probes.sort(Comparator.comparingInt(r -> r.worker));
        int agreed = probes.get(0).agreedFrequency;
        if (probes.stream().anyMatch(r -> r.agreedFrequency != agreed)) { // cannot happen: the exchange gives every
            // worker the same floats; they would train at different frequencies
            s.close();
            LOG.warn("the workers of the averaging-frequency probe at the start of epochs {}-{} chose different"
                + " frequencies: probing in a stage of its own", first + 1, end);
            return;
        }
        AutoFrequency measured = AutoFrequency.of(probes);
        auto = measured.frequency() == agreed ? measured : new AutoFrequency(agreed, measured.minibatchMillis(),
            measured.exchangeMillis(), measured.waitMillis());
        s.plan = epochPlan(agreed);
        s.mark = System.nanoTime(); // epoch first's clock starts here, as a span's later epochs' do
        span = s;
        logAuto(" (the workers go on into epoch " + (first + 1) + " in the probe's stage)");
    }

    /** An epoch's plan at {@code frequency} minibatches a round. */
    private StagePlan epochPlan(int frequency) {
        return StagePlan.of(job.set().size(), settings.workers(), settings.batch(), frequency,
            settings.roundsPerStage());
    }

    /** The probe's plan: every minibatch a round, the whole epoch one stage (it stops after its rounds). */
    private StagePlan probePlan() {
        return StagePlan.of(job.set().size(), settings.workers(), settings.batch(), 1, 0);
    }

    private void logAuto(String after) {
        LOG.info("--averaging-frequency auto: a minibatch takes {} ms and an exchange {} ms with {} workers (a"
            + " round also waited {} ms for the slowest worker), so averaging every {} minibatches keeps the"
            + " exchange under {}% of training (floor {}, ceiling {}){}",
            String.format(java.util.Locale.ROOT, "%.2f", auto.minibatchMillis()),
            String.format(java.util.Locale.ROOT, "%.2f", auto.exchangeMillis()), settings.workers(),
            String.format(java.util.Locale.ROOT, "%.2f", auto.waitMillis()), auto.frequency(),
            String.format(java.util.Locale.ROOT, "%.1f", AutoFrequency.SHARE * 100), AutoFrequency.FLOOR,
            AutoFrequency.CEILING, after);
    }

    /** The automatic choice and what it was based on, or null when the frequency was given (or not yet probed). */
    public AutoFrequency autoFrequency() {
        return auto;
    }

    /**
     * Trains {@code net} for one epoch ({@code epoch} 0-based, which fixes the example order) and leaves the
     * averaged parameters and updater state in it.
     */
    public EpochFit fitEpoch(MultiLayerNetwork net, int epoch) {
        return fitEpoch(net, epoch, epoch + 1);
    }

    /**
     * The same, for a run whose epochs end at {@code endEpoch} (exclusive): where an epoch is one stage (no
     * {@code roundsPerStage}) and spans are on ({@link #SPANS}), the stage this epoch starts goes on through the later
     * epochs, its workers handing each epoch's outcome to the driver as they go ({@link EpochReports}), and the calls
     * for those epochs take their outcomes instead of starting stages of their own. The floats are the same as one
     * stage an epoch: a worker that goes on from its own network at the end of an epoch holds what a kept network
     * would ({@link ResidentNets}).
     */
    public EpochFit fitEpoch(MultiLayerNetwork net, int epoch, int endEpoch) {
        StagePlan plan = epochPlan(frequency(net));
        if (span != null && (span.net != net || epoch != span.next || span.plan.frequency() != plan.frequency())) {
            abandon(); // not the epoch the running span trains next: it is of no use
        }
        if (plan.stages() == 1 && (span != null || (endEpoch > epoch + 1 && spans()))) {
            return spanEpoch(net, plan, epoch, endEpoch);
        }
        EpochTotals totals = new EpochTotals();
        for (int stage = 0; stage < plan.stages(); stage++) {
            StageRun run = runStage(net, plan, stage, epoch, false);
            totals.add(run.reports());
            NetState.apply(net, run.finalVector());
            net.setIterationCount(run.reports().get(0).iterationCount);
            resident = run.token(); // net now holds what every worker of that attempt ended on and kept
            residentNet = net;
            totals.attempts += run.attempts();
        }
        net.incrementEpochCount();
        return totals.fit(plan, Double.NaN);
    }

    /** The switch of spans ({@link dev.sparkmnist.runtime.Switches}): on unless set to false. */
    static final String SPANS = "sparkmnist.epochSpans";

    private static boolean spans() {
        return dev.sparkmnist.runtime.Switches.enabled(SPANS);
    }

    /** A stage that trains epochs {@code first} to {@code end - 1}, running in the background ({@link #fitEpoch}). */
    private final class Span {
        final MultiLayerNetwork net;
        /** The span's plan (one that starts with the probe: the probe's, then the agreed frequency's). */
        StagePlan plan;
        final int first;
        final int end;
        final long token;
        final String key;
        final String group;
        final String stateKey;
        final Broadcast<NetState> broadcast;
        final Slots.Watch watch;
        /** The stage's job: its tasks' (empty) results, or its failure. */
        final CompletableFuture<List<WorkerOutcome>> done = new CompletableFuture<>();
        /** The next epoch whose outcomes the driver takes. */
        int next;
        /** When the driver took the last epoch's outcomes (System.nanoTime). */
        long mark;

        Span(MultiLayerNetwork net, StagePlan plan, int first, int end, int attempt) {
            this(net, plan, first, end, attempt, false, false);
        }

        /**
         * {@code probe}: the stage starts with the probe ({@link #probeInSpan}); {@code ready}: its workers report
         * being set up before the first epoch ({@link #readyInSpan}).
         */
        Span(MultiLayerNetwork net, StagePlan plan, int first, int end, int attempt, boolean probe, boolean ready) {
            this.net = net;
            this.plan = plan;
            this.first = first;
            this.end = end;
            this.next = first;
            long resumeFrom = net == residentNet ? resident : -1;
            resident = -1; // from here until the span's last epoch, net and the kept networks may differ
            String what = (probe ? "the averaging-frequency probe, then epochs " : "epochs ") + (first + 1) + "-" + end;
            Slots.awaitForStage(sc, plan.workers(), settings.slotWaitSeconds());
            this.token = ++tokens;
            this.key = EpochReports.key(job.runPrefix(), token);
            this.group = job.runPrefix() + "-epochs" + (first + 1) + "-" + end + "-" + token;
            this.stateKey = job.runPrefix() + "/state/" + group;
            StageState state = stageState(net, stateKey);
            broadcast = state.broadcast();
            WorkerTask task = new WorkerTask(state.source(), job, plan, 0, first, end, key, probe, ready, attempt,
                token, resumeFrom, net.getIterationCount(), net.getEpochCount());
            RDD<WorkerOutcome> trained = barrierStage(plan.workers(), task);
            EpochReports.open(key);
            watch = Slots.watch(sc, group, plan.workers(), settings.slotWaitSeconds());
            Thread submitter = new Thread(() -> {
                // the job group is the submitting thread's: the soak's injector and the slot watch find the stage by it
                sc.setJobGroup(group, "resident workers: " + what + ", one stage", true);
                try {
                    done.complete(new ArrayList<>(SparkJobs.collect(trained)));
                } catch (Throwable e) { // SparkException (checked, though Java's API does not declare it) included
                    done.completeExceptionally(e);
                } finally {
                    sc.clearJobGroup();
                }
            }, "resident-" + what.replace(", then", "").replace(' ', '-'));
            submitter.setDaemon(true);
            submitter.start();
        }

        /** Lets go of what the span holds on the driver; cancels its job if it still runs. */
        void close() {
            if (!done.isDone()) {
                sc.cancelJobGroup(group);
                try {
                    done.handle((r, e) -> null).get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    LOG.warn("the stage of {} did not end within 30 s of its cancellation", group);
                }
            }
            watch.close();
            EpochReports.close(key);
            LocalHandover.withdraw(stateKey);
            if (broadcast != null) {
                broadcast.destroy();
            }
        }
    }

    /** The running span, or null. */
    private Span span;

    /** Ends the running span, if any, without taking its outcomes. */
    private void abandon() {
        if (span != null) {
            Span s = span;
            span = null;
            s.close();
        }
    }

    private EpochFit spanEpoch(MultiLayerNetwork net, StagePlan plan, int epoch, int endEpoch) {
        // the epoch's time: from the outcome of the one before, when the workers went on to this one, or from here
        long from = span != null ? span.mark : System.nanoTime();
        int maxAttempts = maxAttempts(sc);
        String what = "epoch " + (epoch + 1);
        for (int attempt = 0; ; attempt++) {
            if (span == null) {
                span = new Span(net, plan, epoch, endEpoch, attempt);
            }
            List<WorkerOutcome> reports;
            try {
                reports = EpochReports.await(span.key, epoch, plan.workers(), span.done);
            } catch (Exception e) {
                Span failed = span;
                span = null;
                failed.close();
                if (failed.watch.shrunk() != null) {
                    throw new ClusterShrankException(failed.watch.shrunk(), e);
                }
                if (attempt + 1 >= maxAttempts || sc.sc().isStopped() || Thread.currentThread().isInterrupted()) {
                    throw SparkJobs.rethrow(e); // the stage's failure as it is, as a stage an epoch throws it
                }
                LOG.warn("{}: attempt {} of {} failed ({}); retrying from the epoch's start, in a stage through"
                    + " epoch {}", what, attempt + 1, maxAttempts, reason(e), endEpoch);
                continue;
            }
            if (attempt > 0) {
                LOG.warn("{} succeeded on attempt {}: earlier attempts failed and were discarded", what, attempt + 1);
            }
            reports.sort(Comparator.comparingInt(r -> r.worker));
            if (reports.get(0).worker != 0 || reports.get(0).finalVector == null) {
                throw new IllegalStateException(what + " returned no network from worker 0");
            }
            Span s = span;
            EpochTotals totals = new EpochTotals();
            totals.add(reports);
            totals.attempts = attempt + 1;
            if (epoch == s.first) {
                LocalHandover.withdraw(s.stateKey); // every worker has its network: the state is of no more use
            }
            NetState.apply(net, reports.get(0).finalVector);
            net.setIterationCount(reports.get(0).iterationCount);
            net.incrementEpochCount();
            s.next = epoch + 1;
            s.mark = System.nanoTime();
            double wall = (s.mark - from) / 1e9;
            if (s.next == s.end) { // the span's last epoch: its job ends with the workers' tasks
                try {
                    s.done.get();
                } catch (Exception e) {
                    LOG.warn("the stage of epochs {}-{} failed after its last epoch's outcomes: {}", s.first + 1, s.end,
                        reason(e));
                }
                span = null;
                s.close();
                resident = s.token; // every worker of the span kept its network at its end
                residentNet = net;
            }
            return totals.fit(plan, wall);
        }
    }

    /** The sums over an epoch's stages that its {@link EpochFit} reports. */
    private final class EpochTotals {
        double lossSum;
        long minibatches;
        long examples;
        int attempts;
        double compute;
        double exchange;
        double wait;
        double read;
        long bytes;
        final Set<String> jvms = new TreeSet<>();
        int resumed;
        PartialEvaluation evaluated;
        long evaluationNanos;
        int stages;

        /** One stage's reports, in worker order. */
        void add(List<WorkerOutcome> reports) {
            stages++;
            for (WorkerOutcome r : reports) { // in worker order, as the evaluation job merges its partitions
                if (r.evaluation != null) {
                    evaluated = evaluated == null ? r.evaluation : evaluated.merge(r.evaluation);
                    evaluationNanos = Math.max(evaluationNanos, r.evaluationNanos);
                }
            }
            for (WorkerOutcome r : reports) {
                LOG.debug("stage {}, worker {} ({}): compute {} s, averaging {} s (waiting {} s), reading {} s",
                    stages, r.worker, r.jvm, r.computeNanos / 1e9, r.exchangeNanos / 1e9, r.waitNanos / 1e9,
                    r.readNanos / 1e9);
                lossSum += r.lossSum;
                minibatches += r.minibatches;
                examples += r.examples;
                compute += r.computeNanos / 1e9 / reports.size();
                exchange += r.exchangeNanos / 1e9 / reports.size();
                wait += r.waitNanos / 1e9 / reports.size();
                read += r.readNanos / 1e9 / reports.size();
                bytes += r.bytesMoved / reports.size();
                jvms.add(r.jvm);
                resumed += r.resumed ? 1 : 0;
            }
        }

        EpochFit fit(StagePlan plan, double wallSeconds) {
            int rounds = plan.rounds();
            return new EpochFit(new EpochEngine.FitStats(lossSum, minibatches, examples, rounds, compute,
                attempts - plan.stages()), plan.stages(), new Overheads(exchange, wait, read),
                rounds == 0 ? 0 : bytes / rounds, jvms, resumed, evaluated == null ? null : evaluated.report(),
                evaluationNanos / 1e9, wallSeconds);
        }
    }

    /** Where a stage's workers find its starting state, and the broadcast that holds it (null: handed over). */
    private record StageState(LocalHandover.Source source, Broadcast<NetState> broadcast) {
    }

    /**
     * {@code net}'s state for a stage's workers that rebuild their networks: in local mode handed over in the JVM
     * under {@code stateKey} ({@link LocalHandover}), else a broadcast. The caller withdraws or destroys it.
     */
    private StageState stageState(MultiLayerNetwork net, String stateKey) {
        if (sc.isLocal() && LocalHandover.enabled()) {
            LocalHandover.offer(stateKey, net);
            return new StageState(LocalHandover.Source.local(stateKey), null);
        }
        Broadcast<NetState> broadcast = sc.broadcast(NetState.of(net));
        return new StageState(LocalHandover.Source.broadcast(broadcast), broadcast);
    }

    /** A barrier stage of one task a worker, each running {@code task}. */
    private RDD<WorkerOutcome> barrierStage(int workers, WorkerTask task) {
        List<Integer> ids = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            ids.add(w);
        }
        return sc.parallelize(ids, workers).rdd().barrier().mapPartitions(task, false,
            ClassTag$.MODULE$.apply(WorkerOutcome.class));
    }

    /**
     * A stage that succeeded: its workers' reports, by worker, the attempts it took (1 without a retry) and the state
     * its workers ended on (worker 0's final vector; null for the probe).
     */
    private record StageRun(List<WorkerOutcome> reports, int attempts, long token, float[] finalVector) {
    }

    private StageRun runStage(MultiLayerNetwork net, StagePlan plan, int stage, int epoch, boolean probe) {
        // the workers go on with the networks they kept only where net is the one the last stage's result went into
        long resumeFrom = !probe && net == residentNet ? resident : -1;
        resident = -1; // from here until this stage's result is applied, net and the kept networks may differ
        String group = job.runPrefix() + (probe ? "-probe" : "-epoch" + epoch + "-stage" + stage);
        // local mode: the workers are in this JVM; they take the state from net if they need it, and worker 0 leaves
        // its final vector here (LocalHandover); elsewhere a broadcast and the task's result carry them
        String stateKey = job.runPrefix() + "/state/" + group;
        StageState stageState = stageState(net, stateKey);
        boolean handOver = stageState.broadcast() == null;
        Broadcast<NetState> broadcast = stageState.broadcast();
        LocalHandover.Source state = stageState.source();
        String what = probe ? "the averaging-frequency probe" : "epoch " + (epoch + 1) + " stage " + (stage + 1);
        sc.setJobGroup(group, probe ? "resident workers: averaging-frequency probe" : "resident workers: epoch "
            + (epoch + 1) + ", stage " + (stage + 1) + "/" + plan.stages(), true);
        int maxAttempts = maxAttempts(sc);
        try (Slots.Watch watch = Slots.watch(sc, group, plan.workers(), settings.slotWaitSeconds())) {
            for (int attempt = 0; ; attempt++) {
                Slots.awaitForStage(sc, plan.workers(), settings.slotWaitSeconds());
                long token = ++tokens;
                WorkerTask task = new WorkerTask(state, job, plan, stage, epoch, probe, attempt, token, resumeFrom,
                    net.getIterationCount(), net.getEpochCount());
                RDD<WorkerOutcome> trained = barrierStage(plan.workers(), task);
                List<WorkerOutcome> reports;
                try {
                    // a barrier result stage: the workers' reports come back as task results (worker 0's carries
                    // the network); SparkJobs gives Spark's closure cleaner nothing to parse
                    reports = new ArrayList<>(SparkJobs.collect(trained));
                } catch (Exception e) { // SparkException (checked, though Java's API does not declare it) included
                    LocalHandover.take(LocalHandover.resultKey(job.runPrefix(), token)); // a failed attempt's
                    if (watch.shrunk() != null) {
                        throw new ClusterShrankException(watch.shrunk(), e);
                    }
                    if (attempt + 1 >= maxAttempts || sc.sc().isStopped() || Thread.currentThread().isInterrupted()) {
                        throw e;
                    }
                    LOG.warn("{}: attempt {} of {} failed ({}); retrying the stage from its start", what,
                        attempt + 1, maxAttempts, reason(e));
                    continue;
                }
                reports.sort(Comparator.comparingInt(r -> r.worker));
                float[] last = handOver && !probe ? LocalHandover.take(LocalHandover.resultKey(job.runPrefix(), token))
                    : reports.isEmpty() ? null : reports.get(0).finalVector;
                if (reports.size() != plan.workers() || reports.get(0).worker != 0 || (!probe && last == null)) {
                    throw new IllegalStateException(what + " returned " + reports.size() + " worker reports, expected "
                        + plan.workers());
                }
                if (attempt > 0) {
                    LOG.warn("{} succeeded on attempt {}: earlier attempts failed and were discarded", what,
                        attempt + 1);
                }
                return new StageRun(reports, attempt + 1, token, last);
            }
        } finally {
            sc.clearJobGroup();
            if (broadcast != null) {
                broadcast.destroy();
            }
            LocalHandover.withdraw(stateKey);
        }
    }

    /**
     * Attempts of a stage before the job fails: {@code spark.stage.maxConsecutiveAttempts} (default 4), the limit
     * Spark puts on retrying a failed stage.
     */
    static int maxAttempts(JavaSparkContext sc) {
        return Math.max(1, sc.getConf().getInt("spark.stage.maxConsecutiveAttempts", 4));
    }

    /**
     * Why a stage attempt failed, in one line: Spark's message for a failed barrier stage says only that a task
     * "finished unsuccessfully" on its first line and gives the task's own failure (its exception, or an executor
     * lost) on the next, before the remote stack trace; that line, else the first.
     */
    static String reason(Throwable e) {
        String[] lines = String.valueOf(e.getMessage()).split("\\R");
        String why = lines[0].strip();
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i].strip();
            if (!line.isEmpty() && !line.startsWith("at ") && !line.startsWith("Driver stacktrace")) {
                why = line;
                break;
            }
        }
        return why.length() <= 300 ? why : why.substring(0, 300) + "...";
    }

    /** Cancels a span still running; removes the driver's rendezvous endpoint. */
    @Override
    public void close() {
        abandon();
        EpochReports.release(job.runPrefix());
        if (rendezvous != null) {
            rendezvous.stop();
        }
        ResidentNets.release(job.runPrefix()); // this JVM's (local mode: all of them); executors end with the app
        LocalHandover.release(job.runPrefix());
    }
}
