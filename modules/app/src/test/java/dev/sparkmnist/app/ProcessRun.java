package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Exit code and combined output of a short process a test starts and waits for (30 s at most). */
record ProcessRun(int exit, String output) {
    static ProcessRun of(ProcessBuilder pb) throws Exception {
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "still running after 30 s: " + pb.command());
        return new ProcessRun(p.exitValue(), out);
    }
}
