package dev.sparkmnist.scoring;

import dev.sparkmnist.models.Models;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * The networks of this JVM (an executor), per model: each is restored from the broadcast zip once and reused by every
 * task after it; concurrent tasks each borrow their own (a network's forward pass is not safe to share), so a JVM
 * holds at most as many copies as it runs tasks at once.
 */
final class NetworkPool {
    private static final Map<String, ConcurrentLinkedQueue<MultiLayerNetwork>> IDLE = new ConcurrentHashMap<>();

    private NetworkPool() {
    }

    /** A network of model {@code id}, restored from {@code zip} only when none is idle. Give it back after use. */
    static MultiLayerNetwork borrow(String id, byte[] zip) {
        MultiLayerNetwork net = IDLE.computeIfAbsent(id, k -> new ConcurrentLinkedQueue<>()).poll();
        if (net != null) {
            return net;
        }
        try {
            // the training network's forward passes (the same outputs, faster than DL4J's own layers)
            return Models.forInference(ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(zip), false));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore the broadcast model", e);
        }
    }

    /** Makes a borrowed network available to the next task. */
    static void giveBack(String id, MultiLayerNetwork net) {
        IDLE.computeIfAbsent(id, k -> new ConcurrentLinkedQueue<>()).add(net);
    }

    /** Networks restored for {@code id} in this JVM and idle now (tests). */
    static int idle(String id) {
        ConcurrentLinkedQueue<MultiLayerNetwork> q = IDLE.get(id);
        return q == null ? 0 : q.size();
    }
}
