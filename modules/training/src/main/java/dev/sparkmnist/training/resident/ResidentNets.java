package dev.sparkmnist.training.resident;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The networks this JVM's resident workers ended their last stage with, kept for the run's next stage (the next
 * epoch, or the next part of a cut epoch) to go on training instead of building them again from the stage's
 * broadcast. Every worker ends a stage on the same state (the stage's last round averages parameters and updater
 * state in full), the state the driver's network takes from worker 0's result; so a worker whose JVM still holds
 * the network of the stage the driver's network came from goes on with it, taking only the driver's iteration and
 * epoch counts (which drive Adam's bias correction and the learning-rate schedules), and any other worker (an
 * executor that did not run it, a retried stage, a run that changed the network between stages) rebuilds it from the
 * broadcast as before, which it then does not fetch at all when it has its network.
 *
 * <p>A kept network is identified by the run and the stage attempt that produced it ({@code token}, unique within a
 * run), not by the worker: all of a stage's workers end on the same state, and Spark need not give worker {@code w}
 * the executor that ran worker {@code w} the stage before (on a standalone cluster it often swaps them), so any task
 * of the next stage in this JVM may go on with any network kept here for that attempt. {@link #take} hands each out
 * once and drops the run's networks of other attempts (a stage that failed after some workers finished leaves
 * networks no later stage asks for). Only one run's networks are held: keeping one of another run drops the rest
 * (two runs training at once in one JVM rebuild their networks, as before). The networks of a run's last stage stay
 * until its engine closes (in the driver's JVM), the next run in the JVM or the JVM's end (executors end with their
 * application).
 *
 * <p>{@code --conf spark.sparkmnist.residentNets=false} (system property {@code sparkmnist.residentNets}) turns
 * keeping off: every stage then rebuilds every network from its broadcast.
 */
final class ResidentNets {
    /** The switch's system property (see {@link dev.sparkmnist.runtime.Switches}). */
    static final String PROPERTY = "sparkmnist.residentNets";

    private record Kept(String run, long token, MultiLayerNetwork net) {
    }

    private static final List<Kept> KEPT = new ArrayList<>();

    private ResidentNets() {
    }

    /** Whether workers keep their networks between stages in this JVM (the switch; on unless set to false). */
    static boolean enabled() {
        return dev.sparkmnist.runtime.Switches.enabled(PROPERTY);
    }

    /**
     * A network of run {@code run} kept at the end of stage attempt {@code token}, removed from the ones kept; null
     * when this JVM holds none for that attempt ({@code token} negative: no stage to go on from). The run's networks
     * of other attempts (all of them for a negative token) are dropped: no stage will go on from them.
     */
    static synchronized MultiLayerNetwork take(String run, long token) {
        KEPT.removeIf(k -> k.run().equals(run) && k.token() != token); // tokens start at 1: all of them for -1
        for (Iterator<Kept> it = KEPT.iterator(); it.hasNext(); ) {
            Kept k = it.next();
            if (k.run().equals(run)) {
                it.remove();
                return k.net();
            }
        }
        return null;
    }

    /** Keeps {@code net}, a worker's network at the end of stage attempt {@code token} of {@code run}. */
    static synchronized void keep(String run, long token, MultiLayerNetwork net) {
        KEPT.removeIf(k -> !k.run().equals(run));
        KEPT.add(new Kept(run, token, net));
    }

    /** Drops every network kept for {@code run} (its end, in this JVM). */
    static synchronized void release(String run) {
        KEPT.removeIf(k -> k.run().equals(run));
    }

    /** Networks kept in this JVM (tests). */
    static synchronized int size() {
        return KEPT.size();
    }
}
