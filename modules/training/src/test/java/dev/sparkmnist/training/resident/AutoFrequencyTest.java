package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The rule of {@code --averaging-frequency auto} and the exchange's wire format, on hand-made numbers. */
class AutoFrequencyTest {
    @Test
    void smallestFrequencyThatKeepsTheExchangeUnderItsShare() {
        // f = ceil(x * 0.95 / (0.05 * c)) = ceil(19 x / c): x / (f c + x) <= 5 %
        assertEquals(0.05, AutoFrequency.SHARE);
        assertEquals(1, AutoFrequency.choose(30, 0.9), "one JVM: an exchange is a memory copy; ceil(0.57)");
        assertEquals(2, AutoFrequency.choose(10, 1), "ceil(1.9)");
        assertEquals(6, AutoFrequency.choose(10, 3), "ceil(5.7)");
        assertEquals(7, AutoFrequency.choose(10, 3.2), "ceil(6.08)");
        assertEquals(8, AutoFrequency.CEILING, "the workers' models drift apart when they fit alone for longer");
        assertEquals(8, AutoFrequency.choose(10, 4.2), "ceil(7.98)");
        assertEquals(AutoFrequency.CEILING, AutoFrequency.choose(10, 10), "ceil(19), capped");
        assertEquals(AutoFrequency.CEILING, AutoFrequency.choose(1, 100), "capped: models must not drift apart");
        assertEquals(AutoFrequency.FLOOR, AutoFrequency.choose(10, 0), "a free exchange: every minibatch");
        assertEquals(AutoFrequency.CEILING, AutoFrequency.choose(0, 5), "no compute measured: the safe end");
        assertEquals(AutoFrequency.CEILING, AutoFrequency.choose(Double.NaN, 5));
        int f = AutoFrequency.choose(26.5, 9.7);
        assertEquals(7, f, "ceil(6.95)");
        assertTrue(9.7 / (f * 26.5 + 9.7) <= AutoFrequency.SHARE, "under the share");
        assertTrue(9.7 / ((f - 1) * 26.5 + 9.7) > AutoFrequency.SHARE, "the smallest such f");
    }

    @Test
    void workersMeasurementsAreAveraged() {
        AutoFrequency a = AutoFrequency.of(new long[][] {{20_000_000, 2_000_000, 1_000_000},
            {30_000_000, 4_000_000, 3_000_000}});
        assertEquals(25.0, a.minibatchMillis(), 1e-12);
        assertEquals(3.0, a.exchangeMillis(), 1e-12);
        assertEquals(2.0, a.waitMillis(), 1e-12);
        assertEquals(AutoFrequency.choose(25, 3), a.frequency());
        assertEquals(3, a.frequency(), "ceil(3 * 0.95 / 1.25) = ceil(2.28)");
    }

    /**
     * The probe's statistics skip the warm-up and the rounds without a minibatch; the exchange is charged at its lower
     * quartile, so a majority of exchanges that waited for a descheduled peer does not move it.
     */
    @Test
    void probeQuantilesSkipWarmUpAndResistDisturbedExchanges() {
        assertEquals(8, AutoFrequency.WARM_UP);
        long[] alone = new long[AutoFrequency.WARM_UP + 32];
        java.util.Arrays.fill(alone, 0, AutoFrequency.WARM_UP, 50_000_000L); // cold: never counted
        for (int i = 0; i < 32; i++) {
            // 12 undisturbed copies of 0.50-0.76 ms, 20 that waited 2-21 ms for a peer, interleaved
            alone[AutoFrequency.WARM_UP + i] = i % 8 < 3 ? 500_000L + 10_000L * i : 2_000_000L + 1_000_000L * (i % 20);
        }
        long median = AutoFrequency.quantile(alone, 0.5);
        long quartile = AutoFrequency.quantile(alone, 0.25);
        assertTrue(median >= 2_000_000L, "the median is a disturbed exchange: " + median);
        assertEquals(680_000L, quartile, "the 9th smallest of 32: an undisturbed copy");
        assertTrue(AutoFrequency.choose(9.4, median / 1e6) >= 5, "charged at the median: every 5 or more");
        assertEquals(2, AutoFrequency.choose(9.4, quartile / 1e6),
            "at the quartile: ceil(19 * 0.68 / 9.4) = ceil(1.37)");

        long[] compute = {900, 800, 700, 600, 500, 400, 300, 200, -1, 40, 10, -1, 30, 20};
        assertEquals(30, AutoFrequency.quantile(compute, 0.5), "of 10, 20, 30, 40 after the warm-up; -1: no minibatch");
        assertEquals(20, AutoFrequency.quantile(compute, 0.25));
        assertEquals(0, AutoFrequency.quantile(new long[] {5, 5, 5}, 0.5), "nothing after the warm-up");
        assertEquals(0, AutoFrequency.quantile(new long[] {5, 5, 5, 5, 5, 5, 5, 5, -1}, 0.5), "only rounds without a"
            + " minibatch");
    }

    @Test
    void theProbeTimesANativeStepOnOneThreadByItsCpuTime() throws InterruptedException {
        assertTrue(AutoFrequency.cpuTimed(true, 1), "the native step on one thread: its thread's CPU time");
        assertFalse(AutoFrequency.cpuTimed(false, 1), "a Java step (ND4J's own threads): the clock");
        assertFalse(AutoFrequency.cpuTimed(true, 2), "more than one thread a task: the clock");
        // what the choice rests on: a thread's CPU time leaves out the time it waited, which the clock counts
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long c0 = threads.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        Thread.sleep(50);
        long waited = System.nanoTime() - t0;
        long cpu = threads.getCurrentThreadCpuTime() - c0;
        assertTrue(waited >= 50_000_000L && cpu < 20_000_000L, "50 ms asleep: " + waited + " ns by the clock, " + cpu
            + " ns of CPU");
    }

    /** {@code p} as it travels: encoded into a buffer with room to spare, which must take exactly its wire bytes. */
    private static java.nio.ByteBuffer wire(Parcel p) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(p.wireBytes() + 16);
        p.encode(b);
        assertEquals(p.wireBytes(), b.position(), "encode writes exactly wireBytes()");
        return b.flip();
    }

    /** A receiver that decodes every parcel into a new array. */
    private static Parcel decode(java.nio.ByteBuffer b) {
        return Parcel.decode(b, (attempt, to, length) -> new float[length]);
    }

    @Test
    void parcelsSurviveTheWire() {
        Parcel p = new Parcel("smnist-1234abcd-7.1", 3, 1, 42, Parcel.GATHER, 0.5f, new float[] {1.5f, -2f, 0f});
        Parcel q = decode(wire(p));
        assertEquals(p.attempt(), q.attempt());
        assertEquals(3, q.to());
        assertEquals(1, q.from());
        assertEquals(42, q.round());
        assertEquals(Parcel.GATHER, q.kind());
        assertEquals(0.5f, q.weight());
        assertArrayEquals(p.values(), q.values());
        assertEquals(p.wireBytes(), wire(p).remaining());
        assertEquals("42a1", q.key(), "round, kind, sender");
        assertTrue(q.received(), "decoded: the receiver's own array");
        assertFalse(p.received(), "sent: the sender's array");
    }

    /**
     * A receiver decodes a parcel's values into an array its inbox keeps for that (one the worker gave back, of the
     * same length), drops a parcel for a closed inbox without reading its values, and never keeps an array a peer in
     * the same JVM handed over (that peer writes it again next round).
     */
    @Test
    void receivedArraysAreReusedAndPeersArraysAreNot() {
        Parcel sent = new Parcel("a-1.0", 0, 1, 3, Parcel.SCATTER, 1f, new float[] {4f, 5f});
        Inbox inbox = new Inbox();
        float[] mine = inbox.array(2);
        Parcel got = Parcel.decode(wire(sent), (attempt, to, length) -> {
            assertEquals("a-1.0", attempt);
            assertEquals(0, to);
            assertEquals(2, length);
            return mine;
        });
        assertSame(mine, got.values());
        assertArrayEquals(new float[] {4f, 5f}, got.values());
        inbox.giveBack(got);
        assertSame(mine, inbox.array(2), "given back, then reused for the next parcel of its length");
        assertNotSame(mine, inbox.array(2), "and only once");
        inbox.giveBack(sent);
        assertNotSame(sent.values(), inbox.array(2), "a peer's own array is not kept");
        assertNull(Parcel.decode(wire(sent), (attempt, to, length) -> null), "dropped");
    }

    /**
     * Three workers (threads, one exchange in this JVM) with figures of their own agree on one frequency, the rule's on
     * the mean of their figures: not what any one of them would pick alone.
     */
    @Test
    void workersThatProbedAgreeOnTheFrequencyOfTheirMeanFigures() throws Exception {
        long[][] figures = {{4_000_000, 100_000, 5_000}, {2_000_000, 1_000_000, 0}, {6_000_000, 500_000, 70_000}};
        int workers = figures.length;
        assertEquals(List.of(1, 8, 2), List.of(AutoFrequency.choose(4, 0.1), AutoFrequency.choose(2, 1),
            AutoFrequency.choose(6, 0.5)), "alone, each would pick another");
        int expected = AutoFrequency.of(figures).frequency();
        assertEquals(3, expected, "the rule on the means: 4 ms a minibatch, 0.53 ms an exchange");
        PeerTransport transport = PeerTransport.inThisJvm();
        String[] addresses = new String[workers];
        java.util.Arrays.fill(addresses, transport.address());
        ExecutorService threads = Executors.newFixedThreadPool(workers);
        try {
            List<Future<Integer>> agreed = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                int worker = w;
                agreed.add(threads.submit(() -> {
                    try (PeerExchange exchange = new PeerExchange("agree", worker, workers, 64, 30, transport,
                             (t, timeout) -> addresses)) {
                        return AutoFrequency.agree(figures[worker], exchange, 80, worker, workers);
                    }
                }));
            }
            for (Future<Integer> f : agreed) {
                assertEquals(expected, f.get(60, TimeUnit.SECONDS));
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals(0, transport.openInboxes());
    }
}
