package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/** The warm-up thread sets a kernel's flag once its calls run compiled, and never where its floats differ. */
class VectorWarmUpTest {
    /** A logger that keeps each call as "level: format". */
    private static Logger recording(List<String> calls) {
        return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
            (proxy, method, args) -> {
                if (method.getReturnType() == boolean.class) {
                    return true; // every level enabled
                }
                if (method.getReturnType() == String.class) {
                    return "recording";
                }
                if (args != null && args.length > 0 && args[0] instanceof String format) {
                    calls.add(method.getName() + ": " + format);
                }
                return null;
            });
    }

    private static void awaitCalls(List<String> calls) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (calls.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    @Test
    void aKernelThatRunsFastEnoughIsReady() throws InterruptedException {
        AtomicBoolean ready = new AtomicBoolean();
        List<String> calls = new CopyOnWriteArrayList<>();
        VectorWarmUp.start("test-warm-up-fast", floats -> 1.0, ready, recording(calls), "A kernel", "the loop", 8);
        awaitCalls(calls);
        assertTrue(ready.get());
        assertEquals(1, calls.size(), calls.toString());
        assertTrue(calls.get(0).startsWith("info: A kernel runs as Java Vector API code (256-bit) from now"),
            calls.get(0));
    }

    @Test
    void aKernelWhoseCompiledFloatsDifferStaysOff() throws InterruptedException {
        AtomicBoolean ready = new AtomicBoolean();
        List<String> calls = new CopyOnWriteArrayList<>();
        List<Double> lengths = new CopyOnWriteArrayList<>();
        VectorWarmUp.start("test-warm-up-differs", floats -> {
            lengths.add(floats);
            return floats == VectorWarmUp.CONFIRM_FLOATS ? Double.NaN : 1.0;
        }, ready, recording(calls), "A kernel", "the loop", 8);
        awaitCalls(calls);
        assertEquals(List.of("warn: {} as Java Vector API code, compiled, gave other floats than {}: {} stays"),
            calls);
        assertFalse(ready.get());
        Thread.sleep(3 * VectorWarmUp.PAUSE_MILLIS);
        assertEquals(List.of((double) VectorWarmUp.WARM_UP_FLOATS, (double) VectorWarmUp.CONFIRM_FLOATS), lengths,
            "the warm-up stopped at the first difference");
        assertFalse(ready.get());
    }
    /** A vector class as Java 19 and later have it: loads from memory segments, none from byte buffers. */
    static final class SegmentOnlyVector {
        private SegmentOnlyVector() {
        }

        public static SegmentOnlyVector fromMemorySegment(Object species, Object segment, long offset, Object order) {
            return new SegmentOnlyVector();
        }
    }

    @Test
    void theKernelsRunOnlyWhereTheVectorApiReadsByteBuffers() {
        assertNull(SimdAdam.vectorApiAbsent(true, "jdk.incubator.vector.FloatVector"),
            "Java 17's Vector API, the module added (as the build's tests run)");
        assertNull(SimdAdam.VECTOR_API_ABSENT);
        assertTrue(SimdAdam.VECTOR_API);
        String later = SimdAdam.vectorApiAbsent(true, SegmentOnlyVector.class.getName());
        assertTrue(later.contains("has no ByteBuffer loads and stores") && later.contains("they run on Java 17"), later);
        assertEquals("-D" + ExchangeBlend.PROPERTY + "=false", VectorWarmUp.whyNot(ExchangeBlend.PROPERTY, "false",
            recording(new CopyOnWriteArrayList<>()), "stays"), "the switch is named first");
        assertTrue(SimdAdam.vectorApiAbsent(false, "jdk.incubator.vector.FloatVector")
            .contains("--add-modules=jdk.incubator.vector"));
        assertTrue(SimdAdam.vectorApiAbsent(true, "no.such.Vector").contains("cannot load"));
    }
}
