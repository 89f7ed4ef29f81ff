package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.spark.rpc.RpcAddress;
import org.apache.spark.rpc.RpcCallContext;
import org.junit.jupiter.api.Test;
import scala.PartialFunction;
import scala.runtime.BoxedUnit;

/**
 * The driver's rendezvous endpoint as Spark's RPC hands it messages: a span's epoch outcome arrives as a string
 * header and the serialised bytes and reaches {@link EpochReports}; joins stay strings; anything else is not its own.
 */
class RendezvousTest {
    /** A caller's context that keeps the endpoint's answers. */
    private static final class Caller implements RpcCallContext {
        final List<Object> replies = new ArrayList<>();

        @Override
        public void reply(Object response) {
            replies.add(response);
        }

        @Override
        public void sendFailure(Throwable e) {
            throw new AssertionError("the endpoint failed the call", e);
        }

        @Override
        public RpcAddress senderAddress() {
            return null;
        }
    }

    private static WorkerOutcome outcome(int worker, int iterations, float[] vector) {
        WorkerOutcome.Builder b = new WorkerOutcome.Builder(worker, "jvm-" + worker);
        b.end(iterations, vector);
        return b.build();
    }

    @Test
    void anEpochsOutcomeArrivesAsBytesAndReachesTheDriversReports() throws Exception {
        Rendezvous endpoint = new Rendezvous(null);
        Caller caller = new Caller();
        PartialFunction<Object, BoxedUnit> receive = endpoint.receiveAndReply(caller);
        String key = EpochReports.key("rendezvous-test", 1);
        EpochReports.open(key);
        try {
            // worker 1 of 2, epoch 3 (0-based 2), from another JVM: the header and its outcome's bytes
            Object message = new Object[] {"report|" + key + "|2|1|2",
                EpochReports.serialise(outcome(1, 70, new float[] {1.5f, -2f}))};
            assertTrue(receive.isDefinedAt(message));
            receive.apply(message);
            assertEquals(List.of(""), caller.replies, "answered once the driver holds it");
            // worker 0's in the driver's JVM, as an object
            WorkerOutcome mine = outcome(0, 70, new float[] {3f});
            EpochReports.deliver(key, 2, 0, 2, mine);
            List<WorkerOutcome> all = EpochReports.await(key, 2, 2, new CompletableFuture<>());
            assertSame(mine, all.get(0));
            assertEquals(1, all.get(1).worker, "in worker order");
            assertEquals("jvm-1", all.get(1).jvm);
            assertEquals(70, all.get(1).iterationCount);
            assertArrayEquals(new float[] {1.5f, -2f}, all.get(1).finalVector);
            assertEquals(0, endpoint.joins(), "a report is not a join");
        } finally {
            EpochReports.close(key);
        }
        byte[] bytes = EpochReports.serialise(outcome(1, 1, null));
        assertTrue(receive.isDefinedAt("smnist-1.0|0|2|127.0.0.1:4040"), "a join");
        assertFalse(receive.isDefinedAt(new Object[] {"report|k|0|1|2", "text, not bytes"}));
        assertFalse(receive.isDefinedAt(new Object[] {"smnist-1.0|0|2", bytes}), "bytes without a report header");
        assertFalse(receive.isDefinedAt(new Object[] {"report|k|0|1|2", bytes, bytes}));
        assertFalse(receive.isDefinedAt(42));
    }

    /**
     * In the driver's JVM the workers of an exchange still meet: none goes on before the last has joined, all get the
     * local address, and nothing is left behind; one that waits for a peer that never comes fails after the timeout.
     */
    @Test
    void workersInTheDriversJvmWaitForEachOtherAndOneAloneTimesOut() throws Exception {
        int workers = 3;
        java.util.concurrent.atomic.AtomicInteger joined = new java.util.concurrent.atomic.AtomicInteger();
        List<CompletableFuture<Integer>> seen = new ArrayList<>();
        for (int w = 0; w < workers - 1; w++) {
            int worker = w;
            seen.add(CompletableFuture.supplyAsync(() -> {
                joined.incrementAndGet();
                String[] all = Rendezvous.join("none", "meet-test", worker, workers, PeerTransport.LOCAL,
                    java.util.concurrent.TimeUnit.SECONDS.toNanos(30));
                assertArrayEquals(new String[] {PeerTransport.LOCAL, PeerTransport.LOCAL, PeerTransport.LOCAL}, all);
                return joined.get();
            }));
        }
        long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (joined.get() < workers - 1 && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        Thread.sleep(100); // time to go on, had they not waited
        assertTrue(seen.stream().noneMatch(CompletableFuture::isDone), "nobody goes on before the last joins");
        assertEquals(1, Rendezvous.meetingsHere());
        joined.incrementAndGet();
        Rendezvous.join("none", "meet-test", workers - 1, workers, PeerTransport.LOCAL,
            java.util.concurrent.TimeUnit.SECONDS.toNanos(30));
        for (CompletableFuture<Integer> f : seen) {
            assertEquals(workers, f.get(30, java.util.concurrent.TimeUnit.SECONDS), "went on after all had joined");
        }
        assertEquals(0, Rendezvous.meetingsHere(), "the last to join lets go of the meeting");

        long t0 = System.nanoTime();
        Inbox.ExchangeTimeoutException alone = org.junit.jupiter.api.Assertions.assertThrows(
            Inbox.ExchangeTimeoutException.class, () -> Rendezvous.join("none", "meet-alone", 0, 2,
                PeerTransport.LOCAL, java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(200)));
        assertTrue(System.nanoTime() - t0 >= java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(200));
        assertTrue(alone.getMessage().startsWith("worker 0 waited 0 s for the other workers of its stage to start"),
            alone.getMessage());
        assertEquals(0, Rendezvous.meetingsHere(), "a failed meeting is let go too");
        assertEquals(0, Rendezvous.join("none", "meet-one", 0, 1, PeerTransport.LOCAL, 1).length - 1,
            "one worker meets nobody");
    }
}
