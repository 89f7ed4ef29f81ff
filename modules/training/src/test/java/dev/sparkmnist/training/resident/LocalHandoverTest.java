package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A local run's stage state, made once and only when asked for; worker 0's vector, taken once. */
class LocalHandoverTest {
    @AfterEach
    void clean() {
        LocalHandover.release("a");
        LocalHandover.release("b");
        System.clearProperty(LocalHandover.PROPERTY);
    }

    @Test
    void aStagesStateIsMadeOnceWhenFirstAskedAndIsTheNetworksState() throws Exception {
        MultiLayerNetwork net = Models.network(ModelOptions.mlp());
        long made = LocalHandover.statesMade();
        LocalHandover.offer("a/state/s1", net);
        assertEquals(made, LocalHandover.statesMade(), "offered, not made: nobody asked");
        // two workers ask at once: one state, the same object for both
        CyclicBarrier both = new CyclicBarrier(2);
        CompletableFuture<NetState> other = CompletableFuture.supplyAsync(() -> {
            await(both);
            return LocalHandover.state("a/state/s1");
        });
        await(both);
        NetState mine = LocalHandover.state("a/state/s1");
        assertSame(mine, other.get());
        assertEquals(made + 1, LocalHandover.statesMade());
        assertArrayEquals(NetState.vector(net), NetState.vector(mine.restore()), "the driver's network's floats");
        assertEquals(net.getLayerWiseConfigurations(), mine.restore().getLayerWiseConfigurations());

        LocalHandover.withdraw("a/state/s1");
        IllegalStateException gone = assertThrows(IllegalStateException.class,
            () -> LocalHandover.state("a/state/s1"));
        assertEquals("no network state for a/state/s1 in this JVM: the local handover works only where the"
            + " driver's JVM runs the tasks (Spark local mode)", gone.getMessage());
        assertEquals(0, LocalHandover.size());
    }

    @Test
    void aSourceFindsTheStateAfterJavaSerialisationAsATaskDoes() throws Exception {
        MultiLayerNetwork net = Models.network(ModelOptions.mlp());
        LocalHandover.offer("a/state/s2", net);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(LocalHandover.Source.local("a/state/s2"));
        }
        assertTrue(bytes.size() < 300, "a key, not the network: " + bytes.size() + " bytes");
        LocalHandover.Source read;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            read = (LocalHandover.Source) in.readObject();
        }
        assertSame(LocalHandover.state("a/state/s2"), read.get());
    }

    @Test
    void workerZerosVectorIsTakenOnceAndARunsLeftoversAreReleased() {
        float[] vector = {1f, 2f, 3f};
        LocalHandover.publish(LocalHandover.resultKey("a", 4), vector);
        LocalHandover.publish(LocalHandover.resultKey("b", 4), new float[] {9f});
        assertNull(LocalHandover.take(LocalHandover.resultKey("a", 5)), "another attempt's: none");
        assertSame(vector, LocalHandover.take(LocalHandover.resultKey("a", 4)), "the object itself, not a copy");
        assertNull(LocalHandover.take(LocalHandover.resultKey("a", 4)), "taken once");

        LocalHandover.publish(LocalHandover.resultKey("a", 6), vector); // a failed attempt's, published late
        LocalHandover.offer("a/state/x", Models.network(ModelOptions.mlp()));
        assertEquals(3, LocalHandover.size());
        LocalHandover.release("a");
        assertEquals(1, LocalHandover.size(), "run b's stays");
        assertNull(LocalHandover.take(LocalHandover.resultKey("a", 6)));
        LocalHandover.release("b");
        assertEquals(0, LocalHandover.size());
    }

    @Test
    void theSwitchIsOnUnlessFalse() {
        assertTrue(LocalHandover.enabled());
        System.setProperty(LocalHandover.PROPERTY, " FALSE ");
        assertEquals(false, LocalHandover.enabled());
        System.setProperty(LocalHandover.PROPERTY, "true");
        assertTrue(LocalHandover.enabled());
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
