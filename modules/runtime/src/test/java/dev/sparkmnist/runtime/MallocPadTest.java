package dev.sparkmnist.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@link MallocPad} on this machine's glibc: set once, and a buffer freed and allocated again is not faulted in again.
 */
class MallocPadTest {
    private static final long BUFFER = 8L << 20;

    @Test
    void glibcTakesTheSettingsOnce() {
        assertEquals("set", MallocPad.apply(), "Linux with glibc: mallopt took the three values");
        assertEquals("set", MallocPad.apply(), "the second call returns the first call's outcome");
    }

    @Test
    void theSwitchKeepsGlibcsDefaults() {
        String before = System.getProperty(MallocPad.PROPERTY);
        System.setProperty(MallocPad.PROPERTY, " False ");
        try {
            assertEquals("-D" + MallocPad.PROPERTY + "=false", MallocPad.set());
        } finally {
            if (before == null) {
                System.clearProperty(MallocPad.PROPERTY);
            } else {
                System.setProperty(MallocPad.PROPERTY, before);
            }
        }
    }

    /**
     * A thread that allocates, writes and frees an 8 MiB buffer twenty times takes page faults for about one buffer:
     * the memory stays in its arena. With the trim and pad set but the mmap threshold left where it stood (setting
     * either stops its self-adjustment), each buffer would be mapped and unmapped again: 2,048 faults each time.
     */
    @Test
    void aFreedBufferIsNotFaultedInAgain() throws Exception {
        assertEquals("set", MallocPad.apply());
        long[] faults = new long[1];
        Throwable[] failed = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                touch(); // the arena's first heap grows here
                long before = minorFaults();
                for (int k = 0; k < 20; k++) {
                    touch();
                }
                faults[0] = minorFaults() - before;
            } catch (Throwable e) {
                failed[0] = e;
            }
        });
        t.start();
        t.join();
        if (failed[0] != null) {
            throw new AssertionError(failed[0]);
        }
        long pages = BUFFER / 4096;
        assertTrue(faults[0] < pages, "20 buffers of " + pages + " pages: " + faults[0] + " page faults");
    }

    private static void touch() {
        long address = Native.malloc(BUFFER);
        assertTrue(address != 0);
        try {
            new Pointer(address).setMemory(0, BUFFER, (byte) 1);
        } finally {
            Native.free(address);
        }
    }

    /** The calling thread's minor page faults ({@code /proc/thread-self/stat}, field 10). */
    private static long minorFaults() throws IOException {
        String stat = Files.readString(Path.of("/proc/thread-self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[7]); // fields from the state (field 3) on: minflt is field 10
    }
}
