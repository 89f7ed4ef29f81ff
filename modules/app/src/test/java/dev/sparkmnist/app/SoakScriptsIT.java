package dev.sparkmnist.app;

import dev.sparkmnist.runs.RunLayout;
import dev.sparkmnist.runs.RunFiles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkmnist.data.testing.TestData;
import java.io.File;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short soak (scripts/soak-cluster.sh): five LeNet epochs on a real 2-Worker standalone cluster while a fault
 * injector kills an executor JVM during epochs 2, 4 and 5 and a whole Worker (restarted 5 s later) during epoch 3,
 * each while that epoch's training stage runs all its tasks (or a later epoch's, when the driver answered late, in
 * which case the last executor faults can find the job finished: 1 to 3 executors are killed).
 * The job completes, every epoch counts every example exactly once, each fault cost a stage retry, and nothing of
 * the cluster is left running. The long run's figures are in BENCHMARKS.md.
 */
@Timeout(900)
class SoakScriptsIT {
    @TempDir
    static Path tmp;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The last {@code n} lines of {@code text}. */
    private static String tail(String text, int n) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    @Test
    void trainingSurvivesRepeatedExecutorAndWorkerFaults() throws Exception {
        Path repo = Path.of(System.getProperty("repo.root")).toAbsolutePath();
        Path out = tmp.resolve("soak");
        List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("scripts/soak-cluster.sh").toString(),
            out.toString(), "--model", "lenet", "--batch-size-per-worker", "3", "--averaging-frequency", "1",
            "--learning-rate", "0.005", "--lr-schedule", "none"));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
        // the scripts use the build's generated Spark home, as for a user without Spark; not the tests' empty one
        pb.environment().remove("SPARK_HOME");
        // MAX_DELAY 0.5: the slice's training stages last about 3 s (3 examples a worker, 334 rounds), so a fault
        // lands inside the stage it waited for even when the driver's REST API is slow to answer the second look (at
        // 1 s, faults landed an epoch late now and then: see below). At 4 examples a worker, once the shape cache
        // made small steps a quarter faster, one CI run injected no fault at all (likely every stage missed; the
        // failure message now shows the injector's lines); at 2 the test accuracy after 5 epochs was 0.892 (3: 0.932)
        pb.environment().put("MAX_DELAY", "0.5");
        pb.environment().putAll(java.util.Map.of("WORKERS", "2", "EPOCHS", "5", "WORKER_KILL_EPOCH", "2",
            "EXPECTED_EXAMPLES", String.valueOf(TestData.SLICE_TRAIN), "DATA_DIR", TestData.sliceDir(),
            "MASTER_PORT", String.valueOf(freePort()), "MASTER_UI_PORT", String.valueOf(freePort()),
            "WORKER_MEMORY", "1500m", "EXECUTOR_MEMORY", "1g", "DRIVER_MEMORY", "1500m"));
        File log = tmp.resolve("soak-script.log").toFile();
        pb.redirectOutput(log);
        Process p = pb.start();
        assertTrue(p.waitFor(800, TimeUnit.SECONDS), "the soak did not finish");
        String output = Files.readString(log.toPath(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), output);
        JsonNode soak = RunLayout.JSON.readTree(out.resolve("soak.json").toFile());
        // on a failure: the summary, then the injector's lines and the end of the script's output
        String why = soak + "\n" + output.lines().filter(l -> l.contains("soak-cluster.sh:"))
            .collect(java.util.stream.Collectors.joining("\n")) + "\n...\n" + tail(output, 30);
        assertEquals(0, soak.get("problems").size(), why);
        assertEquals(5, soak.get("epochs").asInt(), why);
        assertEquals(1, soak.get("faults").get("workersKilled").asInt(), why);
        // 3 planned; when the driver's REST API answers late, a fault lands in a later epoch's stage than planned and
        // the last ones can find the job finished (seen twice on a busy machine: 1 and 2 killed). Each one that
        // happened must have cost a retry (below)
        int executorsKilled = soak.get("faults").get("executorsKilled").asInt();
        assertTrue(executorsKilled >= 1 && executorsKilled <= 3, why);
        assertEquals(0, soak.get("faults").get("processesLeft").asInt(), why);
        // the injector kills only while a training stage runs all its tasks, but a kill can still come after the
        // stage's last task (once in CI: 4 kills, 3 retries); it follows each fault's stage attempt to its end on
        // the driver, and every one that failed its stage must have cost the engine a retry
        int landed = soak.get("faults").get("faultsLanded").asInt();
        assertTrue(landed >= 1 && landed <= executorsKilled + 1, why);
        assertTrue(soak.get("stageRetries").asInt() >= landed, why);
        JsonNode metrics = RunLayout.JSON.readTree(out.resolve("soak").resolve("metrics.json").toFile());
        for (JsonNode epoch : metrics.get("epochs")) {
            assertEquals(TestData.SLICE_TRAIN, epoch.get("examplesTrained").asInt(), "exactly once: " + epoch);
        }
        // 0.954 when this was written, epochs 1-4 equal to an undisturbed run (retries restart from the stage start).
        // At 0.01 minibatches of 3 trained at the edge of stability: with the native step (NativeStep, floats within
        // rounding of the Java step's) one CI run ended at 0.876, and undisturbed local[2] runs of this slice at seeds
        // 1-3 and 42 ended at 87-94 % (the Java step 91-94 %; one JVM 31-84 % for both). At 0.005 both steps ended at
        // 92.8-95.2 % for seeds 1, 2 and 42 (BENCHMARKS.md, round 41).
        assertTrue(metrics.get("test").get("accuracy").asDouble() >= 0.9, metrics.get("test").toString());
    }
}
