package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/lib/compile_log.py (BENCHMARKS.md, "Round 13"): a made-up HotSpot compilation log and run log, whose
 * compilations fall before training, in each epoch's training pass and after it, come out in the right windows with
 * the right seconds per tier.
 */
class CompileLogToolTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root", "../..")).toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    private static String task(int id, String method, int level, double start, double seconds) {
        return String.format(java.util.Locale.ROOT,
            "<task compile_id='%d' method='%s' bytes='60' count='256' level='%d' stamp='%.3f'>%n"
                + "<task_done success='1' nmsize='816' stamp='%.3f'/>%n", id, method, level, start, start + seconds);
    }

    /** The tool's output lines for a compilation log of the JVM started at {@code start} (ms) and a run log. */
    private List<String> tool(long start, String tasks, List<String> runLog) throws Exception {
        Path compilation = tmp.resolve("c.log");
        Files.writeString(compilation, "<?xml version='1.0' encoding='UTF-8'?>\n"
            + "<hotspot_log version='160 1' process='1' time_ms='" + start + "'>\n" + tasks + "</hotspot_log>\n");
        Path run = tmp.resolve("run.log");
        Files.write(run, runLog);
        ProcessBuilder pb = new ProcessBuilder("python3", REPO.resolve("scripts/lib/compile_log.py").toString(),
            compilation.toString(), run.toString());
        pb.environment().put("TZ", "UTC");
        ProcessRun tool = ProcessRun.of(pb);
        assertEquals(0, tool.exit(), tool.output());
        return tool.output().lines().toList();
    }

    @Test
    void compilationsLandInTheirEpochsWindows() throws Exception {
        long start = 1_796_313_600_000L; // the JVM's start, whole seconds: the run log's times are too
        DateTimeFormatter hms = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
        List<String> lines = tool(start, task(1, "java.lang.String hashCode ()I", 3, 1.0, 0.1)
            + task(2, "org.nd4j.linalg.api.Shape newShapeNoCopy ()V", 4, 5.0, 0.5)
            + task(3, "org.deeplearning4j.nn.Layer fit ()V", 4, 16.0, 0.25)
            + task(4, "sun.java2d.marlin.Renderer end ()V", 4, 25.0, 1.0), List.of(
            hms.format(Instant.ofEpochMilli(start + 10_000)) + " INFO  Listeners: epoch 1/2  train loss 0.2  test acc"
                + " 97.00%  5000 ex/s  fit 5.0s  eval 1.0s  lr 0.0100  ETA 10s",
            hms.format(Instant.ofEpochMilli(start + 20_000)) + " INFO  Listeners: epoch 2/2  train loss 0.1  test acc"
                + " 98.00%  6000 ex/s  fit 4.0s  eval 1.0s  lr 0.0100  ETA 0s"));
        assertEquals(List.of(
            "before training [0.0 s, 4.0 s): tier 3: 1 in 0.10 s",
            "epoch 1 training [4.0 s, 9.0 s): tier 4: 1 in 0.50 s",
            "    C2   0.50 s  org.nd4j.linalg",
            "epoch 1 evaluation [9.0 s, 10.0 s): ",
            "epoch 2 training [15.0 s, 19.0 s): tier 4: 1 in 0.25 s",
            "    C2   0.25 s  org.deeplearning4j.nn",
            "epoch 2 evaluation [19.0 s, 20.0 s): ",
            "after training [20.0 s, inf s): tier 4: 1 in 1.00 s",
            "    C2   1.00 s  sun.java2d.marlin",
            "whole run: tier 3: 0.10 s  tier 4: 1.75 s"), lines);
    }

    /**
     * A run log with milliseconds (as scripts/profile-epochs.sh's SPARK_MNIST_LOG4J writes it): the windows fall where
     * the milliseconds put them, and a compilation 0.1 s inside a window is counted in it.
     */
    @Test
    void logTimesWithMillisecondsCutWindowsToTheMillisecond() throws Exception {
        long start = 1_796_313_600_000L;
        DateTimeFormatter hmsMillis = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneOffset.UTC);
        List<String> lines = tool(start, task(1, "java.lang.String hashCode ()I", 3, 4.15, 0.1)
            + task(2, "org.nd4j.linalg.api.Shape newShapeNoCopy ()V", 4, 4.35, 0.5), List.of(
            hmsMillis.format(Instant.ofEpochMilli(start + 10_250)) + " INFO  Listeners: epoch 1/1  train loss 0.2"
                + "  test acc 97.00%  5000 ex/s  fit 5.0s  eval 1.0s  lr 0.0100  ETA 0s"));
        assertEquals(List.of(
            "before training [0.0 s, 4.2 s): tier 3: 1 in 0.10 s",
            "epoch 1 training [4.2 s, 9.2 s): tier 4: 1 in 0.50 s",
            "    C2   0.50 s  org.nd4j.linalg",
            "epoch 1 evaluation [9.2 s, 10.2 s): ",
            "after training [10.2 s, inf s): ",
            "whole run: tier 3: 0.10 s  tier 4: 0.50 s"), lines);
    }
}
