package dev.sparkmnist.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM that stops while a run still writes (Ctrl-C, SIGTERM: Hadoop's shutdown hook closes the file systems) leaves
 * no staging directory beside the output; a committed output stays whole. Closing the file system here is what that
 * hook does.
 */
class AtomicOutputTest {
    @TempDir
    Path tmp;

    private static void stopJvmsFileSystems(Configuration conf) throws Exception {
        FileSystem.get(java.net.URI.create("file:///"), conf).close(); // the cached instance the output writes with
    }

    @Test
    void aStoppedRunLeavesNoStagingDirectory() throws Exception {
        Configuration conf = new Configuration();
        AtomicOutput out = AtomicOutput.open(tmp.resolve("run").toString(), false, conf);
        out.writeText("metrics.json", "{}");
        assertTrue(Files.isDirectory(Path.of(out.staging().toUri())), "staged while the run works");
        stopJvmsFileSystems(conf);
        try (var left = Files.list(tmp)) {
            assertEquals(java.util.List.of(), left.toList(), "nothing left: no output, no staging directory");
        }
    }

    @Test
    void aCommittedOutputOutlivesTheStop() throws Exception {
        Configuration conf = new Configuration();
        AtomicOutput out = AtomicOutput.open(tmp.resolve("run").toString(), false, conf);
        out.writeText("metrics.json", "{}");
        out.commit();
        out.close();
        AtomicOutput failed = AtomicOutput.open(tmp.resolve("other").toString(), false, conf);
        failed.close(); // a run that failed: its staging directory removed at once
        stopJvmsFileSystems(conf);
        assertEquals("{}", Files.readString(tmp.resolve("run/metrics.json")));
        assertTrue(Files.exists(tmp.resolve("run/_SUCCESS")));
        try (var left = Files.list(tmp)) {
            assertEquals(java.util.List.of("run"), left.map(p -> p.getFileName().toString()).toList());
        }
        assertFalse(Files.exists(tmp.resolve("other")));
    }
}
