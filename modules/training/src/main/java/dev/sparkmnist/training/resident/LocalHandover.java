package dev.sparkmnist.training.resident;

import java.io.Serializable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What a local run's driver and its workers hand each other inside the JVM they share, instead of through Spark's
 * broadcast and task results. In Spark local mode the executor is the driver's JVM, yet a broadcast is still
 * serialised and compressed into blocks as it is made (for executors elsewhere) and a task's result is still
 * Java-serialised and read back: for the MLP's 705,146 floats, about 27 ms of the driver's time an epoch here, which
 * on two cores the workers' compute took up again (BENCHMARKS.md, round 28). In local mode, with the handover:
 * <ul>
 * <li>a stage's starting state is made only when a worker asks for it ({@link #offer}, {@link #state}): a worker
 *     without a kept network (the run's first stage, the probe, a retried attempt, {@code residentNets} off) asks,
 *     and the first to ask makes it, once, from the driver's network, which the driver leaves alone while the stage
 *     runs; a stage whose workers all go on with the networks they kept ({@link ResidentNets}) makes none;</li>
 * <li>worker 0's final vector (the stage's averaged state) stays an object of the JVM ({@link #publish}), which the
 *     driver takes after the stage ({@link #take}) instead of reading it from the task's serialised result.</li>
 * </ul>
 * The floats are the same either way. Clusters (any master but {@code local}, {@code local[N]}) keep the broadcast
 * and the task result: their workers run in other JVMs. {@code --conf spark.sparkmnist.localHandover=false} (system
 * property {@code sparkmnist.localHandover}) keeps them in local mode too.
 */
final class LocalHandover {
    /** The switch's system property (see {@link dev.sparkmnist.runtime.Switches}). */
    static final String PROPERTY = "sparkmnist.localHandover";
    private static final Map<String, Offer> STATES = new ConcurrentHashMap<>();
    private static final Map<String, float[]> RESULTS = new ConcurrentHashMap<>();
    private static final AtomicLong MADE = new AtomicLong();

    private LocalHandover() {
    }

    /** Whether local runs hand states over in the JVM (the switch; on unless set to false). */
    static boolean enabled() {
        return dev.sparkmnist.runtime.Switches.enabled(PROPERTY);
    }

    /** The key of stage attempt {@code token}'s result in run {@code run}. */
    static String resultKey(String run, long token) {
        return run + "/result/" + token;
    }

    /**
     * Offers {@code net}'s state (configuration, parameters, updater state) to the workers of stage {@code key}: made
     * when one first asks, until {@link #withdraw}. The caller leaves {@code net} as it is until then.
     */
    static void offer(String key, MultiLayerNetwork net) {
        STATES.put(key, new Offer(net));
    }

    /**
     * Stage {@code key}'s starting state, made on the first call.
     *
     * @throws IllegalStateException when no stage of that key is offered in this JVM (a task of a local run's stage
     *     that runs in another JVM, which local mode never does)
     */
    static NetState state(String key) {
        Offer offer = STATES.get(key);
        if (offer == null) {
            throw new IllegalStateException("no network state for " + key + " in this JVM: the local handover works"
                + " only where the driver's JVM runs the tasks (Spark local mode)");
        }
        return offer.get();
    }

    /** Ends stage {@code key}'s offer; a state made for it is let go. */
    static void withdraw(String key) {
        STATES.remove(key);
    }

    /** Worker 0's final vector of a stage attempt ({@link #resultKey}), for the driver to {@link #take}. */
    static void publish(String key, float[] vector) {
        RESULTS.put(key, vector);
    }

    /** The vector published under {@code key}, removed; null when none was. */
    static float[] take(String key) {
        return RESULTS.remove(key);
    }

    /** Drops whatever is left of run {@code run} (a failed attempt's result, published after its stage gave up). */
    static void release(String run) {
        STATES.keySet().removeIf(k -> k.startsWith(run + "/"));
        RESULTS.keySet().removeIf(k -> k.startsWith(run + "/"));
    }

    /** States made since the JVM started (tests). */
    static long statesMade() {
        return MADE.get();
    }

    /** Offers and results held in this JVM (tests). */
    static int size() {
        return STATES.size() + RESULTS.size();
    }

    /** A state made from the driver's network once, by the first worker that asks. */
    private static final class Offer {
        private MultiLayerNetwork net;
        private NetState state;

        Offer(MultiLayerNetwork net) {
            this.net = net;
        }

        synchronized NetState get() {
            if (state == null) {
                state = NetState.of(net);
                net = null;
                MADE.incrementAndGet();
            }
            return state;
        }
    }

    /**
     * Where a stage's workers find its starting state: its broadcast, or the driver's JVM ({@link #inDriverJvm}, where
     * worker 0 also leaves its final vector).
     */
    interface Source extends Serializable {
        NetState get();

        /** Whether the stage's tasks run in the driver's JVM, which hands the network over ({@link LocalHandover}). */
        boolean inDriverJvm();

        static Source broadcast(Broadcast<NetState> broadcast) {
            return new FromBroadcast(broadcast);
        }

        static Source local(String key) {
            return new Local(key);
        }
    }

    private record FromBroadcast(Broadcast<NetState> broadcast) implements Source {
        @Override
        public NetState get() {
            return broadcast.value();
        }

        @Override
        public boolean inDriverJvm() {
            return false;
        }
    }

    private record Local(String key) implements Source {
        @Override
        public NetState get() {
            return state(key);
        }

        @Override
        public boolean inDriverJvm() {
            return true;
        }
    }
}
