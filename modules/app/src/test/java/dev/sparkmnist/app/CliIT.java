package dev.sparkmnist.app;

import dev.sparkmnist.runs.RunLayout;
import dev.sparkmnist.runs.RunFiles;
import dev.sparkmnist.runs.Stores;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkmnist.data.testing.TestData;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line end to end on Spark local[2] and the real MNIST slice. */
@Timeout(600)
class CliIT {
    @TempDir
    Path tmp;

    /** Exit code and standard error of one command line. */
    record Run(int exit, String err) {
    }

    static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        Main.installSecrets(args);
        int code = cl.execute(args);
        return new Run(code, err.toString());
    }

    private static final String[] SPARK = {"--master", "local[2]", "--conf", "spark.ui.enabled=false"};

    /** A command line with the test's Spark options appended (options follow the subcommand). */
    private static String[] withSpark(String... args) {
        return Stream.concat(Stream.of(args), Stream.of(SPARK)).toArray(String[]::new);
    }

    @Test
    void trainWritesEveryOutputAndEvaluateReproducesTheAccuracy() throws Exception {
        Path out = tmp.resolve("run");
        Path checkpoints = tmp.resolve("checkpoints");
        Run train = run(withSpark("train", "--model", "mlp", "--data-dir", TestData.sliceDir(), "--epochs", "2",
            "--output", out.toString(), "--checkpoint-dir", checkpoints.toString()));
        assertEquals(0, train.exit(), train.err());
        for (String f : List.of("model.zip", "metrics.json", "metrics.csv", "evaluation.txt", "provenance.json")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        assertTrue(Files.exists(out.resolve("_SUCCESS")), "the completion marker");
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertEquals(RunFiles.CSV_HEADER, csv.get(0));
        assertEquals(3, csv.size(), "header + one row per epoch");
        assertTrue(csv.get(2).startsWith("2,"), csv.get(2));
        JsonNode metrics = RunLayout.JSON.readTree(out.resolve("metrics.json").toFile());
        double accuracy = metrics.get("test").get("accuracy").asDouble();
        assertEquals(accuracy, metrics.get("epochs").get(1).get("testAccuracy").asDouble(), 0);
        assertEquals(500, metrics.get("test").get("examples").asInt());
        assertEquals(10, metrics.get("test").get("confusion").size());

        JsonNode prov = RunLayout.JSON.readTree(out.resolve("provenance.json").toFile());
        assertEquals(42, prov.get("seed").asInt());
        assertEquals("MLP", prov.get("model").get("architecture").asText());
        assertEquals(235_146, prov.get("parameters").asInt());
        assertEquals("local[2]", prov.get("master").asText());
        assertEquals(4, prov.get("data").size());
        prov.get("data").forEach(f -> assertTrue(f.get("sha256").asText().matches("[0-9a-f]{64}")));
        assertEquals("1.0.0-M2", prov.get("versions").get("dl4j.version").asText());
        assertEquals(checkpoints.toString(), prov.get("checkpoints").get("dir").asText());
        assertEquals(1, prov.get("checkpoints").get("every").asInt());
        assertFalse(Files.list(tmp).anyMatch(p -> p.getFileName().toString().contains("staging")),
            "no staging directory left");
        assertTrue(prov.get("commandLine").asText().startsWith("spark-mnist train --model mlp --data-dir "),
            prov.get("commandLine").asText());

        // the report: the page and its charts; `report RUN_DIR` rebuilds the same page from the run's files
        String page = Files.readString(out.resolve("report.html"));
        assertTrue(page.contains("<table id=\"epochs\">"), "per-epoch table");
        for (String chart : List.of("loss", "accuracy", "learning-rate", "throughput", "confusion", "per-class",
            "weights-layer-0", "mistakes")) {
            assertTrue(Files.size(out.resolve("charts").resolve(chart + ".png")) > 1000, chart);
        }
        Files.delete(out.resolve("charts").resolve("loss.png"));
        Run report = run("report", out.toString());
        assertEquals(0, report.exit(), report.err());
        assertEquals(page, Files.readString(out.resolve("report.html")), "rebuilt from the files, identical");
        assertTrue(Files.size(out.resolve("charts").resolve("loss.png")) > 1000);
        try (Stream<Path> left = Files.list(out)) {
            assertEquals(List.of(), left.map(p -> p.getFileName().toString())
                .filter(n -> n.startsWith(".report-staging") || n.contains(".replaced-")).toList(), "no staging left");
        }
        // a run without its completion marker (a copy to an object store that did not finish) is refused
        Files.move(out.resolve("_SUCCESS"), tmp.resolve("_SUCCESS.aside"));
        Run unfinished = run(withSpark("evaluate", "--model-path", out.resolve("model.zip").toString(),
            "--data-dir", TestData.sliceDir()));
        assertEquals(ExitCodes.BAD_INPUT, unfinished.exit());
        assertTrue(unfinished.err().startsWith("error: --model-path (" + out.resolve("model.zip") + "): "
            + out.toUri().toString().replaceAll("/$", "").replace("file:///", "file:/") + " has no _SUCCESS marker"),
            unfinished.err());
        assertEquals(ExitCodes.BAD_INPUT, run("report", out.toString()).exit());
        Files.move(tmp.resolve("_SUCCESS.aside"), out.resolve("_SUCCESS"));
        Run notARun = run("report", tmp.toString());
        assertEquals(ExitCodes.BAD_INPUT, notARun.exit());
        assertEquals("error: RUN_DIR (" + tmp + ") has no metrics.json: not the output of a complete train run",
            notARun.err().strip());

        Path evalOut = tmp.resolve("eval");
        Run eval = run(withSpark("evaluate", "--model-path", out.resolve("model.zip").toString(),
            "--data-dir", TestData.sliceDir(), "--num-partitions", "3", "--output", evalOut.toString()));
        assertEquals(0, eval.exit(), eval.err());
        JsonNode e = RunLayout.JSON.readTree(evalOut.resolve("evaluation.json").toFile());
        assertEquals(accuracy, e.get("report").get("accuracy").asDouble(), 0, "the saved model scores the same");
        assertEquals("STANDARDIZE", e.get("normalization").asText(), "normalization read from the model zip");

        // One checkpoint per epoch and the metrics so far, no temporary file left (Hadoop's local .crc files
        // aside); the epoch-1 checkpoint is the epoch-1 network.
        try (Stream<Path> files = Files.list(checkpoints)) {
            assertEquals(List.of("_epoch-001.zip.SUCCESS", "_epoch-002.zip.SUCCESS", "epoch-001.zip",
                    "epoch-002.zip", "metrics.csv", "metrics.json"),
                files.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted().toList());
        }
        Path ckptEval = tmp.resolve("eval-epoch-1");
        Run first = run(withSpark("evaluate", "--model-path", checkpoints.resolve("epoch-001.zip").toString(),
            "--data-dir", TestData.sliceDir(), "--output", ckptEval.toString()));
        assertEquals(0, first.exit(), first.err());
        assertEquals(metrics.get("epochs").get(0).get("testAccuracy").asDouble(),
            RunLayout.JSON.readTree(ckptEval.resolve("evaluation.json").toFile()).get("report").get("accuracy")
                .asDouble(), 0);
        corruptFilesAreOneLineEverywhereTheyAreRead(out, checkpoints);
    }

    /**
     * A run's files damaged after they were written (a disk fault, a copy by hand), with their completion markers in
     * place: every command that reads them ends with one line naming the file, exit 2, no stack trace.
     */
    private void corruptFilesAreOneLineEverywhereTheyAreRead(Path out, Path checkpoints) throws Exception {
        Path broken = copyTree(out, tmp.resolve("broken"));
        byte[] zip = Files.readAllBytes(broken.resolve("model.zip"));
        for (int i = zip.length / 3; i < zip.length - 100; i += 101) {
            zip[i] ^= (byte) 0x5A;
        }
        Files.write(broken.resolve("model.zip"), zip); // Hadoop's .model.zip.crc still holds the written bytes' sums
        String model = broken.resolve("model.zip").toString();
        String images = TestData.sliceDir() + "/t10k-images-idx3-ubyte.gz";
        for (Run r : List.of(run("report", broken.toString()), run(withSpark("evaluate", "--model-path", model,
            "--data-dir", TestData.sliceDir())), run("predict", "--model-path", model, images))) {
            assertOneLine(r, "is corrupt: Checksum error");
        }
        Files.delete(broken.resolve(".model.zip.crc")); // as on an object store: no checksum file, the zip reader
        assertOneLine(run("predict", "--model-path", model, images), "(" + model + ") is not a DL4J"
            + " MultiLayerNetwork zip");
        Path ckpt = copyTree(checkpoints, tmp.resolve("broken-checkpoints"));
        Path last = ckpt.resolve("epoch-002.zip");
        Files.write(last, java.util.Arrays.copyOf(Files.readAllBytes(last), 2000)); // truncated, marker kept
        Files.delete(ckpt.resolve(".epoch-002.zip.crc"));
        assertOneLine(run(withSpark("train", "--resume-from", last.toString(), "--epochs", "3", "--data-dir",
            TestData.sliceDir(), "--output", tmp.resolve("r1").toString())), "--resume-from (" + last + ") is not a"
            + " DL4J MultiLayerNetwork zip");
        assertOneLine(run(withSpark("train", "--model", "mlp", "--checkpoint-dir", ckpt.toString(), "--resume",
            "--epochs", "3", "--data-dir", TestData.sliceDir(), "--output", tmp.resolve("r2").toString())),
            "epoch-002.zip) is not a DL4J MultiLayerNetwork zip");
        Files.delete(broken.resolve(".provenance.json.crc"));
        Files.writeString(broken.resolve("provenance.json"), "{\"commandLine\": ");
        Files.copy(out.resolve("model.zip"), broken.resolve("model.zip"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertOneLine(run("report", broken.toString()), "provenance.json is not a JSON object as train writes it");
        assertFalse(Files.exists(tmp.resolve("r1")) || Files.exists(tmp.resolve("r2")), "nothing written");
    }

    /** Two model zips hold the same parameters, updater state and iteration count (to {@code tolerance}). */
    private static void assertSameState(Path a, Path b, double tolerance) throws Exception {
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork x =
            org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(a.toFile(), true);
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork y =
            org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(b.toFile(), true);
        assertEquals(x.getIterationCount(), y.getIterationCount(), "iterations (Adam's bias correction step)");
        float[][] pairs = {x.params().toFloatVector(), y.params().toFloatVector(),
            x.getUpdater().getStateViewArray().toFloatVector(), y.getUpdater().getStateViewArray().toFloatVector()};
        for (int k = 0; k < pairs.length; k += 2) {
            assertEquals(pairs[k].length, pairs[k + 1].length);
            double max = 0;
            for (int i = 0; i < pairs[k].length; i++) {
                max = Math.max(max, Math.abs(pairs[k][i] - pairs[k + 1][i]));
            }
            assertTrue(max <= tolerance, (k == 0 ? "parameters" : "updater state") + " differ by " + max + ": " + a
                + " vs " + b);
        }
    }

    private static void assertOneLine(Run r, String part) {
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.err().startsWith("error: ") && r.err().contains(part), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    private static Path copyTree(Path from, Path to) throws java.io.IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(from.relativize(f).toString()));
            }
        }
        return to;
    }

    /** Single JVM, one ND4J thread: a resumed run must continue exactly where the interrupted one was. */
    @Test
    void resumingACheckpointContinuesTheRunExactly() throws Exception {
        Path full = tmp.resolve("full");
        Path ckpt = tmp.resolve("ckpt");
        // a non-default learning rate and seed: the resumed run must take both from the checkpoint
        Run a = run("train", "--mode", "local", "--model", "mlp", "--learning-rate", "0.002", "--seed", "7",
            "--data-dir", TestData.sliceDir(), "--epochs", "3", "--threads-per-task", "1", "--output", full.toString(),
            "--checkpoint-dir", ckpt.toString());
        assertEquals(0, a.exit(), a.err());
        Path resumed = tmp.resolve("resumed");
        Run b = run("train", "--mode", "local", "--resume-from", ckpt.resolve("epoch-001.zip").toString(),
            "--data-dir", TestData.sliceDir(), "--epochs", "3", "--threads-per-task", "1", "--output",
            resumed.toString());
        assertEquals(0, b.exit(), b.err());
        JsonNode fullEpochs = RunLayout.JSON.readTree(full.resolve("metrics.json").toFile()).get("epochs");
        JsonNode resumedEpochs = RunLayout.JSON.readTree(resumed.resolve("metrics.json").toFile()).get("epochs");
        assertEquals(2, resumedEpochs.size(), "epochs 2 and 3 only");
        for (int i = 0; i < 2; i++) {
            JsonNode f = fullEpochs.get(i + 1);
            JsonNode r = resumedEpochs.get(i);
            assertEquals(f.get("epoch").asInt(), r.get("epoch").asInt());
            assertEquals(f.get("trainLoss").asDouble(), r.get("trainLoss").asDouble(), 1e-9);
            assertEquals(f.get("testLoss").asDouble(), r.get("testLoss").asDouble(), 1e-9);
            assertEquals(f.get("testAccuracy").asDouble(), r.get("testAccuracy").asDouble(), 0);
        }
        // the whole state, not only the losses: parameters and Adam's moments and step count equal the full run's
        assertSameState(full.resolve("model.zip"), resumed.resolve("model.zip"), 0);
        JsonNode prov = RunLayout.JSON.readTree(resumed.resolve("provenance.json").toFile());
        assertEquals(0.002, prov.get("model").get("learningRate").asDouble(), 0);
        assertEquals(7, prov.get("seed").asInt());
        assertEquals(1, prov.get("resumedFrom").get("epochs").asInt());

        // The same checkpoint continued on Spark, one resident worker (the same minibatches in the same order as
        // one JVM): it must end where one JVM's continuation ends, which it cannot if the updater state (Adam's
        // moments and step) did not go through the broadcast to the worker and back.
        Path spark = tmp.resolve("spark");
        Run c = run(withSpark("train", "--model", "mlp", "--resume-from", full.resolve("model.zip").toString(),
            "--data-dir", TestData.sliceDir(), "--epochs", "4", "--num-partitions", "1", "--threads-per-task", "1",
            "--output", spark.toString()));
        assertEquals(0, c.exit(), c.err());
        JsonNode sparkMetrics = RunLayout.JSON.readTree(spark.resolve("metrics.json").toFile());
        assertEquals(4, sparkMetrics.get("epochs").get(0).get("epoch").asInt());
        Path oneJvm = tmp.resolve("one-jvm-4");
        Run d = run("train", "--mode", "local", "--resume-from", full.resolve("model.zip").toString(),
            "--data-dir", TestData.sliceDir(), "--epochs", "4", "--threads-per-task", "1", "--output",
            oneJvm.toString());
        assertEquals(0, d.exit(), d.err());
        assertSameState(oneJvm.resolve("model.zip"), spark.resolve("model.zip"), 1e-5);

        String epoch2 = ckpt.resolve("epoch-002.zip").toString();
        Run done = run("train", "--resume-from", epoch2, "--epochs", "2", "--data-dir", TestData.sliceDir());
        assertEquals(2, done.exit());
        assertEquals("error: --epochs (2) must be greater than the 2 epochs --resume-from (" + epoch2 + ") holds",
            done.err().trim());
        Run lr = run("train", "--resume-from", epoch2, "--learning-rate", "0.1", "--epochs", "4");
        assertEquals(2, lr.exit());
        assertEquals("error: --learning-rate cannot be combined with --resume-from: the checkpoint's model options"
            + " are used", lr.err().trim());
        Run arch = run("train", "--resume-from", epoch2, "--model", "lenet", "--epochs", "4");
        assertEquals(2, arch.exit());
        assertEquals("error: --model (lenet) differs from the mlp that --resume-from (" + epoch2 + ") holds",
            arch.err().trim());
        Run norm = run("train", "--resume-from", epoch2, "--normalization", "scale", "--epochs", "4");
        assertEquals(2, norm.exit());
        assertEquals("error: --normalization (scale) differs from the standardize that --resume-from (" + epoch2
            + ") was trained with", norm.err().trim());
        Run missing = run("train", "--resume-from", tmp.resolve("none.zip").toString());
        assertEquals(2, missing.exit());
        assertEquals("error: --resume-from (" + tmp.resolve("none.zip") + "): file not found", missing.err().trim());
    }

    @Test
    void checkpointOptionsAreCheckedAndEarlierCheckpointsNeverOverwritten() throws Exception {
        Path dir = tmp.resolve("ckpt");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("epoch-001.zip"), "precious");
        Run refused = run(withSpark("train", "--model", "mlp", "--data-dir", TestData.sliceDir(), "--epochs", "1",
            "--output", tmp.resolve("o").toString(), "--checkpoint-dir", dir.toString()));
        assertEquals(2, refused.exit());
        assertEquals("error: --checkpoint-dir (" + dir + ") holds checkpoints that a stopped run did not finish"
            + " writing (epoch-001.zip: no completion marker, _epoch-001.zip.SUCCESS) and none complete to resume:"
            + " delete them to start again from epoch 1, or choose another directory; checkpoints are never"
            + " overwritten", refused.err().trim());
        assertEquals("precious", Files.readString(dir.resolve("epoch-001.zip")));
        assertFalse(Files.exists(tmp.resolve("o")), "no output for a refused run");
        Run resumed = run(withSpark("train", "--model", "mlp", "--data-dir", TestData.sliceDir(), "--epochs", "1",
            "--output", tmp.resolve("o").toString(), "--checkpoint-dir", dir.toString(), "--resume"));
        assertEquals(2, resumed.exit());
        assertEquals(refused.err().trim(), resumed.err().trim(), "--resume has no complete checkpoint to continue");
        Files.writeString(dir.resolve("epoch-002.zip"), "precious too");
        Files.createFile(dir.resolve("_epoch-002.zip.SUCCESS"));
        Run complete = run(withSpark("train", "--model", "mlp", "--data-dir", TestData.sliceDir(), "--epochs", "1",
            "--output", tmp.resolve("o").toString(), "--checkpoint-dir", dir.toString()));
        assertEquals(2, complete.exit());
        assertEquals("error: --checkpoint-dir (" + dir + ") already holds checkpoints (epoch-002.zip; not finished:"
            + " epoch-001.zip): add --resume to continue the newest, or choose another directory; checkpoints are"
            + " never overwritten", complete.err().trim());
        assertEquals("precious", Files.readString(dir.resolve("epoch-001.zip")));
        assertEquals("precious too", Files.readString(dir.resolve("epoch-002.zip")));
        assertFalse(Files.exists(tmp.resolve("o")), "no output for a refused run");

        Run zero = run("train", "--checkpoint-every", "0", "--checkpoint-dir", tmp.resolve("c").toString());
        assertEquals(2, zero.exit());
        assertEquals("error: --checkpoint-every (0) must be > 0", zero.err().trim());
        Run noDir = run("train", "--checkpoint-every", "2");
        assertEquals(2, noDir.exit());
        assertEquals("error: --checkpoint-every (2) needs --checkpoint-dir", noDir.err().trim());
        assertFalse(Files.exists(tmp.resolve("c")));
    }

    @Test
    void localModeIsTheSingleJvmBaseline() throws Exception {
        Path out = tmp.resolve("local");
        Run r = run("train", "--mode", "local", "--model", "mlp", "--data-dir", TestData.sliceDir(), "--epochs", "1",
            "--output", out.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode prov = RunLayout.JSON.readTree(out.resolve("provenance.json").toFile());
        assertEquals("local", prov.get("mode").asText());
        assertTrue(prov.get("master").isNull());
        JsonNode test = RunLayout.JSON.readTree(out.resolve("metrics.json").toFile()).get("test");
        // the command's defaults reach the single-JVM trainer unchanged: the same network as LocalTrainer's own
        // defaults give (deterministic: same seed, same order)
        org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
        var reference = dev.sparkmnist.training.baseline.LocalTrainer.train(
            dev.sparkmnist.data.MnistSet.trainFrom(TestData.sliceDir(), conf),
            dev.sparkmnist.data.MnistSet.testFrom(TestData.sliceDir(), conf), dev.sparkmnist.models.ModelOptions.mlp(),
            dev.sparkmnist.training.TrainingOptions.defaults().withEpochs(1), conf, List.of()).last().test();
        assertEquals(reference.loss(), test.get("loss").asDouble(), 1e-6, test.toString());
        assertEquals(reference.accuracy(), test.get("accuracy").asDouble(), 1e-9, test.toString());
    }

    @Test
    void badOptionsExitTwoWithTheRule() {
        Run batch = run("train", "--batch-size-per-worker", "0", "--data-dir", TestData.sliceDir(),
            "--output", tmp.resolve("x").toString());
        assertEquals(2, batch.exit());
        assertEquals("error: --batch-size-per-worker (0) must be > 0", batch.err().trim());

        Run lr = run("train", "--learning-rate", "-1", "--output", tmp.resolve("x").toString());
        assertEquals(2, lr.exit());
        assertEquals("error: --learning-rate (-1.0) must be > 0", lr.err().trim());

        Run updater = run("train", "--updater", "rmsprop");
        assertEquals(2, updater.exit());
        assertTrue(updater.err().contains("--updater (rmsprop) must be one of sgd, momentum (classical), nesterov, adam"),
            updater.err());

        Run model = run("train", "--model", "resnet");
        assertEquals(2, model.exit());
        assertTrue(model.err().contains("Invalid value for option '--model': expected one of [MLP, LENET]"
            + " (case-insensitive) but was 'resnet'"), model.err());

        for (String bad : new String[] {"often", "0", "-2"}) {
            Run frequency = run("train", "--averaging-frequency", bad);
            assertEquals(2, frequency.exit());
            assertTrue(frequency.err().contains("--averaging-frequency (" + bad + ") must be auto or a whole number"
                + " > 0"), frequency.err());
        }
        Run timeout = run("train", "--exchange-timeout", "0", "--data-dir", TestData.sliceDir(),
            "--output", tmp.resolve("x").toString());
        assertEquals(2, timeout.exit());
        assertEquals("error: --exchange-timeout (0) must be > 0 seconds", timeout.err().trim());

        Run unknownSwitch = run("train", "--conf", "spark.sparkmnist.shapInfoCache=false", "--output",
            tmp.resolve("x").toString());
        assertEquals(2, unknownSwitch.exit());
        assertEquals("error: --conf spark.sparkmnist.shapInfoCache: no such switch; the switches are"
            + " spark.sparkmnist.epochSpans, spark.sparkmnist.flushToZero, spark.sparkmnist.hostBlas,"
            + " spark.sparkmnist.hostSoftmax, spark.sparkmnist.idxCache,"
            + " spark.sparkmnist.localHandover, spark.sparkmnist.mallocPad, spark.sparkmnist.openblasAvx512,"
            + " spark.sparkmnist.probeInSpan, spark.sparkmnist.readyInSpan, spark.sparkmnist.residentNets,"
            + " spark.sparkmnist.shapeInfoCache,"
            + " spark.sparkmnist.simdAdam, spark.sparkmnist.simdMomentum, spark.sparkmnist.stageEvaluation,"
            + " spark.sparkmnist.traces, spark.sparkmnist.trainingStep, spark.sparkmnist.vectorBlend", unknownSwitch.err().trim());
        Run badSwitch = run("train", "--mode", "local", "--conf", "spark.sparkmnist.flushToZero=off", "--output",
            tmp.resolve("x").toString());
        assertEquals(2, badSwitch.exit());
        assertEquals("error: --conf spark.sparkmnist.flushToZero (off) must be true or false", badSwitch.err().trim());

        Run none = run();
        assertEquals(2, none.exit());
        assertFalse(Files.exists(tmp.resolve("x")), "nothing written for bad options");
    }

    @Test
    void badDataExitsTwoAndNamesTheFile() throws Exception {
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        TestData.writeTinySet(data, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 3);
        Files.write(data.resolve("t10k-images-idx3-ubyte"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
            14, 15, 16});
        TestData.writeLabels(data.resolve("t10k-labels-idx1-ubyte"), 1, new byte[] {1});
        Run r = run(withSpark("train", "--data-dir", data.toString(), "--output", tmp.resolve("o").toString()));
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("error: "), r.err());
        assertTrue(r.err().contains("t10k-images-idx3-ubyte: wrong magic number 0x01020304, expected 0x00000803"),
            r.err());
        assertFalse(Files.exists(tmp.resolve("o")));
        assertFalse(Files.list(tmp).anyMatch(p -> p.getFileName().toString().contains("staging")));
    }

    /**
     * Stores that refuse or never answer fail the command in bounded time with one line naming the option, the path
     * and the store: an HDFS name node and an S3A endpoint on a closed port (refused at once), and an S3A endpoint
     * that accepts connections but never answers (the deadline, which the message says how to raise).
     */
    @Test
    void unreachableStoresFailFastWithOneLine() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        Run hdfs = run(withSpark("train", "--data-dir", "hdfs://127.0.0.1:" + closed + "/mnist", "--output",
            tmp.resolve("h").toString()));
        assertEquals(1, hdfs.exit(), hdfs.err());
        assertTrue(hdfs.err().startsWith("error: --data-dir (hdfs://127.0.0.1:" + closed + "/mnist): the hdfs store at"
            + " 127.0.0.1:" + closed + " cannot be reached: "), hdfs.err());
        assertTrue(hdfs.err().contains("Connection refused"), hdfs.err());
        String[] s3a = {"--conf", "spark.hadoop.fs.s3a.access.key=someone", "--conf",
            "spark.hadoop.fs.s3a.secret.key=no-such-secret", "--conf", "spark.hadoop.fs.s3a.path.style.access=true"};
        Run refused = run(withSpark(concat(new String[] {"evaluate", "--model-path", "s3a://b/model.zip", "--conf",
            "spark.hadoop.fs.s3a.endpoint=http://127.0.0.1:" + closed}, s3a)));
        assertEquals(1, refused.exit(), refused.err());
        assertTrue(refused.err().startsWith("error: --model-path (s3a://b/model.zip): the S3A bucket b at"
            + " http://127.0.0.1:" + closed + " cannot be reached: "), refused.err());
        assertTrue((System.nanoTime() - t0) / 1e9 < 40, "refusals are reported at once, not after retries");
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50,
            java.net.InetAddress.getLoopbackAddress())) { // accepts (the kernel does) but never answers
            long t1 = System.nanoTime();
            Run hung = run(withSpark(concat(new String[] {"train", "--data-dir", "s3a://b/mnist", "--output",
                tmp.resolve("s").toString(), "--store-timeout", "3", "--conf", "spark.hadoop.fs.s3a.endpoint=http://"
                + "127.0.0.1:" + silent.getLocalPort()}, s3a)));
            double seconds = (System.nanoTime() - t1) / 1e9;
            assertEquals(1, hung.exit(), hung.err());
            assertEquals("error: --data-dir (s3a://b/mnist): the S3A bucket b at http://127.0.0.1:"
                + silent.getLocalPort() + " did not answer within 3 s (raise --store-timeout to wait longer)",
                hung.err().strip());
            assertTrue(seconds < 20, "bounded by the deadline: " + seconds + " s");
        }
        for (Run r : List.of(hdfs, refused)) {
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertFalse(r.err().contains("no-such-secret"), r.err());
        }
        assertEquals(2, run("train", "--store-timeout", "0").exit(), "the deadline is validated");
        assertFalse(Files.exists(tmp.resolve("h")) || Files.exists(tmp.resolve("s")), "nothing written");
    }

    /**
     * A {@code file://} path on a network hard mount whose server vanished (simulated by
     * {@link VanishedMountFileSystem}: mounting needs privileges tests do not have) blocks: the deadline ends the
     * command with one line, exit 1, nothing written.
     */
    @Test
    void vanishedMountFailsFastWithOneLine() throws Exception {
        String[] fs = {"--conf", "spark.hadoop.fs.file.impl=" + VanishedMountFileSystem.class.getName()};
        Path hard = tmp.resolve("hard-mount").resolve("mnist");
        long t0 = System.nanoTime();
        Run hung = run(withSpark(concat(new String[] {"train", "--data-dir", hard.toString(), "--output",
            tmp.resolve("vh").toString(), "--store-timeout", "2"}, fs)));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(1, hung.exit(), hung.err());
        assertEquals("error: --data-dir (" + hard + "): the local file system did not answer within 2 s (raise"
            + " --store-timeout to wait longer)", hung.err().strip());
        assertTrue(seconds < 20, "bounded by the deadline: " + seconds + " s");
        assertFalse(Files.exists(tmp.resolve("vh")), "nothing written");
    }

    private static String[] concat(String[] a, String[] b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    @Test
    void existingOutputIsNeverLostOrHalfOverwritten() throws Exception {
        Path out = tmp.resolve("existing");
        Files.createDirectories(out);
        Files.writeString(out.resolve("model.zip"), "precious");
        Run refused = run("train", "--data-dir", TestData.sliceDir(), "--output", out.toString());
        assertEquals(2, refused.exit());
        assertTrue(refused.err().contains("--output (" + out + ") already exists: choose a new directory or pass"
            + " --overwrite"), refused.err());

        // --overwrite with a run that fails (missing data): the old output must survive intact
        Run failed = run("train", "--data-dir", tmp.resolve("missing").toString(), "--overwrite", "--output",
            out.toString());
        assertEquals(2, failed.exit());
        assertEquals("precious", Files.readString(out.resolve("model.zip")));
        assertEquals(1, Files.list(tmp).count(), "no staging or replaced directories left");
    }

    @Test
    void evaluateRefusesTrainingFilesAndMissingModels() {
        Run train = run("evaluate", "--model-path", tmp.resolve("none.zip").toString(), "--images",
            TestData.sliceDir() + "/train-images-idx3-ubyte.gz", "--labels",
            TestData.sliceDir() + "/train-labels-idx1-ubyte.gz");
        assertEquals(2, train.exit());
        assertTrue(train.err().contains("is a training file; evaluation runs on held-out data only"), train.err());
        Run missing = run("evaluate", "--model-path", tmp.resolve("none.zip").toString(), "--data-dir",
            TestData.sliceDir());
        assertEquals(2, missing.exit());
        assertEquals("error: --model-path (" + tmp.resolve("none.zip") + "): file not found", missing.err().trim());
    }

    /** The MLlib baseline writes the same outputs and report as every other run. */
    @Test
    void mllibBaselineWritesTheSameOutputs() throws Exception {
        Path out = tmp.resolve("mllib");
        Run mllib = run(withSpark("train", "--mode", "mllib", "--model", "mlp", "--mllib-max-iter", "10",
            "--data-dir", TestData.sliceDir(), "--output", out.toString()));
        assertEquals(0, mllib.exit(), mllib.err());
        JsonNode metrics = RunLayout.JSON.readTree(out.resolve("metrics.json").toFile());
        assertEquals(1, metrics.get("epochs").size(), "one row: the whole L-BFGS fit");
        assertEquals(500, metrics.get("test").get("examples").asInt());
        assertTrue(Files.size(out.resolve("report.html")) > 10_000);
        assertTrue(Files.exists(out.resolve("charts").resolve("mistakes.png")));
        assertFalse(Files.exists(out.resolve("charts").resolve("learning-rate.png")), "L-BFGS has no learning rate");
        JsonNode prov = RunLayout.JSON.readTree(out.resolve("provenance.json").toFile());
        assertEquals("SIGMOID", prov.get("model").get("activation").asText(), "MLlib's hidden activation");
        Run lenet = run(withSpark("train", "--mode", "mllib", "--model", "lenet", "--data-dir", TestData.sliceDir(),
            "--output", tmp.resolve("no").toString()));
        assertEquals(ExitCodes.BAD_INPUT, lenet.exit());
        assertTrue(lenet.err().startsWith("error: --mode mllib trains MLlib's perceptron"), lenet.err());
        Run shifted = run(withSpark("train", "--mode", "mllib", "--model", "mlp", "--random-shift", "1",
            "--data-dir", TestData.sliceDir(), "--output", tmp.resolve("no").toString()));
        assertEquals(ExitCodes.BAD_INPUT, shifted.exit());
        assertEquals("error: --mode mllib trains MLlib's perceptron (784-256-128-10, sigmoid): it needs --model mlp"
            + " and takes no --checkpoint-dir, --resume, --resume-from or --random-shift", shifted.err().strip());
    }
}
