package dev.sparkmnist.training.resident;

import java.util.concurrent.TimeUnit;

/**
 * Averages one float vector across the workers of a barrier stage attempt, executor to executor: no block is
 * registered with, looked up through or removed by the driver, and nothing polls.
 *
 * <p>At the start of the stage attempt each worker learns every peer's {@link PeerTransport} address
 * ({@link Rendezvous}: one message per worker to the driver). The vector is cut into one slice per worker. Each
 * round, worker {@code w}:
 * <ol>
 *   <li>sends every slice {@code s != w} of its vector straight to worker {@code s}, all N-1 at once
 *       (reduce-scatter);</li>
 *   <li>waits for the N-1 copies of its own slice to arrive in its {@link Inbox}, averages them with its own
 *       (weighted by whether each worker trained in the round) and sends the mean to every peer at once;</li>
 *   <li>waits for the N-1 averaged slices (all-gather).</li>
 * </ol>
 * Each worker sends and receives about twice the vector per round whatever the number of workers, in 2(N-1)
 * messages sent concurrently, on two message latencies of critical path. Parcels are removed from the inbox as
 * they are read, so a round leaves nothing behind; the inbox is closed with the stage attempt, and parcels of an
 * attempt that failed are dropped on arrival.
 */
final class PeerExchange implements AutoCloseable {
    private final String attempt;
    private final int worker;
    private final int workers;
    private final int length;
    private final long timeoutNanos;
    private final PeerTransport transport;
    private final Inbox inbox;
    /** Every worker's transport address, indexed by worker. */
    private final String[] peers;
    /** Scratch for the running sums of a chunk of the slice this worker owns. */
    private final double[] sum = new double[1024];
    /** The round's slices as taken (peer k after this worker at k - 1), given back to the inbox once summed. */
    private final Parcel[] taken;
    /**
     * What this worker sends, reused every round: {@code outgoing[s]} its copy of slice {@code s} for worker s,
     * {@code outgoing[worker]} the mean of its own slice for everyone. A peer in this JVM reads the array itself, so
     * reuse must wait until every reader is done, and the rounds' order guarantees it: worker s sends round r's mean
     * only after it has read round r's slices, and round r+1's slice only after it has copied round r's means; this
     * worker writes slice s again in round r+1 after receiving s's round-r mean, and its own mean after receiving
     * every round-(r+1) slice. (A parcel for another JVM is encoded before {@code send} returns.)
     */
    private final float[][] outgoing;
    /** The same for rounds that average a prefix of the vector (the parameters alone), made on first use. */
    private float[][] outgoingPrefix;
    private int prefixLength = -1;
    /** Where the outgoing arrays come from: the worker task's, kept from one epoch's exchange to the next. */
    private final ExchangeBuffers buffers;
    private long waitNanos;
    private long bytesMoved;

    /**
     * Joins the stage attempt's rendezvous (all workers must construct theirs).
     *
     * @param attempt names the stage attempt: run, stage id, attempt number
     * @param rendezvous the driver endpoint where peers meet ({@link Rendezvous#start})
     * @param worker this worker, 0-based
     * @param workers workers in the stage
     * @param length floats in the averaged vector
     * @param timeoutSeconds how long to wait for a peer (--exchange-timeout)
     */
    PeerExchange(String attempt, String rendezvous, int worker, int workers, int length, long timeoutSeconds) {
        this(attempt, rendezvous, worker, workers, length, timeoutSeconds, new ExchangeBuffers());
    }

    /**
     * As above, sending from {@code buffers}' arrays: the worker's exchange of the epoch before (or of the probe)
     * must be done (its last round averaged) and is not used again.
     */
    PeerExchange(String attempt, String rendezvous, int worker, int workers, int length, long timeoutSeconds,
                 ExchangeBuffers buffers) {
        this(attempt, worker, workers, length, timeoutSeconds, PeerTransport.get(),
            (transport, timeoutNanos) -> Rendezvous.join(rendezvous, attempt, worker, workers, transport.address(),
                timeoutNanos), buffers);
    }

    /** How a worker learns every peer's transport address, indexed by worker. */
    interface Peers {
        String[] join(PeerTransport transport, long timeoutNanos);
    }

    /** The same with a given transport and way of meeting the peers (tests: workers on threads of one JVM). */
    PeerExchange(String attempt, int worker, int workers, int length, long timeoutSeconds, PeerTransport transport,
                 Peers meet) {
        this(attempt, worker, workers, length, timeoutSeconds, transport, meet, new ExchangeBuffers());
    }

    /** The same, sending from {@code buffers}' arrays (tests: epochs one after another). */
    PeerExchange(String attempt, int worker, int workers, int length, long timeoutSeconds, PeerTransport transport,
                 Peers meet, ExchangeBuffers buffers) {
        this.attempt = attempt;
        this.buffers = buffers;
        this.worker = worker;
        this.workers = workers;
        this.length = length;
        this.timeoutNanos = TimeUnit.SECONDS.toNanos(timeoutSeconds);
        this.transport = transport;
        this.inbox = transport.open(attempt, worker);
        this.taken = new Parcel[Math.max(0, workers - 1)];
        this.outgoing = new float[workers][];
        for (int s = 0; s < workers && workers > 1; s++) {
            outgoing[s] = buffers.floats("slice" + s,
                sliceStart(length, workers, s + 1) - sliceStart(length, workers, s));
        }
        long t0 = System.nanoTime();
        try {
            this.peers = workers == 1 ? new String[] {transport.address()} : meet.join(transport, timeoutNanos);
        } catch (RuntimeException e) {
            transport.close(attempt, worker);
            throw e;
        }
        this.waitNanos = System.nanoTime() - t0;
    }

    /** The name of one stage attempt of a run. */
    static String attemptName(String runPrefix, int stageId, int attempt) {
        return runPrefix + "-" + stageId + "." + attempt;
    }

    /** First index of slice {@code s} of a vector of {@code length} floats cut into {@code parts}. */
    static int sliceStart(int length, int parts, int s) {
        return (int) ((long) length * s / parts);
    }

    /**
     * Replaces {@code vector} by the weighted mean over all workers of their vectors in this round; a worker with
     * weight 0 (it had no minibatch this round) receives the mean without contributing to it.
     */
    void average(int round, float[] vector, float weight) {
        average(round, vector, weight, length);
    }

    /**
     * The same for the first {@code length} floats of {@code vector} only (the rest is neither sent nor changed):
     * every worker must average the same length in a round.
     */
    void average(int round, float[] vector, float weight, int length) {
        if (vector.length != this.length || length < 0 || length > this.length) {
            throw new IllegalArgumentException("vector has " + vector.length + " floats and " + length
                + " to average, expected " + this.length);
        }
        if (workers == 1) {
            return;
        }
        float[][] outgoing = outgoing(length);
        for (int k = 1; k < workers; k++) {
            int s = (worker + k) % workers;
            System.arraycopy(vector, sliceStart(length, workers, s), outgoing[s], 0, outgoing[s].length);
            send(round, s, Parcel.SCATTER, weight, outgoing[s]);
        }
        int from = sliceStart(length, workers, worker);
        float[] mean = outgoing[worker]; // shared by the N-1 parcels: nobody writes it until every peer has read it
        int n = mean.length;
        double total = weight;
        for (int k = 1; k < workers; k++) {
            taken[k - 1] = take(round, Parcel.SCATTER, (worker + k) % workers);
            total += taken[k - 1].weight();
        }
        // The weighted sum in double, in the order the peers follow this worker, and its mean, into the vector and
        // into the parcel every peer gets: a chunk at a time, so that the sums stay in the first-level cache (and in
        // separate loops, which the JIT compiles to vector instructions: one loop doing it all ran 3x slower).
        if (total <= 0) {
            System.arraycopy(vector, from, mean, 0, n);
        } else {
            double[] sum = this.sum;
            for (int c = 0; c < n; c += sum.length) {
                int len = Math.min(sum.length, n - c);
                int at = from + c;
                for (int i = 0; i < len; i++) {
                    sum[i] = (double) weight * vector[at + i];
                }
                for (Parcel in : taken) {
                    double w = in.weight();
                    if (w == 0) {
                        continue; // the peer fitted nothing this round
                    }
                    float[] v = in.values();
                    for (int i = 0; i < len; i++) {
                        sum[i] += w * v[c + i];
                    }
                }
                for (int i = 0; i < len; i++) {
                    vector[at + i] = (float) (sum[i] / total);
                }
                System.arraycopy(vector, at, mean, c, len);
            }
        }
        for (int k = 1; k < workers; k++) {
            inbox.giveBack(taken[k - 1]);
            taken[k - 1] = null;
        }
        for (int k = 1; k < workers; k++) {
            send(round, (worker + k) % workers, Parcel.GATHER, 1f, mean);
        }
        for (int k = 1; k < workers; k++) {
            int s = (worker + k) % workers;
            Parcel in = take(round, Parcel.GATHER, s);
            System.arraycopy(in.values(), 0, vector, sliceStart(length, workers, s),
                sliceStart(length, workers, s + 1) - sliceStart(length, workers, s));
            inbox.giveBack(in);
        }
    }

    private float[][] outgoing(int length) {
        if (length == this.length) {
            return outgoing;
        }
        if (length != prefixLength) {
            outgoingPrefix = new float[workers][];
            for (int s = 0; s < workers; s++) {
                outgoingPrefix[s] = buffers.floats("prefix-slice" + s,
                    sliceStart(length, workers, s + 1) - sliceStart(length, workers, s));
            }
            prefixLength = length;
        }
        return outgoingPrefix;
    }

    private void send(int round, int to, byte kind, float weight, float[] values) {
        Parcel p = new Parcel(attempt, to, worker, round, kind, weight, values);
        bytesMoved += p.wireBytes();
        transport.send(peers[to], p, inbox);
    }

    private Parcel take(int round, byte kind, int from) {
        long t0 = System.nanoTime();
        Parcel p = inbox.take(Parcel.key(round, kind, from), timeoutNanos, () -> "worker " + worker + " waited "
            + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s for round " + round + "'s " + (kind == Parcel.SCATTER
            ? "slice" : "averaged slice") + " from worker " + from + " (" + peers[from] + "): a worker is stuck or"
            + " lost (raise --exchange-timeout if minibatches are that slow)");
        waitNanos += System.nanoTime() - t0;
        bytesMoved += p.wireBytes();
        return p;
    }

    /** Floats in the averaged vector. */
    int length() {
        return length;
    }

    /** Nanoseconds spent waiting for peers so far (the rendezvous included). */
    long waitNanos() {
        return waitNanos;
    }

    /** Bytes this worker sent and received so far. */
    long bytesMoved() {
        return bytesMoved;
    }

    /** Closes this worker's inbox: parcels that arrive later are dropped. */
    @Override
    public void close() {
        transport.close(attempt, worker);
    }
}
