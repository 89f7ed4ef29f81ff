package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The plain progress lines: at most one per interval, with exact figures. */
class ProgressDisplayTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void oneLinePerIntervalWithRateAndEta() {
        AtomicLong now = new AtomicLong(100 * SECOND);
        List<String> lines = new ArrayList<>();
        ProgressDisplay.Lines progress = new ProgressDisplay.Lines(now::get, 10 * SECOND, lines::add);
        progress.start(2, 5, 60_000);
        now.addAndGet(5 * SECOND);
        progress.update(10_000); // 5 s: too early
        now.addAndGet(5 * SECOND);
        progress.update(20_000); // 10 s
        now.addAndGet(SECOND);
        progress.update(22_000); // 11 s: too early again
        now.addAndGet(19 * SECOND);
        progress.update(60_000); // done: the epoch's summary line says it
        progress.finish();
        assertEquals(List.of("epoch 2/5: 20000/60000 examples (33.3%)  2000 ex/s  ETA 20s"), lines);
    }

    @Test
    void noRateYetMeansNoEta() {
        assertEquals("epoch 1/1: 0/100 examples (0.0%)  0 ex/s  ETA ?", ProgressDisplay.Lines.line(1, 1, 0, 100, 0));
    }

    @Test
    void theBarDrawsTheEpochAndItsCount() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        ProgressDisplay.Bar bar = new ProgressDisplay.Bar(new java.io.PrintStream(bytes, true));
        bar.start(3, 5, 2000);
        bar.update(500);
        bar.update(2000);
        bar.finish();
        String drawn = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        org.junit.jupiter.api.Assertions.assertTrue(drawn.contains("epoch 3/5"), drawn);
        org.junit.jupiter.api.Assertions.assertTrue(drawn.contains("100%") && drawn.contains("2000/2000 ex"), drawn);
    }
}
