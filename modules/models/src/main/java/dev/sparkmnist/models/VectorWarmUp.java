package dev.sparkmnist.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.DoubleUnaryOperator;
import org.slf4j.Logger;

/**
 * The warm-up a Vector API kernel needs before a caller may use it. Before C2 compiles it, Java Vector API code runs
 * one or two orders of magnitude slower than the scalar code it replaces (each vector is an object, each operation a
 * call), so the callers keep their scalar path until a background thread has seen the compiled kernel run: it calls
 * the kernel {@value #CALLS} times at a time on arrays of its own of {@value #WARM_UP_FLOATS} floats,
 * {@value #PAUSE_MILLIS} ms apart, until they average under {@value #CALLS_NANOS_PER_FLOAT} ns a float (compiled: a
 * few ns, the call's own cost counting for much on so few floats; before C2: about 100 or more), then {@value #CALLS}
 * calls on {@value #CONFIRM_FLOATS} floats under {@value #READY_NANOS_PER_FLOAT} ns (compiled: about 2 or less),
 * which sets the kernel's ready flag; it gives up after {@value #WARM_UP_SECONDS} s (the JIT never compiled it). The
 * arrays are short because what makes C2 compile a kernel is how often it is called, not how long it runs: on arrays
 * of 1,029 floats, 50 calls every 5 ms, Adam's warm-up took 0.4-0.5 s of a core in a run's first epoch (C2's queue is
 * long then, and the calls went on while the kernel waited in it), on the cores the training needs; now about 0.1 s.
 * The floats not a multiple of the lanes (8 with AVX2, 16 with AVX-512) make the kernels' scalar tails run here too,
 * or C2 leaves them out and the first real call throws the compiled code away to compile it again.
 *
 * <p>Used by {@link SimdAdam} (Adam's step), {@link ExchangeBlend} (the resident engine's averaging),
 * {@link Pool2x2Kernel} (LeNet's pooling) and {@link ChannelSums} (its first convolution's bias gradient).
 */
final class VectorWarmUp {
    static final double READY_NANOS_PER_FLOAT = 5;
    static final double CALLS_NANOS_PER_FLOAT = 20;
    static final int CONFIRM_FLOATS = 1024 + 5;
    static final int WARM_UP_SECONDS = 120;
    static final int WARM_UP_FLOATS = 32 + 5;
    static final int CALLS = 50;
    static final int PAUSE_MILLIS = 10;

    private VectorWarmUp() {
    }

    /**
     * Why a Vector API kernel switched by the system property {@code property} (on unless {@code false}) may not run
     * in this JVM, with {@code value} as the property's value, or null where it may: the switch off, no Vector API
     * module or one without the kernels' ByteBuffer access ({@link SimdAdam#VECTOR_API_ABSENT}), not ND4J's CPU
     * backend. A value other than true or false is one warning ({@code log}) ending in {@code stays}, and reads as on.
     */
    static String whyNot(String property, String value, Logger log, String stays) {
        if (value != null && value.strip().equalsIgnoreCase("false")) {
            return "-D" + property + "=false";
        }
        if (value != null && !value.strip().equalsIgnoreCase("true")) {
            log.warn("-D{} ({}) must be true or false; {}", property, value, stays);
        }
        if (!SimdAdam.VECTOR_API) {
            return SimdAdam.VECTOR_API_ABSENT;
        }
        if (!HostArrays.CPU) {
            return "not the CPU backend";
        }
        return null;
    }

    /**
     * Starts the daemon thread {@code thread} that warms a kernel and sets {@code ready} once it runs compiled.
     *
     * @param calls {@code floats -> ns a float} of {@value #CALLS} calls of the kernel on arrays of its own of that
     *     many floats ({@value #WARM_UP_FLOATS} or {@value #CONFIRM_FLOATS}), not counting what sets each call up;
     *     NaN where the kernel's results differ from those of the code that runs {@code instead} (a kernel whose
     *     floats must be that code's checks them on the {@value #CONFIRM_FLOATS} floats): it then stays off
     * @param what the kernel as the log names it, e.g. "Adam's step"
     * @param instead what runs while it is not ready, e.g. "ND4J's op"
     */
    static void start(String thread, DoubleUnaryOperator calls, AtomicBoolean ready, Logger log, String what,
                      String instead, int lanes) {
        Thread t = new Thread(() -> run(calls, ready, log, what, instead, lanes), thread);
        t.setDaemon(true);
        t.start();
    }

    private static void run(DoubleUnaryOperator calls, AtomicBoolean ready, Logger log, String what, String instead,
                            int lanes) {
        long started = System.nanoTime();
        long deadline = started + WARM_UP_SECONDS * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            double nanosPerFloat = calls.applyAsDouble(WARM_UP_FLOATS);
            if (nanosPerFloat < CALLS_NANOS_PER_FLOAT) {
                nanosPerFloat = calls.applyAsDouble(CONFIRM_FLOATS);
            }
            if (Double.isNaN(nanosPerFloat)) {
                log.warn("{} as Java Vector API code, compiled, gave other floats than {}: {} stays", what, instead,
                    instead);
                return;
            }
            if (nanosPerFloat < READY_NANOS_PER_FLOAT) {
                ready.set(true);
                log.info(String.format(Locale.ROOT, "%s runs as Java Vector API code (%d-bit) from now: the JIT"
                    + " compiled it %.1f s after its warm-up began (%.2f ns a float; the warm-up took %.2f s of CPU)",
                    what, lanes * 32, (System.nanoTime() - started) / 1e9, nanosPerFloat, cpuSeconds()));
                return;
            }
            try {
                Thread.sleep(PAUSE_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
        log.info("{} as Java Vector API code was not compiled within {} s: {} stays", what, WARM_UP_SECONDS, instead);
    }

    /** A direct buffer of {@code n} floats in native order, as the kernels read ND4J's host memory. */
    static ByteBuffer floats(int n) {
        return ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder());
    }

    /** An updater warm-up's gradient: {@code n} small floats, none subnormal, of both signs. */
    static ByteBuffer gradient(int n) {
        ByteBuffer g = floats(n);
        for (int i = 0; i < n; i++) {
            g.putFloat(4 * i, 1e-3f * ((i % 7) - 3));
        }
        return g;
    }

    /**
     * Nanoseconds a float of {@value #CALLS} calls of an updater's kernel on {@code n} floats, not counting the copies
     * that set each call up: each call starts from {@code start} copied into {@code g} (the same gradient every call:
     * no subnormal values); every other call {@code stepping}, the kernel that steps the parameters too (which
     * training runs), the others {@code plain}, so that C2 compiles both before the kernel is ready.
     */
    static double timedUpdaterCalls(ByteBuffer g, ByteBuffer start, int n, Runnable stepping, Runnable plain) {
        long copying = 0;
        long t0 = System.nanoTime();
        for (int k = 0; k < CALLS; k++) {
            long c0 = System.nanoTime();
            g.clear().put(start.duplicate().clear());
            copying += System.nanoTime() - c0;
            if (k % 2 == 0) {
                stepping.run();
            } else {
                plain.run();
            }
        }
        return (System.nanoTime() - t0 - copying) / ((double) CALLS * n);
    }

    /** This thread's CPU seconds so far, or NaN where the JVM does not measure them. */
    private static double cpuSeconds() {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        return threads.isCurrentThreadCpuTimeSupported() ? threads.getCurrentThreadCpuTime() / 1e9 : Double.NaN;
    }
}
