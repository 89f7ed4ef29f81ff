package dev.sparkmnist.app;

import dev.sparkmnist.runs.RunLayout;
import dev.sparkmnist.runs.RunFiles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkmnist.data.testing.TestData;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** --resume after the driver JVM is killed with SIGKILL: the run finishes as if never interrupted. */
@Timeout(600)
class ResumeIT {
    private static final int EPOCHS = 4;
    @TempDir
    Path tmp;

    /** One JVM, one ND4J thread, so that runs are exactly reproducible. */
    private String[] train(Path out, Path checkpoints, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--mode", "local", "--model", "mlp", "--epochs",
            Integer.toString(EPOCHS), "--threads-per-task", "1", "--seed", "5", "--data-dir", TestData.sliceDir(),
            "--output", out.toString()));
        if (checkpoints != null) {
            args.addAll(List.of("--checkpoint-dir", checkpoints.toString()));
        }
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void driverKilledAfterACheckpointIsResumedExactly() throws Exception {
        Path full = tmp.resolve("full");
        // with a random shift that the resumed run does not name: it takes the checkpoint's (the MLP's own is none)
        CliIT.Run uninterrupted = CliIT.run(train(full, null, "--random-shift", "2"));
        assertEquals(0, uninterrupted.exit(), uninterrupted.err());

        Path out = tmp.resolve("out");
        Path ckpt = tmp.resolve("ckpt");
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
            "-Xmx1g", "-cp", System.getProperty("java.class.path"), "dev.sparkmnist.app.Main"));
        cmd.addAll(List.of(train(out, ckpt, "--random-shift", "2")));
        File log = tmp.resolve("killed.log").toFile();
        Process driver = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        // a checkpoint is complete once its marker is written, after the file is renamed into place: killed between
        // the two, the run has no complete checkpoint to resume from (Checkpoints.newestFirst skips the file)
        while (!Files.exists(ckpt.resolve("_epoch-001.zip.SUCCESS")) && driver.isAlive()
            && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(driver.isAlive(), "the driver ran until a checkpoint: " + Files.readString(log.toPath()));
        driver.destroyForcibly(); // SIGKILL: no shutdown hook, no finally
        assertEquals(137, driver.waitFor(), "killed by SIGKILL");
        assertFalse(Files.exists(out), "nothing committed");
        Path staging;
        try (Stream<Path> s = Files.list(tmp)) {
            staging = s.filter(p -> p.getFileName().toString().startsWith(".out.staging-")).findFirst().orElseThrow();
        }
        int done = RunLayout.JSON.readTree(staging.resolve("metrics.json").toFile()).get("epochs").size();
        assertTrue(done >= 1 && done < EPOCHS, done + " epochs kept in the killed run's staging directory");

        CliIT.Run resumed = CliIT.run(train(out, ckpt, "--resume"));
        assertEquals(0, resumed.exit(), resumed.err());
        assertFalse(Files.exists(staging), "the killed run's staging directory is removed");
        JsonNode fullEpochs = RunLayout.JSON.readTree(full.resolve("metrics.json").toFile()).get("epochs");
        JsonNode epochs = RunLayout.JSON.readTree(out.resolve("metrics.json").toFile()).get("epochs");
        assertEquals(EPOCHS, epochs.size(), "the killed run's epochs and the resumed run's");
        for (int i = 0; i < EPOCHS; i++) {
            assertEquals(i + 1, epochs.get(i).get("epoch").asInt());
            assertEquals(fullEpochs.get(i).get("trainLoss").asDouble(), epochs.get(i).get("trainLoss").asDouble(),
                1e-9, "epoch " + (i + 1));
            assertEquals(fullEpochs.get(i).get("testLoss").asDouble(), epochs.get(i).get("testLoss").asDouble(),
                1e-9, "epoch " + (i + 1));
        }
        assertEquals(EPOCHS + 1, Files.readAllLines(out.resolve("metrics.csv")).size());
        JsonNode prov = RunLayout.JSON.readTree(out.resolve("provenance.json").toFile());
        int from = prov.get("resumedFrom").get("epochs").asInt();
        assertTrue(prov.get("resumedFrom").get("path").asText().endsWith(String.format("epoch-%03d.zip", from)));
        assertTrue(from >= 1 && from < EPOCHS);
        assertEquals(EPOCHS, Files.readString(out.resolve("report.html")).split("<tr><td>").length - 1 - 10,
            "the report's epoch table holds every epoch (beside the 10 class rows)");
        try (Stream<Path> s = Files.list(ckpt)) {
            List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted()
                .toList();
            assertEquals(List.of("_epoch-001.zip.SUCCESS", "_epoch-002.zip.SUCCESS", "_epoch-003.zip.SUCCESS",
                "_epoch-004.zip.SUCCESS", "epoch-001.zip", "epoch-002.zip", "epoch-003.zip", "epoch-004.zip",
                "metrics.csv", "metrics.json"), names,
                "checkpoints (each with its marker) continue in the same directory, no temporary file left");
        }
    }

    @Test
    void resumeWithoutACheckpointStartsFresh() throws Exception {
        Path out = tmp.resolve("fresh");
        Path ckpt = tmp.resolve("empty-ckpt");
        CliIT.Run run = CliIT.run(train(out, ckpt, "--resume", "--epochs", "1"));
        assertEquals(0, run.exit(), run.err());
        assertEquals(1, RunLayout.JSON.readTree(out.resolve("metrics.json").toFile()).get("epochs").size());
        assertFalse(RunLayout.JSON.readTree(out.resolve("provenance.json").toFile()).has("resumedFrom"));
    }

    @Test
    void resumeNeedsTheCheckpointDirectoryAndMatchingModelOptions() throws Exception {
        CliIT.Run noDir = CliIT.run(train(tmp.resolve("x"), null, "--resume"));
        assertEquals(ExitCodes.BAD_INPUT, noDir.exit());
        assertEquals("error: --resume needs --checkpoint-dir (the directory of the run to continue)",
            noDir.err().strip());

        Path ckpt = tmp.resolve("ckpt2");
        assertEquals(0, CliIT.run(train(tmp.resolve("first"), ckpt, "--epochs", "1")).exit());
        CliIT.Run other = CliIT.run(train(tmp.resolve("second"), ckpt, "--resume", "--learning-rate", "0.5"));
        assertEquals(ExitCodes.BAD_INPUT, other.exit());
        assertTrue(other.err().startsWith("error: the model options given (ModelOptions[architecture=MLP"),
            other.err());
        assertTrue(other.err().contains("learningRate=0.5"), other.err());
    }
}
