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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/spark-mnist}, the app's command line in a local JVM, as a person at a terminal runs it: from a
 * directory of their own, standard output and standard error apart. A bad input is one line on standard error and
 * nothing else, whatever Spark would log as its settings load (on a machine whose name resolves to a loopback
 * address, as this project's do, Spark's two warnings about it came first) and whatever advice the run would give
 * once it trains (the OpenBLAS hint): both belong to runs that train.
 */
@Timeout(300)
class LauncherIT {
    @TempDir
    Path tmp;

    /** Exit code, standard output and standard error of one launcher run. */
    record Result(int exit, String out, String err) {
        /** Asserts exit 2, nothing on standard output and one line on standard error that holds {@code part}. */
        void isOneLine(String part) {
            String all = "stdout:\n" + out + "\nstderr:\n" + err;
            assertEquals(ExitCodes.BAD_INPUT, exit, all);
            assertEquals("", out, all);
            assertTrue(err.startsWith("error: ") && err.contains(part), all);
            assertEquals(1, err.lines().count(), "one line: " + all);
        }
    }

    private Result launch(Path cwd, String... args) throws Exception {
        Path repo = Path.of(System.getProperty("repo.root")).toAbsolutePath();
        List<String> cmd = new ArrayList<>(List.of(repo.resolve("scripts/spark-mnist").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
        pb.environment().remove("SPARK_LOCAL_IP"); // the tests' JVMs have it (pom.xml); a user's terminal does not
        pb.environment().put("SPARK_MNIST_BUILD", "0"); // Maven's package has just built the jar
        pb.environment().put("SPARK_MNIST_CDS", "0"); // ClassDataArchiveIT tests the archive, in a place of its own
        File out = Files.createTempFile(tmp, "out", ".txt").toFile();
        File err = Files.createTempFile(tmp, "err", ".txt").toFile();
        pb.redirectOutput(out).redirectError(err);
        Process p = pb.start();
        if (!p.waitFor(150, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("spark-mnist did not finish: " + Files.readString(err.toPath()));
        }
        return new Result(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
            Files.readString(err.toPath(), StandardCharsets.UTF_8));
    }

    @Test
    void badInputIsOneLineOnStandardErrorAndNothingElse() throws Exception {
        Path cwd = Files.createDirectories(tmp.resolve("user"));
        Result version = launch(cwd, "--version");
        assertEquals(0, version.exit(), version.err());
        assertEquals("spark-mnist 0.1.0\n", version.out());
        assertEquals("", version.err(), "no command line echoed, no incubator-module warning");

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        launch(cwd, "train", "--data-dir", empty.toString(), "--epochs", "1", "--output", "never")
            .isOneLine("neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz exists");
        launch(cwd, "train", "--data-dir", empty.toString(), "--epochs", "1", "--master", "local[2]", "--output",
            "never").isOneLine("neither train-images-idx3-ubyte");
        launch(cwd, "train", "--epochs", "0").isOneLine("--epochs (0) must be > 0");
        launch(cwd, "train", "--batch-size", "64").isOneLine("did you mean --batch-size-per-worker?");
        String missing = tmp.resolve("missing.zip").toString();
        launch(cwd, "evaluate", "--model-path", missing, "--data-dir", TestData.sliceDir())
            .isOneLine("--model-path (" + missing + "): file not found");
        launch(cwd, "predict", "--model-path", missing, "digit.png")
            .isOneLine("--model-path (" + missing + "): file not found");
        launch(cwd, "report", empty.resolve("no-run").toString()).isOneLine("is not a directory");
        // the launcher's class path has no YARN support (spark-submit's Spark home has): said before any work, where
        // Spark's "Could not parse Master URL" came out as "--master (yarn) is not a master URL Spark accepts: ..."
        Result yarn = launch(cwd, "train", "--master", "yarn", "--data-dir", TestData.sliceDir(), "--epochs", "1",
            "--output", "never");
        assertEquals(ExitCodes.BAD_INPUT, yarn.exit(), yarn.err());
        List<String> lines = yarn.err().lines().toList();
        assertTrue(lines.get(lines.size() - 1).startsWith("error: --master (yarn) needs Spark's YARN support"
            + " (spark-yarn_2.12)"), yarn.err());
        assertTrue(lines.subList(0, lines.size() - 1).stream().allMatch(l -> l.contains(" WARN  Utils: ")),
            "before it only Spark's loopback warnings, which a cluster master keeps: " + yarn.err());
        assertFalse(Files.exists(cwd.resolve("never")), "nothing written");
    }

    @Test
    void commandsRunInTheCallersDirectoryOnTheirOwnPaths() throws Exception {
        Path cwd = Files.createDirectories(tmp.resolve("user"));
        Result train = launch(cwd, "train", "--model", "mlp", "--epochs", "1", "--master", "local[2]", "--conf",
            "spark.ui.enabled=false", "--progress", "none", "--data-dir", TestData.sliceDir(), "--output", "run");
        assertEquals(0, train.exit(), train.err());
        assertTrue(train.out().contains("model, metrics and provenance written to") && Files.isRegularFile(
            cwd.resolve("run/model.zip")), "a relative --output is the caller's: " + train.out());
        assertFalse(train.err().contains("loopback address"), "a local run's driver is on 127.0.0.1: " + train.err());

        // a run directory whose provenance no longer parses: its one line, before ND4J starts and logs
        Path broken = Files.createDirectories(tmp.resolve("broken"));
        try (var files = Files.list(cwd.resolve("run"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, broken.resolve(f.getFileName()));
            }
        }
        Files.deleteIfExists(broken.resolve(".provenance.json.crc"));
        Files.writeString(broken.resolve("provenance.json"), "{\"commandLine\": ");
        launch(cwd, "report", broken.toString()).isOneLine("provenance.json is not a JSON object as train writes it");

        Result predict = launch(cwd, "predict", "--model-path", "run/model.zip", "--top", "1",
            TestData.sliceDir() + "/t10k-images-idx3-ubyte.gz");
        assertEquals(0, predict.exit(), predict.err());
        assertEquals(500, predict.out().lines().count(), "one line per digit of the test slice: " + predict.out());
        assertFalse(predict.err().contains("loopback address"), "predict starts no Spark: " + predict.err());
    }

    /**
     * Ctrl-C while a Spark run trains: exit 130 and one line saying the run was stopped, nothing written. Spark's
     * shutdown hook stops the context under the job, which failed with an ERROR line and "error:
     * org.apache.spark.SparkException: Job 0 cancelled because SparkContext was shut down".
     */
    @Test
    void ctrlCWhileTrainingIsOneLineAndWritesNothing() throws Exception {
        Path cwd = Files.createDirectories(tmp.resolve("user"));
        Path repo = Path.of(System.getProperty("repo.root")).toAbsolutePath();
        ProcessBuilder pb = new ProcessBuilder(repo.resolve("scripts/spark-mnist").toString(), "train", "--model",
            "lenet", "--epochs", "100", "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--progress",
            "none", "--data-dir", TestData.sliceDir(), "--output", "stopped").directory(cwd.toFile());
        pb.environment().remove("SPARK_LOCAL_IP");
        pb.environment().put("SPARK_MNIST_BUILD", "0");
        pb.environment().put("SPARK_MNIST_CDS", "0");
        File out = Files.createTempFile(tmp, "out", ".txt").toFile();
        File err = Files.createTempFile(tmp, "err", ".txt").toFile();
        Process p = pb.redirectOutput(out).redirectError(err).start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.readString(err.toPath()).contains("epoch 2/100") && p.isAlive() && System.nanoTime() < until) {
            Thread.sleep(200);
        }
        assertTrue(p.isAlive(), "still training: " + Files.readString(err.toPath()));
        for (ProcessHandle java : p.toHandle().descendants().toList()) { // what a terminal's Ctrl-C reaches
            new ProcessBuilder("kill", "-INT", String.valueOf(java.pid())).start().waitFor();
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stopped in seconds");
        String stderr = Files.readString(err.toPath());
        assertEquals(ExitCodes.STOPPED, p.exitValue(), stderr);
        List<String> lines = stderr.lines().toList();
        assertEquals("error: train was stopped (Ctrl-C or a termination signal) before it ended: its output was not"
            + " written", lines.get(lines.size() - 1), stderr);
        assertFalse(stderr.contains("ERROR") || stderr.contains("SparkException"), stderr);
        try (var left = Files.list(cwd)) {
            assertEquals(List.of(), left.map(f -> f.getFileName().toString()).toList(),
                "no output, no staging directory");
        }
    }
}
