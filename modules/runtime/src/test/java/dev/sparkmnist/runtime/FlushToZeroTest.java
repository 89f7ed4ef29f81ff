package dev.sparkmnist.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import dev.sparkmnist.models.SubnormalFlush;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** {@link FlushToZero} sets the mode on the calling thread only, for ND4J's operations and Java's, and restores it. */
class FlushToZeroTest {
    /** MXCSR's modes and exception masks. */
    private static final int CONTROL_BITS = 0xffc0;
    /** Read at run time, so that no compiler folds the arithmetic below. */
    private static volatile float smallestNormal = Float.MIN_NORMAL;

    private static float quarter() {
        return smallestNormal * 0.25f;
    }

    private static float[] nd4jQuarter() {
        return Nd4j.create(new float[] {smallestNormal, 1f}, new long[] {1, 2}).muli(0.25).toFloatVector();
    }

    @Test
    void availableOnX8664Linux() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        assertEquals(os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64")), FlushToZero.available());
    }

    @Test
    void propertyIsTrueOrFalse() {
        assertTrue(FlushToZero.wanted(null), "on unless switched off");
        assertTrue(FlushToZero.wanted("true"));
        assertFalse(FlushToZero.wanted("false"));
        assertFalse(FlushToZero.wanted(" FALSE "));
        assertTrue(FlushToZero.wanted("flase"), "a typo keeps the default, with a warning");
    }

    @Test
    void subnormalResultsAreZeroInsideTheScopeOnly() throws InterruptedException {
        if (!FlushToZero.available()) {
            assertFalse(FlushToZero.enable().active(), "nothing to set here");
            return;
        }
        int before = FlushToZero.mxcsr();
        assertEquals(0, before & FlushToZero.FTZ_DAZ, "the JVM starts threads without the mode");
        assertEquals(Float.MIN_NORMAL / 4, quarter(), "IEEE: a subnormal result");
        assertFalse(SubnormalFlush.threadFlushesToZero());
        try (FlushToZero.Scope ftz = FlushToZero.enable()) {
            assertTrue(ftz.active());
            assertEquals(FlushToZero.FTZ_DAZ, FlushToZero.mxcsr() & FlushToZero.FTZ_DAZ);
            assertEquals(0f, quarter(), "Java's arithmetic on this thread");
            assertArrayEquals(new float[] {0f, 0.25f}, nd4jQuarter(), "ND4J's operations on this thread");
            assertTrue(SubnormalFlush.threadFlushesToZero(), "the state flush sees the mode and skips its pass");
            try (FlushToZero.Scope inner = FlushToZero.enable()) {
                assertTrue(inner.active());
            }
            assertEquals(0f, quarter(), "the inner scope restored the outer one's mode");
            AtomicReference<Float> other = new AtomicReference<>();
            Thread t = new Thread(() -> other.set(quarter()));
            t.start();
            t.join();
            assertEquals(Float.MIN_NORMAL / 4, other.get(), "another thread keeps IEEE subnormals");
        }
        assertEquals(before & CONTROL_BITS, FlushToZero.mxcsr() & CONTROL_BITS, "restored (modes and masks; the low six"
            + " bits are sticky exception flags)");
        assertEquals(Float.MIN_NORMAL / 4, quarter());
        assertFalse(SubnormalFlush.threadFlushesToZero());
        assertArrayEquals(new float[] {Float.MIN_NORMAL / 4, 0.25f}, nd4jQuarter());
    }
}
