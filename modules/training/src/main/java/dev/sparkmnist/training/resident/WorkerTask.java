package dev.sparkmnist.training.resident;

import dev.sparkmnist.data.EpochReaders;
import dev.sparkmnist.data.MnistBatches;
import dev.sparkmnist.data.SliceReader;
import dev.sparkmnist.data.PartitionPlan;
import dev.sparkmnist.models.ExchangeBlend;
import dev.sparkmnist.models.TrainingStep;
import dev.sparkmnist.runtime.FlushToZero;
import dev.sparkmnist.training.TrainLoss;
import dev.sparkmnist.training.TrainingOptions;
import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import org.apache.spark.TaskContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import scala.collection.Iterator;
import scala.runtime.AbstractFunction1;

/**
 * One resident worker: the body of one task of the barrier stage. It prepares ND4J and its GPU, goes on with the
 * network it kept at the end of the stage the driver's network came from ({@link ResidentNets}) or else rebuilds the
 * network from the stage's state (its broadcast, or in local mode the driver's network: {@link LocalHandover}),
 * streams its own minibatches of the stage from the idx files ({@link SliceReader}), and for every round fits
 * {@code frequency} minibatches and averages parameters and updater state with its peers ({@link PeerExchange}). It
 * returns one {@link WorkerOutcome}; worker 0's carries the averaged network (in local mode it leaves it in the JVM,
 * {@link LocalHandover}). A stage that spans epochs trains them one after another and hands each epoch's outcome to
 * the driver as it goes ({@link EpochReports}), returning none. In a probe stage ({@link AutoFrequency}) it times a
 * few rounds on a throw-away network instead and keeps another of the stage's starting state, which the first epoch's
 * stage goes on with. A span may start with the probe: its workers time the probe's rounds, agree among themselves on
 * the frequency ({@link AutoFrequency#agree}), hand the probe's outcome to the driver and go on into the span's first
 * epoch at that frequency, from the stage's starting state, without a stage launch in between.
 */
final class WorkerTask extends AbstractFunction1<Iterator<Integer>, Iterator<WorkerOutcome>> implements Serializable {
    private static final long serialVersionUID = 5L;
    /** The "epoch" a span's probe outcome is handed to the driver as ({@link EpochReports}). */
    static final int PROBE_EPOCH = -1;
    /**
     * The "epoch" a span's workers report being set up as, before its first epoch, where the span does not start with
     * the probe ({@link ResidentEngine#frequency(MultiLayerNetwork, int, int)}).
     */
    static final int READY_EPOCH = -2;
    /** Averaging rounds of examples the reader reads at once. */
    static final int ROUNDS_PER_CHUNK = 4;
    private final LocalHandover.Source state;
    private final ResidentJob job;
    /** The epoch's plan; a span that starts with the probe switches it to the agreed frequency's after the probe. */
    private StagePlan plan;
    private final int stage;
    private final int epoch;
    /** Probing now: a probe stage, or the probe a span starts with (false once it is done: this task's own copy). */
    private boolean probe;
    private final int attempt;
    /** This stage attempt, unique within the run: what the workers keep their networks under. */
    private final long token;
    /** The stage attempt whose end state the driver's network holds (-1: none; build from the stage's state). */
    private final long resumeFrom;
    /** The driver's network's counts, which a kept network takes. */
    private final int iterationCount;
    private final int epochCount;
    /**
     * One past the last epoch the stage trains: {@code epoch + 1}, or later for a stage that spans epochs, whose
     * workers hand each epoch's outcome to the driver as they go on ({@link EpochReports} under {@code spanKey}).
     */
    private final int endEpoch;
    /** The span's key ({@link EpochReports#key}), or null for a stage of one epoch (or part of one). */
    private final String spanKey;
    /**
     * A span of a given frequency: each worker reports {@link #READY_EPOCH} once it has its network and its first
     * epoch's reader open, and the driver starts the first epoch's clock when every worker has, as it does after a
     * span's probe; the stage's launch is then not on that clock.
     */
    private final boolean ready;

    /**
     * @param plan the epoch's plan ({@code probe}: frequency 1)
     * @param stage stage of the epoch
     * @param epoch epoch, 0-based: it fixes the example order
     * @param probe time {@link AutoFrequency#PROBE_ROUNDS} rounds instead of training
     * @param attempt the stage's attempt, 0-based (the engine retries a failed stage, not Spark)
     * @param token this stage attempt, unique within the run ({@link ResidentNets})
     * @param state where the stage's starting state is, for a worker that has no kept network
     * @param resumeFrom the stage attempt whose end state {@code state} holds, or -1
     * @param iterationCount the iteration count of the network {@code state} was made from
     * @param epochCount its epoch count
     */
    WorkerTask(LocalHandover.Source state, ResidentJob job, StagePlan plan, int stage, int epoch,
               boolean probe, int attempt, long token, long resumeFrom, int iterationCount, int epochCount) {
        this(state, job, plan, stage, epoch, epoch + 1, null, probe, false, attempt, token, resumeFrom,
            iterationCount, epochCount);
    }

    /**
     * A stage that trains epochs {@code epoch} to {@code endEpoch - 1} one after another (the plan's one stage of
     * each), handing each epoch's outcome to the driver under {@code spanKey} ({@link EpochReports}); {@code ready}:
     * each worker first reports {@link #READY_EPOCH} once set up (not with {@code probe}, whose outcome says as much).
     */
    WorkerTask(LocalHandover.Source state, ResidentJob job, StagePlan plan, int stage, int epoch, int endEpoch,
               String spanKey, boolean probe, boolean ready, int attempt, long token, long resumeFrom,
               int iterationCount, int epochCount) {
        if (ready && (probe || spanKey == null)) {
            throw new IllegalArgumentException("only a span without the probe reports being set up");
        }
        this.state = state;
        this.job = job;
        this.plan = plan;
        this.stage = stage;
        this.epoch = epoch;
        this.probe = probe;
        this.ready = ready;
        this.attempt = attempt;
        this.token = token;
        this.resumeFrom = resumeFrom;
        this.iterationCount = iterationCount;
        this.epochCount = epochCount;
        this.endEpoch = endEpoch;
        this.spanKey = spanKey;
    }

    @Override
    public Iterator<WorkerOutcome> apply(Iterator<Integer> ignored) {
        TaskContext task = TaskContext.get();
        int worker = task.partitionId();
        ResidentSettings settings = job.settings();
        settings.setup().apply();
        if (plan.workers() > 1) {
            ExchangeBlend.start(); // the blend's vector kernel warms while the probe or the first stage runs
        }
        long t0 = System.nanoTime();
        // in a span, the next epoch's reader opens as the worker ends an epoch's fitting: its first chunk is read while
        // the worker scores the test split and hands the epoch over (a probe reads its first rounds, then stops)
        boolean probeFirst = probe && spanKey != null; // a span that starts with the probe
        EpochReaders reads = readers(worker, probe ? epoch + 1 : endEpoch);
        reads.open(epoch); // its first chunk is read while the network is set up
        boolean keeps = ResidentNets.enabled() && dev.sparkmnist.models.HostArrays.CPU; // CUDA: a network's arrays
        // live on the GPU its first task was bound to, which the next task's may not be
        MultiLayerNetwork net;
        boolean resumed;
        WorkerOutcome last = null;
        ExchangeBuffers buffers = new ExchangeBuffers(); // the exchanges' arrays, from the probe's to the last epoch's
        try {
            net = keeps && !probe ? ResidentNets.take(job.runPrefix(), resumeFrom) : null;
            resumed = net != null;
            if (resumed) { // the stage's starting state, already in this JVM: not fetched, not rebuilt
                net.setIterationCount(iterationCount);
                net.setEpochCount(epochCount);
            } else {
                net = state.get().restore();
            }
            if (keeps && probe && !probeFirst) { // the probe trains a throw-away network; the first epoch's stage
                // starts from the same state as this one (the driver's network does not change in between), so each
                // worker keeps a network of it for that stage to go on with, built here instead of on epoch 1's clock
                ResidentNets.keep(job.runPrefix(), token, state.get().restore());
            }
            if (probeFirst) { // the probe trains net, thrown away; the span's epochs start from the stage's state
                MultiLayerNetwork start = state.get().restore();
                WorkerOutcome probed = epoch(task, worker, net, epoch, false, t0, reads, buffers);
                post(PROBE_EPOCH, worker, probed);
                reads.close();
                plan = StagePlan.of(plan.examples(), plan.workers(), plan.batch(), probed.agreedFrequency, 0);
                probe = false;
                reads = readers(worker, endEpoch);
                reads.open(epoch);
                net = start;
                resumed = true; // built before the epoch's clock, as a probe stage's kept network is
                t0 = System.nanoTime();
            }
            if (ready) { // the network is built and the first chunk is being read: the driver's clock starts when
                // every worker is here
                FaultHook.beforeReady(worker, attempt);
                post(READY_EPOCH, worker, new WorkerOutcome.Builder(worker, jvm()).build());
                resumed = true; // built before the epoch's clock, as after a probe
                t0 = System.nanoTime();
            }
            for (int e = epoch; e < endEpoch; e++) {
                if (e > epoch) { // a span: the worker goes on from the end of the epoch before, as the driver's network
                    net.setEpochCount(epochCount + e - epoch);
                }
                WorkerOutcome outcome = epoch(task, worker, net, e, resumed || e > epoch, t0, reads, buffers);
                if (spanKey != null) {
                    post(e, worker, outcome);
                    t0 = System.nanoTime(); // the next epoch's set-up (counted as reading) starts here
                } else {
                    last = outcome;
                }
            }
        } catch (RuntimeException | Error failed) {
            closeInboxes(task, worker);
            throw failed;
        } finally {
            reads.close(); // one opened for an epoch the task did not get to (it failed)
        }
        if (keeps && !probe) { // the stage ended here: every worker holds its last round's mean, the driver's next
            // state
            ResidentNets.keep(job.runPrefix(), token, net);
        }
        if (last == null) { // a span's outcomes went by EpochReports
            @SuppressWarnings("unchecked")
            Iterator<WorkerOutcome> none = (Iterator<WorkerOutcome>) (Iterator<?>) scala.collection.Iterator$.MODULE$
                .empty();
            return none;
        }
        return scala.collection.Iterator$.MODULE$.single(last);
    }

    /**
     * A failing worker closes its inbox of every exchange of this task, the probe's and each epoch's: a peer that goes
     * on meanwhile sends parcels for an epoch this worker did not get to, and they would open an inbox in this JVM that
     * nobody closes (closed, they are dropped). Closing one already closed does nothing.
     */
    private void closeInboxes(TaskContext task, int worker) {
        PeerTransport transport = PeerTransport.get();
        if (spanKey != null) {
            transport.close(exchangeName(task, epoch, true), worker);
        }
        for (int e = epoch; e < endEpoch; e++) {
            transport.close(exchangeName(task, e, false), worker);
        }
    }

    /**
     * The name of this stage attempt's exchange of epoch {@code e} (a probe's, {@code probing}): a span's epochs and
     * its probe number their rounds from 0 each, so each has its own.
     */
    private String exchangeName(TaskContext task, int e, boolean probing) {
        return PeerExchange.attemptName(job.runPrefix(), task.stageId(), attempt)
            + (spanKey == null ? "" : probing ? "p" : "e" + e);
    }

    /** Hands this worker's outcome of {@code e} (or of the probe, or its set-up) to the driver ({@link EpochReports}). */
    private void post(int e, int worker, WorkerOutcome outcome) {
        EpochReports.post(spanKey, e, worker, plan.workers(), outcome, job.rendezvous(),
            TimeUnit.SECONDS.toNanos(job.settings().exchangeTimeoutSeconds()));
    }

    private static String jvm() {
        return ManagementFactory.getRuntimeMXBean().getName();
    }

    /** Trains (or probes) epoch {@code e}'s part of this stage and scores the test split after its last stage. */
    private WorkerOutcome epoch(TaskContext task, int worker, MultiLayerNetwork net, int e, boolean resumed,
                                long t0, EpochReaders reads, ExchangeBuffers buffers) {
        ResidentSettings settings = job.settings();
        String name = exchangeName(task, e, probe);
        WorkerOutcome.Builder report = new WorkerOutcome.Builder(worker, jvm());
        report.resumed(resumed);
        try (SliceReader reader = reads.take(e); // each minibatch is fitted, then let go
             PeerExchange exchange = new PeerExchange(name, job.rendezvous(), worker, plan.workers(),
                 NetState.length(net), settings.exchangeTimeoutSeconds(), buffers)) {
            long startNanos = System.nanoTime() - t0;
            try (FlushToZero.Scope ftz = FlushToZero.enable()) { // subnormals as zero while fitting
                if (probe) {
                    // the probe's rounds are of one minibatch: auto and round time the whole vector, stage the
                    // parameters alone
                    long[] timings = AutoFrequency.probe(net, reader::next, exchange, roundLength(net, false));
                    report.probe(timings);
                    FaultHook.afterProbe(worker, attempt);
                    if (spanKey != null) { // the span goes on from here: every worker picks the same frequency
                        report.agreed(AutoFrequency.agree(timings, exchange,
                            AutoFrequency.PROBE_EXCHANGES + AutoFrequency.PROBE_ROUNDS, worker, plan.workers()));
                    }
                    report.waited(exchange.waitNanos());
                } else {
                    train(task, worker, net, reader, exchange, report, buffers);
                }
            }
            report.io(startNanos + reader.waitNanos(), exchange.bytesMoved());
            reads.fitted(e, reader); // a span goes on: the next epoch's first chunk is read from here
        }
        // the epoch's last stage ended on the driver's network: score this worker's share of the test split with it,
        // outside flush-to-zero as the evaluation job's tasks do (the same outputs)
        if (!probe && job.evaluation() != null && stage == plan.stages() - 1) {
            long e0 = System.nanoTime();
            report.evaluated(job.evaluation().evaluate(net, worker, plan.workers(), settings.normalization(),
                job.hadoop().value().value()), System.nanoTime() - e0);
        }
        return report.build();
    }

    /**
     * The readers of epochs {@code epoch} to {@code end - 1} of worker {@code worker}, by the plan as it is now (a
     * probe's: its first rounds).
     */
    private EpochReaders readers(int worker, int end) {
        StagePlan p = plan;
        boolean probing = probe;
        return new EpochReaders(job.set(), e -> positions(e, worker, p, probing), p.batch(),
            p.batch() * p.frequency() * ROUNDS_PER_CHUNK, job.settings().normalization(), job.settings().shift(),
            job.hadoop().value().value(), end);
    }

    /** Worker {@code worker}'s examples of epoch {@code e}'s part of this stage (a probe's: its first rounds). */
    private int[] positions(int e, int worker, StagePlan plan, boolean probe) {
        int[] order = PartitionPlan.epochOrder(job.set().size(), job.settings().seed(), e);
        int[] range = plan.positions(worker, stage);
        if (probe) {
            range[1] = Math.min(range[1], range[0] + AutoFrequency.PROBE_ROUNDS * plan.batch());
        }
        return MnistBatches.positions(order, range[0], range[1]);
    }

    /**
     * How many floats of the vector (parameters, then updater state) a round averages: all of them in a stage's last
     * round (every worker then ends the stage on the same state) and, when {@code --updater-averaging} means
     * {@code round} at this frequency, in every round; else the parameters alone.
     */
    private int roundLength(MultiLayerNetwork net, boolean lastOfStage) {
        int all = NetState.length(net);
        return lastOfStage || job.settings().updaterAveraging().at(plan.frequency())
            == TrainingOptions.UpdaterAveraging.ROUND ? all : (int) net.numParams();
    }

    private void train(TaskContext task, int worker, MultiLayerNetwork net, SliceReader reader,
                       PeerExchange exchange, WorkerOutcome.Builder report, ExchangeBuffers buffers) {
        float[] vector = null;
        long rendezvous = exchange.waitNanos();
        boolean averaging = plan.workers() > 1; // one worker has nobody to average with
        TrainingStep step = TrainingStep.of(net);
        try (OverlappedExchange overlap = averaging && job.settings().overlap()
                 ? new OverlappedExchange(exchange, worker, buffers) : null) {
            for (int round = plan.firstRound(stage); round < plan.endRound(stage); round++) {
                long c0 = System.nanoTime();
                int fitted = 0;
                long readBefore = reader.waitNanos();
                for (int k = 0; k < plan.frequency(); k++) {
                    task.killTaskIfInterrupted();
                    DataSet batch = reader.next();
                    if (batch == null) {
                        break;
                    }
                    step.fit(batch);
                    report.fitted(TrainLoss.lastMinibatch(net), batch.numExamples());
                    job.examplesFitted().add(batch.numExamples());
                    fitted++;
                    FaultHook.afterMinibatch(worker);
                }
                long c1 = System.nanoTime();
                int length = roundLength(net, round == plan.endRound(stage) - 1);
                if (overlap != null) {
                    overlap.round(round, net, fitted > 0 ? 1f : 0f, task, length);
                } else if (averaging) {
                    vector = NetState.vector(net, vector, length);
                    exchange.average(round, vector, fitted > 0 ? 1f : 0f, length);
                    NetState.apply(net, vector, length);
                }
                report.round(c1 - c0 - (reader.waitNanos() - readBefore), System.nanoTime() - c1);
                FaultHook.afterRound(worker, attempt, round);
            }
            if (overlap != null) { // the last exchange: every worker ends on the same mean
                long c0 = System.nanoTime();
                overlap.finish(net, task);
                report.exchanged(System.nanoTime() - c0);
            }
            report.waited(overlap != null ? rendezvous + overlap.blockedNanos() : exchange.waitNanos());
        }
        float[] last = worker == 0 ? (vector != null ? vector : NetState.vector(net)) : null;
        if (last != null && state.inDriverJvm() && spanKey == null) { // worker 0 of a local run leaves it for the
            // driver (a span's outcome stays an object of this JVM: EpochReports)
            LocalHandover.publish(LocalHandover.resultKey(job.runPrefix(), token), last);
            last = null;
        }
        report.end(net.getIterationCount(), last);
    }
}
