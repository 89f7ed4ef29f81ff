package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/lib/epoch_profile.py, the summary of scripts/profile-epochs.sh (BENCHMARKS.md, round 36): made-up samples of
 * two threads, a HotSpot perf map, a run log whose epoch lines carry milliseconds and the run's metrics come out as the
 * training thread's samples by kind of code in each epoch's window; samples between the windows and the other thread's
 * are left out.
 */
class EpochProfileToolTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root", "../..")).toAbsolutePath().normalize();
    /**
     * 2026-01-01T23:59:59Z, CLOCK_MONOTONIC 1000.0 s: the recording starts before midnight, the epochs' log lines fall
     * on the next day.
     */
    private static final double MONOTONIC_AT = 1000.0;
    private static final double UNIX_AT = 1_767_311_999.0;

    @TempDir
    Path tmp;

    private static String sample(int tid, double monotonic, long ip, String symbol, String dso) {
        return String.format(Locale.ROOT, "%7d %.6f: %16x %s (%s)%n", tid, monotonic, ip, symbol, dso);
    }

    @Test
    void theTrainingThreadsSamplesByKindInEachEpoch() throws Exception {
        String map = "/tmp/perf-4242.map";
        StringBuilder perf = new StringBuilder();
        // epoch 1: [1001.0, 1002.0) in CLOCK_MONOTONIC; epoch 2: [1002.5, 1003.5)
        perf.append(sample(12, 1000.5, 0x5f00, "C2Compiler::compile_method", "/usr/lib/jvm/lib/server/libjvm.so"))
            .append(sample(11, 1001.1, 0x1000, "Interpreter", map))
            .append(sample(11, 1001.2, 0x1000, "Interpreter", map))
            .append(sample(11, 1001.3, 0x1000, "Interpreter", map))
            .append(sample(11, 1001.4, 0x2010, "void dev.sparkmnist.models.TrainingStep.fit(DataSet)", map))
            .append(sample(11, 1001.5, 0x2020, "void dev.sparkmnist.models.TrainingStep.fit(DataSet)", map))
            .append(sample(11, 1001.6, 0x2800, "[unknown]", map)) // in the code cache, gone by the end
            .append(sample(11, 1001.7, 0x9000, "[unknown]", map)) // outside it: oneDNN's generated code
            .append(sample(11, 1001.8, 0x7f00, "sgemm_kernel", "/usr/lib/libnd4jcpu.so"))
            .append(sample(11, 1001.9, 0x7f00, "sgemm_kernel", "/usr/lib/libnd4jcpu.so"))
            .append(sample(12, 1001.5, 0x5f00, "C2Compiler::compile_method", "/usr/lib/jvm/lib/server/libjvm.so"))
            .append(sample(11, 1002.2, 0x1000, "Interpreter", map)) // the evaluation, between the windows
            .append(sample(11, 1002.6, 0x1000, "Interpreter", map))
            .append(sample(11, 1002.7, 0x2010, "void dev.sparkmnist.models.TrainingStep.fit(DataSet)", map))
            .append(sample(11, 1002.8, 0x2010, "void dev.sparkmnist.models.TrainingStep.fit(DataSet)", map))
            .append(sample(11, 1003.0, 0x7f00, "sgemm_kernel", "/usr/lib/libnd4jcpu.so"))
            .append(sample(11, 1003.6, 0x7f00, "sgemm_kernel", "/usr/lib/libnd4jcpu.so")); // after training
        Path script = tmp.resolve("perf.txt");
        Files.writeString(script, perf);
        Path perfMap = tmp.resolve("perf.map");
        Files.writeString(perfMap, "1000 100 Interpreter\n2000 100 void dev.sparkmnist.models.TrainingStep.fit()\n"
            + "2f00 100 StubRoutines (1)\n");
        Path log = tmp.resolve("run.log");
        // epoch 1's line: its fit ends at 1002.0, its evaluation 0.5 s later, 1002.5 = 00:00:01.500 of the next day
        Files.writeString(log, "23:59:59.900 INFO  LocalTrainer: training MLP\n"
            + "00:00:01.500 INFO  Listeners: epoch 1/2  train loss 0.5  fit 1.0s  eval 0.5s\n"
            + "00:00:03.000 INFO  Listeners: epoch 2/2  train loss 0.4  fit 1.0s  eval 0.5s\n");
        Path metrics = tmp.resolve("metrics.json");
        Files.writeString(metrics, "{\"epochs\": [{\"epoch\": 1, \"fitSeconds\": 1.0, \"evalSeconds\": 0.5},"
            + " {\"epoch\": 2, \"fitSeconds\": 1.0, \"evalSeconds\": 0.5}]}");
        ProcessRun tool = ProcessRun.of(new ProcessBuilder("python3",
            REPO.resolve("scripts/lib/epoch_profile.py").toString(), script.toString(), perfMap.toString(),
            log.toString(), metrics.toString(), String.format(Locale.ROOT, "%.3f", UNIX_AT - MONOTONIC_AT)));
        assertEquals(0, tool.exit(), tool.output());
        List<String> lines = tool.output().lines().toList();
        assertEquals("training thread 11; epochs' fit seconds: 1.000 1.000", lines.get(0), tool.output());
        assertEquals(List.of(
            row("samples", "epoch 1", "epoch 2"),
            row("interpreter", 3, 1),
            row("jit:ours", 2, 2),
            row("libnd4jcpu.so", 2, 1),
            row("anon-jit", 1, 0),
            row("jit:gone", 1, 0),
            row("all", 9, 4)), lines.subList(1, 8), tool.output());
        assertTrue(lines.contains(String.format(Locale.ROOT, "%6d %6d  %-14s %s", 3, 1, "interpreter", "Interpreter")),
            tool.output());
    }

    private static String row(String name, Object first, Object second) {
        String cell = first instanceof Integer ? "%9d" : "%9s";
        return String.format(Locale.ROOT, "%-28s" + cell + cell, name, first, second);
    }
}
