package dev.sparkmnist.training.resident;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.rpc.RpcCallContext;
import org.apache.spark.rpc.RpcEndpointRef;
import org.apache.spark.rpc.RpcEnv;
import org.apache.spark.rpc.RpcTimeout;
import org.apache.spark.rpc.ThreadSafeRpcEndpoint;
import org.apache.spark.util.RpcUtils;
import scala.Function1;
import scala.concurrent.Future;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractPartialFunction;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * Where the workers of a stage attempt learn each other's {@link PeerTransport} addresses: once per stage, one
 * message from each worker to an endpoint of the driver's own RPC environment, answered when all have arrived.
 * Spark's {@code BarrierTaskContext.allGather} would do the same, but in Spark 3.5 it waits in a loop that sleeps a
 * whole second before looking at the answer; this answers in milliseconds. The messages are plain strings, and an
 * epoch's outcome a string and a byte array ({@link #report}), so no application class needs loading on Spark's RPC
 * threads.
 *
 * <p>Messages to the driver per stage: one per worker, plus one look-up of this endpoint per executor JVM and run.
 * None per round.
 */
final class Rendezvous implements ThreadSafeRpcEndpoint {
    private static final char SEP = '|';
    /** Driver-side references, one per endpoint name, kept by each executor JVM for the run. */
    private static final Map<String, RpcEndpointRef> REFS = new ConcurrentHashMap<>();
    private static final long KILL_CHECK_MILLIS = 10;
    /** What a worker that joins its stage's exchange waits for, in the error when it waits too long. */
    private static final String PEERS_TO_START = "the other workers of its stage to start: a worker is stuck or lost"
        + " (raise --exchange-timeout if starting a worker takes that long)";
    /** The first field of an epoch's outcome ({@link EpochReports}); a join's first field is a stage attempt's name. */
    private static final String REPORT = "report" + SEP;

    private final RpcEnv env;
    private final Map<String, String[]> addresses = new HashMap<>();
    private final Map<String, RpcCallContext[]> waiting = new HashMap<>();
    private final AtomicLong joins = new AtomicLong();

    /** An endpoint in {@code env} (null in tests, which hand it messages themselves); {@link #start} registers one. */
    Rendezvous(RpcEnv env) {
        this.env = env;
    }

    /** Registers the rendezvous of one run under {@code name} in the driver's RPC environment. */
    static Rendezvous start(String name) {
        RpcEnv rpc = SparkEnv.get().rpcEnv();
        Rendezvous r = new Rendezvous(rpc);
        rpc.setupEndpoint(name, r);
        return r;
    }

    /** Join messages received so far. */
    long joins() {
        return joins.get();
    }

    @Override
    public RpcEnv rpcEnv() {
        return env;
    }

    @Override
    public scala.PartialFunction<Object, BoxedUnit> receiveAndReply(RpcCallContext context) {
        return new AbstractPartialFunction<>() {
            @Override
            public boolean isDefinedAt(Object message) {
                return message instanceof String || isReport(message);
            }

            @Override
            public <A1, B1> B1 applyOrElse(A1 message, Function1<A1, B1> otherwise) {
                if (message instanceof String join) {
                    register(join, context);
                } else if (isReport(message)) {
                    Object[] report = (Object[]) message;
                    // report|span key|epoch|worker|workers, then the outcome, Java-serialised
                    String[] f = ((String) report[0]).split("\\" + SEP, -1);
                    EpochReports.deliver(f[1], Integer.parseInt(f[2]), Integer.parseInt(f[3]),
                        Integer.parseInt(f[4]), report[1]);
                    context.reply("");
                } else {
                    return otherwise.apply(message);
                }
                @SuppressWarnings("unchecked")
                B1 unit = (B1) BoxedUnit.UNIT;
                return unit;
            }
        };
    }

    /** An epoch's outcome: {@code {"report|span key|epoch|worker|workers", serialised outcome}}. */
    private static boolean isReport(Object message) {
        return message instanceof Object[] m && m.length == 2 && m[0] instanceof String h && h.startsWith(REPORT)
            && m[1] instanceof byte[];
    }

    /** One worker's address arrives; when all of its attempt's have, every waiting worker gets the list. */
    private void register(String message, RpcCallContext context) {
        joins.incrementAndGet();
        String[] f = message.split("\\" + SEP, -1);
        String attempt = f[0];
        int worker = Integer.parseInt(f[1]);
        int workers = Integer.parseInt(f[2]);
        String[] known = addresses.computeIfAbsent(attempt, a -> new String[workers]);
        RpcCallContext[] callers = waiting.computeIfAbsent(attempt, a -> new RpcCallContext[workers]);
        known[worker] = f[3];
        callers[worker] = context;
        if (Arrays.stream(known).allMatch(java.util.Objects::nonNull)) {
            String answer = String.join(",", known);
            for (RpcCallContext c : callers) {
                c.reply(answer);
            }
            addresses.remove(attempt);
            waiting.remove(attempt);
        }
    }

    /**
     * Called by worker {@code worker} of a stage that spans epochs: sends its outcome of {@code epoch} (serialised)
     * to the driver's {@link EpochReports} and waits until the driver has it. The bytes travel as a byte array, not
     * as text: Base64 made worker 0's MLP outcome 3.8 MB instead of 2.85 MB, and encoding, serialising and decoding
     * it took 28 ms against 2.9 ms (medians; {@code java scripts/lib/RpcPayloadBench.java}, BENCHMARKS.md, round 31),
     * on worker 0's way to its next epoch.
     */
    static void report(String name, String key, int epoch, int worker, int workers, byte[] outcome,
                       long timeoutNanos) {
        ask(name, new Object[] {REPORT + key + SEP + epoch + SEP + worker + SEP + workers, outcome}, worker,
            timeoutNanos,
            "its outcome of epoch " + (epoch + 1) + " to reach the driver",
            "could not send its outcome of epoch " + (epoch + 1) + " to the driver");
    }

    /**
     * Called by worker {@code worker}: announces its transport's address and returns every worker's, indexed by
     * worker. In the driver's JVM (local mode) every worker is here and nothing is asked.
     */
    static String[] join(String name, String attempt, int worker, int workers, String address, long timeoutNanos) {
        if (PeerTransport.LOCAL.equals(address)) {
            meetHere(attempt, worker, workers, timeoutNanos);
            String[] all = new String[workers];
            Arrays.fill(all, PeerTransport.LOCAL);
            return all;
        }
        String[] all = ask(name, attempt + SEP + worker + SEP + workers + SEP + address, worker, timeoutNanos,
            PEERS_TO_START, "could not learn its peers' addresses from the driver").split(",", -1);
        if (all.length != workers) {
            throw new IllegalStateException("the driver answered " + all.length + " addresses, expected " + workers);
        }
        return all;
    }

    /** The workers of each stage attempt (an exchange's name) that have joined in this JVM, until all have. */
    private static final Map<String, java.util.concurrent.CountDownLatch> HERE = new ConcurrentHashMap<>();

    /**
     * In the driver's JVM (local mode) every worker is here, but a worker still waits until all of its exchange's
     * workers have joined, as the driver's answer makes them wait elsewhere: every worker then starts an epoch of a
     * span together. Without it, the worker that finished scoring the test split first went on into the next epoch
     * before its peers (and before the driver's clock of that epoch), ran up to two rounds ahead and waited for them
     * at its exchanges (BENCHMARKS.md, round 43). Fails as {@link #ask} does: after {@code timeoutNanos}, or when the
     * worker's task is killed.
     */
    static void meetHere(String attempt, int worker, int workers, long timeoutNanos) {
        if (workers <= 1) {
            return;
        }
        java.util.concurrent.CountDownLatch all = HERE.computeIfAbsent(attempt,
            a -> new java.util.concurrent.CountDownLatch(workers));
        all.countDown();
        if (all.getCount() == 0) {
            HERE.remove(attempt, all); // the last to join: every worker has the latch
            return;
        }
        try {
            await(millis -> all.await(millis, TimeUnit.MILLISECONDS), worker, timeoutNanos, PEERS_TO_START,
                "the other workers");
        } catch (RuntimeException e) {
            HERE.remove(attempt, all); // a failed attempt's: nobody waits on it any more
            throw e;
        }
    }

    /** Stage attempts some but not all of whose workers have joined in this JVM (tests). */
    static int meetingsHere() {
        return HERE.size();
    }

    /**
     * Asks the driver's endpoint {@code name} and waits for the answer; {@code waitingFor} and {@code failed} word the
     * errors.
     */
    private static String ask(String name, Object message, int worker, long timeoutNanos, String waitingFor,
                              String failed) {
        SparkEnv spark = SparkEnv.get();
        RpcEndpointRef ref = REFS.computeIfAbsent(name, n -> RpcUtils.makeDriverRef(n, spark.conf(), spark.rpcEnv()));
        RpcTimeout timeout = new RpcTimeout(scala.concurrent.duration.FiniteDuration.apply(timeoutNanos,
            TimeUnit.NANOSECONDS), "--exchange-timeout");
        Future<String> answer = ref.ask(message, timeout, ClassTag$.MODULE$.apply(String.class));
        await(millis -> {
            if (!answer.isCompleted()) {
                Thread.sleep(millis);
            }
            return answer.isCompleted();
        }, worker, timeoutNanos, waitingFor, "the driver");
        Try<String> result = answer.value().get();
        if (result.isFailure()) {
            throw new IllegalStateException("worker " + worker + " " + failed + ": "
                + result.failed().get().getMessage(), result.failed().get());
        }
        return result.get();
    }

    /** One wait of at most {@code millis}: whether what is waited for has come. */
    private interface Wait {
        boolean done(long millis) throws InterruptedException;
    }

    /**
     * Waits in steps of {@link #KILL_CHECK_MILLIS} until {@code wait} is done: fails with an
     * {@link Inbox.ExchangeTimeoutException} ("worker W waited S s for {@code waitingFor}") after {@code timeoutNanos},
     * and when the worker's task is killed (Spark's kill, checked between steps) or its thread interrupted (waiting for
     * {@code whom}).
     */
    private static void await(Wait wait, int worker, long timeoutNanos, String waitingFor, String whom) {
        long deadline = System.nanoTime() + timeoutNanos;
        TaskContext task = TaskContext.get();
        try {
            while (!wait.done(KILL_CHECK_MILLIS)) {
                if (System.nanoTime() > deadline) {
                    throw new Inbox.ExchangeTimeoutException("worker " + worker + " waited " + TimeUnit.NANOSECONDS
                        .toSeconds(timeoutNanos) + " s for " + waitingFor);
                }
                if (task != null) {
                    task.killTaskIfInterrupted();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + whom, e);
        }
    }
}
