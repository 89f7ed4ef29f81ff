package dev.sparkmnist.runtime;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;

/**
 * Samples, on a daemon thread, the process's resident set ({@link Pointer#physicalBytes()}, which
 * {@code org.bytedeco.javacpp.maxphysicalbytes} caps) and the part of it outside the Java heap (resident set less the
 * committed heap): ND4J's arrays, native libraries, metaspace, thread stacks. That part is what a YARN or Kubernetes
 * container's {@code spark.executor.memoryOverhead} must hold, and what the memory plan is checked against. (ND4J
 * 1.0.0-M2's CPU buffers are counted neither by {@link Pointer#totalBytes()} nor by its allocation tracker.)
 */
public final class OffHeapMeter implements AutoCloseable {
    /** Milliseconds between samples. */
    static final long INTERVAL_MS = 50;
    private final ScheduledExecutorService timer;
    private final AtomicLong peakOffHeap = new AtomicLong();
    private final AtomicLong peakResident = new AtomicLong();

    private OffHeapMeter() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "off-heap-meter");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::sample, 0, INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    /** Starts sampling in this JVM. */
    public static OffHeapMeter start() {
        return new OffHeapMeter();
    }

    private void sample() {
        long resident = Pointer.physicalBytes();
        peakOffHeap.accumulateAndGet(resident - Runtime.getRuntime().totalMemory(), Math::max);
        peakResident.accumulateAndGet(resident, Math::max);
    }

    /** Peak resident bytes outside the committed Java heap so far. */
    public long peakOffHeapBytes() {
        sample();
        return peakOffHeap.get();
    }

    /** Peak resident set of the process so far (heap included). */
    public long peakResidentBytes() {
        sample();
        return peakResident.get();
    }

    /** The limit JavaCPP enforces on tracked off-heap bytes in this JVM ({@code org.bytedeco.javacpp.maxbytes}). */
    public static long maxBytes() {
        return Pointer.maxBytes();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
