package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.testing.TestData;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scripts' class-data archive (run_app in scripts/lib/common.sh): the first successful Spark train run writes it,
 * the runs after it load their classes from it, a failed run or an archive made for other jars leaves nothing
 * behind and nothing on the terminal. The archive goes to a temporary path (SPARK_MNIST_CDS_ARCHIVE), not the
 * build's.
 */
@Timeout(300)
class ClassDataArchiveIT {
    @TempDir
    Path tmp;

    /** Exit code and combined output of one {@code run_app} through the scripts' library. */
    record Result(int exit, String output) {
    }

    private Result runApp(Path archive, Map<String, String> env, String... args) throws Exception {
        Path repo = Path.of(System.getProperty("repo.root")).toAbsolutePath();
        List<String> cmd = new ArrayList<>(List.of("bash", "-c",
            "source scripts/lib/common.sh && run_app \"$@\"", "run_app"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
        pb.environment().put("SPARK_MNIST_CDS_ARCHIVE", archive.toString());
        pb.environment().putAll(env);
        File log = Files.createTempFile(tmp, "run", ".log").toFile();
        pb.redirectOutput(log);
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("run_app did not finish:\n" + Files.readString(log.toPath()));
        }
        return new Result(p.exitValue(), Files.readString(log.toPath(), StandardCharsets.UTF_8));
    }

    private String[] train(String output, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--model", "mlp", "--epochs", "1", "--master",
            "local[2]", "--conf", "spark.ui.enabled=false", "--progress", "none", "--data-dir", TestData.sliceDir(),
            "--output", tmp.resolve(output).toString()));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static long sharedClasses(Path classLog) throws Exception {
        try (var lines = Files.lines(classLog)) {
            return lines.filter(l -> l.contains("source: shared objects file (top)")).count();
        }
    }

    @Test
    void theFirstSparkTrainRunWritesTheArchiveAndLaterRunsLoadTheirClassesFromIt() throws Exception {
        Path archive = tmp.resolve("app.jsa");
        Path key = tmp.resolve("app.jsa.key");

        Result refused = runApp(archive, Map.of(), train("bad", "--epochs", "0"));
        assertEquals(2, refused.exit(), refused.output());
        Result local = runApp(archive, Map.of(), train("local", "--mode", "local"));
        assertEquals(0, local.exit(), local.output());
        try (var files = Files.list(tmp)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("app.jsa")),
                "a failed run and a single-JVM run write no archive, and leave no temporary one");
        }

        Result first = runApp(archive, Map.of(), train("first"));
        assertEquals(0, first.exit(), first.output());
        assertTrue(first.output().contains("-XX:ArchiveClassesAtExit="), first.output());
        assertTrue(Files.size(archive) > 10_000_000, "an archive of the run's classes: " + Files.size(archive));
        assertTrue(Files.exists(key));

        Path classLog = tmp.resolve("classes.txt");
        Result second = runApp(archive, Map.of("SPARK_MNIST_JAVA_OPTS", "-Xmx2g -Xlog:class+load=info:file="
            + classLog), train("second"));
        assertEquals(0, second.exit(), second.output());
        assertTrue(second.output().contains("-XX:SharedArchiveFile=" + archive), second.output());
        assertTrue(sharedClasses(classLog) > 3000, "classes from the archive: " + sharedClasses(classLog));

        // a flight recorder (or an agent) hooks class loading, and JDK 17 crashes when such a hook meets classes from
        // a dynamic archive: a run that starts one, through SPARK_MNIST_JAVA_OPTS or the JVM's own JAVA_TOOL_OPTIONS,
        // goes without the archive, says so in one line, and records
        String[] evaluate = {"evaluate", "--model-path", tmp.resolve("second/model.zip").toString(), "--data-dir",
            TestData.sliceDir(), "--master", "local[2]", "--conf", "spark.ui.enabled=false"};
        Path recording = tmp.resolve("train.jfr");
        Result recorded = runApp(archive, Map.of("SPARK_MNIST_JAVA_OPTS", "-Xmx2g -XX:StartFlightRecording=filename="
            + recording), train("recorded"));
        Path toolRecording = tmp.resolve("evaluate.jfr");
        Result tool = runApp(archive, Map.of("JAVA_TOOL_OPTIONS", "-XX:StartFlightRecording=filename=" + toolRecording),
            evaluate);
        for (Result r : List.of(recorded, tool)) {
            assertEquals(0, r.exit(), r.output());
            assertFalse(r.output().contains("SharedArchiveFile") || r.output().contains("ArchiveClasses"), r.output());
            assertTrue(r.output().contains("no class-data archive for this run: its Java options start a flight"
                + " recorder or an agent"), r.output());
        }
        assertTrue(Files.size(recording) > 0 && Files.size(toolRecording) > 0, "both runs wrote their recordings");

        // an archive this JVM cannot map (damaged; the key still matches) is passed and quietly not used
        Files.write(archive, new byte[4096]);
        Result damaged = runApp(archive, Map.of(), evaluate);
        assertEquals(0, damaged.exit(), damaged.output());
        assertTrue(damaged.output().contains("-XX:SharedArchiveFile="), damaged.output());
        assertFalse(damaged.output().contains("[warning]") || damaged.output().contains("shared archive"),
            damaged.output());

        // an archive for other jars (here: its key no longer matches) is neither used nor rewritten by evaluate
        Files.writeString(key, "other jars\n");
        long before = Files.getLastModifiedTime(archive).toMillis();
        Result other = runApp(archive, Map.of(), evaluate);
        assertEquals(0, other.exit(), other.output());
        assertFalse(other.output().contains("SharedArchiveFile") || other.output().contains("ArchiveClasses"),
            other.output());
        assertEquals(before, Files.getLastModifiedTime(archive).toMillis());
    }
}
