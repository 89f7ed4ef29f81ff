package dev.sparkmnist.training.resident;

import java.util.HashMap;
import java.util.Map;

/**
 * A worker task's arrays for averaging, kept across the probe and the epochs it trains: what {@link PeerExchange}
 * sends and {@link OverlappedExchange} holds in flight. They are as long as the network's state (the MLP's parameters
 * and Adam's two moments: 2.8 MB), so each one is a humongous object for G1 (over half a 2 MB region); made anew for
 * every epoch, they were 4-5 of them an epoch a worker, each allocated straight into the old generation, and each one
 * above G1's occupancy threshold started a young collection and a concurrent marking (BENCHMARKS.md, round 42).
 *
 * <p>An epoch's exchange may take over the arrays of the one before it: a worker writes an array it sent only after
 * every peer has read it, the same order of rounds that lets {@link PeerExchange} reuse them from round to round
 * (the next epoch's first round is the next round). Not thread-safe: one worker's training thread uses it, the
 * thread of an {@link OverlappedExchange} only the arrays that exchange handed it.
 */
final class ExchangeBuffers {
    private final Map<String, float[]> arrays = new HashMap<>();

    /** The array kept under {@code name}, if it holds {@code length} floats; else a new one, kept from now on. */
    float[] floats(String name, int length) {
        float[] a = arrays.get(name);
        if (a == null || a.length != length) {
            a = new float[length];
            arrays.put(name, a);
        }
        return a;
    }
}
