package dev.sparkmnist.app;

import dev.sparkmnist.runs.RunLayout;
import dev.sparkmnist.runs.RunFiles;
import dev.sparkmnist.runs.Secrets;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.testing.TestData;
import org.apache.hadoop.conf.Configuration;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scripts a user runs, against a real standalone cluster on 127.0.0.1: local-cluster.sh start 2, a job through
 * submit-cluster.sh (scripts/spark-submit, the generated Spark home, the spark-submit jar), a failing job, stop.
 * Runs after package (failsafe) because it needs the packaged jars.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ClusterScriptsIT {
    private static final long SCRIPT_TIMEOUT_S = 300;
    @TempDir
    static Path tmp;
    private static Path repo;
    private static Path clusterDir;
    private static Map<String, String> env;
    private static String masterUrl;

    /** Exit code and combined output of a script. */
    record Result(int exit, String output) {
    }

    static Result script(String... command) throws IOException, InterruptedException {
        return script(Map.of(), command);
    }

    /** A script run with {@code extraEnv} added to its environment. */
    static Result script(Map<String, String> extraEnv, String... command) throws IOException, InterruptedException {
        File log = Files.createTempFile(tmp, "script", ".log").toFile();
        Process p = start(log, extraEnv, command);
        if (!p.waitFor(SCRIPT_TIMEOUT_S, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish in " + SCRIPT_TIMEOUT_S + " s:\n"
                + Files.readString(log.toPath()));
        }
        return new Result(p.exitValue(), Files.readString(log.toPath(), StandardCharsets.UTF_8));
    }

    /** Starts a script with its output going to {@code log}. */
    static Process start(File log, String... command) throws IOException {
        return start(log, Map.of(), command);
    }

    private static Process start(File log, Map<String, String> extraEnv, String... command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("bash"));
        cmd.add(repo.resolve(command[0]).toString());
        cmd.addAll(List.of(command).subList(1, command.length));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
        // the scripts use the build's generated Spark home, as for a user without Spark; not the tests' empty one
        pb.environment().remove("SPARK_HOME");
        pb.environment().putAll(env);
        pb.environment().putAll(extraEnv);
        pb.redirectOutput(log);
        return pb.start();
    }

    /** The executor JVMs of this cluster (their working directory is under the cluster's work directory). */
    private static List<ProcessHandle> executors() {
        return ProcessHandle.allProcesses().filter(p -> {
            try {
                return Files.readSymbolicLink(Path.of("/proc", String.valueOf(p.pid()), "cwd"))
                    .startsWith(clusterDir.resolve("work"));
            } catch (IOException | UnsupportedOperationException e) {
                return false; // gone, or not ours to read
            }
        }).toList();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @BeforeAll
    static void setUp() throws IOException {
        repo = Path.of(System.getProperty("repo.root")).toAbsolutePath();
        clusterDir = tmp.resolve("cluster");
        env = Map.of("CLUSTER_DIR", clusterDir.toString(), "MASTER_PORT", String.valueOf(freePort()),
            "MASTER_UI_PORT", String.valueOf(freePort()), "WORKER_MEMORY", "1500m",
            "EXECUTOR_MEMORY", "1g", "DRIVER_MEMORY", "1500m");
    }

    @AfterAll
    static void tearDown() throws IOException, InterruptedException {
        script("scripts/local-cluster.sh", "stop"); // idempotent: also after a failed test
    }

    @Test
    @Order(1)
    void startWaitsForEveryWorker() throws Exception {
        Result r = script("scripts/local-cluster.sh", "start", "2");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("cluster up: 2 Worker(s) registered"), r.output());
        masterUrl = Files.readString(clusterDir.resolve("master.url")).trim();
        assertTrue(masterUrl.matches("spark://127\\.0\\.0\\.1:\\d+"), masterUrl);
        Result status = script("scripts/local-cluster.sh", "status");
        assertEquals(0, status.exit(), status.output());
        assertTrue(status.output().contains("worker-2  pid"), status.output());
    }

    /**
     * Also: a project switch given as {@code --conf spark.sparkmnist.*} reaches both executor JVMs, and credentials
     * given as {@code --conf} pairs, in a spark-defaults-style properties file and in the
     * environment reach no output, report, terminal line or log of the run (driver, Master, Workers, executors).
     */
    @Test
    @Order(2)
    void jobRunsOnTwoWorkersAndWritesItsOutputs() throws Exception {
        Path out = tmp.resolve("out");
        String salt = Long.toHexString(System.nanoTime());
        List<String> secrets = List.of("confSecret" + salt, "confAccess" + salt, "fileToken" + salt, "envKey" + salt);
        Path properties = tmp.resolve("secret-defaults.conf");
        Files.writeString(properties, Files.readString(repo.resolve("conf/spark-defaults.conf.template"))
            + "\nspark.hadoop.fs.s3a.session.token " + secrets.get(2) + "\n");
        Result r = script(Map.of("PROPERTIES_FILE", properties.toString(), "AWS_SECRET_ACCESS_KEY", secrets.get(3)),
            "scripts/submit-cluster.sh", masterUrl, "--model", "mlp", "--epochs", "1",
            "--data-dir", TestData.sliceDir(), "--output", out.toString(), "--export-dir",
            tmp.resolve("export").toString(), "--export-dir-shared",
            "--conf", "spark.hadoop.fs.s3a.secret.key=" + secrets.get(0),
            "--conf=spark.hadoop.fs.s3a.access.key=" + secrets.get(1),
            "--conf", "spark.sparkmnist.shapeInfoCache=false");
        assertEquals(0, r.exit(), r.output());
        // a project switch given as a Spark setting reached both executor JVMs before ND4J started there
        List<String> executorLogs;
        try (var files = Files.walk(clusterDir.resolve("work"))) {
            executorLogs = files.filter(f -> f.getFileName().toString().equals("stderr")).map(f -> {
                try {
                    return Files.readString(f, StandardCharsets.ISO_8859_1);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).filter(log -> log.contains("ND4J threads per task set to")).toList();
        }
        assertEquals(2, executorLogs.size(), "the executors that ran ND4J");
        for (String log : executorLogs) {
            assertTrue(log.contains("sparkmnist.shapeInfoCache=false (from --conf spark.sparkmnist.shapeInfoCache)")
                && log.contains("shape buffers ND4J's") && !log.contains("shape buffers cached"), log);
        }
        assertTrue(r.output().contains("spark.hadoop.fs.s3a.secret.key=" + Secrets.REDACTED), r.output());
        List<Path> written;
        try (var files = Files.walk(tmp)) {
            written = files.filter(Files::isRegularFile).filter(f -> !f.equals(properties)).toList();
        }
        assertTrue(written.stream().anyMatch(f -> f.endsWith("report.html")), "the report is among them");
        assertTrue(written.stream().anyMatch(f -> f.toString().contains("/cluster/")), "and the cluster's logs");
        for (String secret : secrets) {
            assertFalse(r.output().contains(secret), "the terminal shows " + secret + ":\n" + r.output());
            for (Path f : written) {
                assertFalse(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(secret),
                    f + " holds " + secret);
            }
        }
        assertTrue(RunLayout.JSON.readTree(out.resolve("provenance.json").toFile()).get("commandLine").asText()
            .contains("spark.hadoop.fs.s3a.access.key=" + Secrets.REDACTED), "the command line is kept, redacted");
        for (String f : List.of("model.zip", "metrics.json", "metrics.csv", "evaluation.txt", "provenance.json")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        JsonNode prov = RunLayout.JSON.readTree(out.resolve("provenance.json").toFile());
        assertEquals(masterUrl, prov.get("master").asText());
        assertEquals(2, prov.get("trainerJvms").size(), "two executor JVMs: " + prov.get("trainerJvms"));
        JsonNode metrics = RunLayout.JSON.readTree(out.resolve("metrics.json").toFile());
        assertEquals(2000, metrics.get("epochs").get(0).get("examplesTrained").asInt());
        assertTrue(metrics.get("test").get("accuracy").asDouble() >= 0.7, metrics.get("test").toString());
    }

    /**
     * {@code score} through the same script on the same cluster, with the model the job above wrote: the executors
     * read the idx files and score every digit, and the summary counts them all; then train with --data-dir holding
     * mnist_train.csv and mnist_test.csv, which the executors read and the job trains on, every example.
     */
    @Test
    @Order(3)
    void scoreAndTrainingFromCsvRunOnTheClustersExecutors() throws Exception {
        Path model = tmp.resolve("out").resolve("model.zip");
        assertTrue(Files.exists(model), "the job above wrote its model");
        Path idxOut = tmp.resolve("score-idx");
        Result idx = script("scripts/submit-cluster.sh", masterUrl, "score", "--input", TestData.sliceDir(),
            "--model-path", model.toString(), "--output", idxOut.toString(), "--output-format", "csv");
        assertEquals(0, idx.exit(), idx.output());
        JsonNode summary = RunLayout.JSON.readTree(idxOut.resolve("score.json").toFile());
        assertEquals(500, summary.get("digits").asLong(), summary.toString());
        assertEquals(500, summary.get("labelled").asLong(), summary.toString());
        assertTrue(idx.output().contains("scored 500 digits"), idx.output());
        // train from CSV on the same cluster: read and checked on the executors, staged as idx, trained
        Path csv = Files.createDirectories(tmp.resolve("csv"));
        for (String split : List.of("train", "test")) {
            MnistSet set = split.equals("train") ? MnistSet.trainFrom(TestData.sliceDir(), new Configuration())
                : MnistSet.testFrom(TestData.sliceDir(), new Configuration());
            Files.write(csv.resolve("mnist_" + split + ".csv"), DigitFrames.csvLines(DigitFrames.pixels(set),
                DigitFrames.labels(set)));
        }
        Path csvOut = tmp.resolve("csv-run");
        Result train = script("scripts/submit-cluster.sh", masterUrl, "--model", "mlp", "--epochs", "1",
            "--data-dir", csv.toString(), "--output", csvOut.toString());
        assertEquals(0, train.exit(), train.output());
        JsonNode epoch = RunLayout.JSON.readTree(csvOut.resolve("metrics.json").toFile()).get("epochs").get(0);
        assertEquals(2000, epoch.get("examplesTrained").asInt(), epoch.toString());
    }

    /**
     * A driver started by {@code scripts/spark-mnist} (plain java, the app's class path), not by spark-submit, against
     * the same cluster: the executors get the app's classes from the spark-submit jar the driver names in
     * {@code spark.jars} (before, every stage attempt failed with a ClassNotFoundException of the engine's classes).
     */
    @Test
    @Order(4)
    void aDriverThatSparkSubmitDidNotStartShipsTheAppsClasses() throws Exception {
        Path out = tmp.resolve("launcher-run");
        Result train = script(Map.of("SPARK_MNIST_BUILD", "0", "SPARK_MNIST_CDS", "0"), "scripts/spark-mnist",
            "train", "--master", masterUrl, "--model", "mlp", "--epochs", "1", "--data-dir", TestData.sliceDir(),
            "--output", out.toString(), "--progress", "none", "--conf", "spark.ui.enabled=false");
        assertEquals(0, train.exit(), train.output());
        assertTrue(train.output().contains("spark.jars set to "
            + repo.resolve("modules/app/target/spark-mnist-submit.jar")), train.output());
        JsonNode epoch = RunLayout.JSON.readTree(out.resolve("metrics.json").toFile()).get("epochs").get(0);
        assertEquals(2000, epoch.get("examplesTrained").asInt(), epoch.toString());
        assertEquals(0, epoch.get("stageRetries").asInt(), "no attempt failed: " + epoch);
    }

    /**
     * The resident engine's fault story on a real cluster: an executor JVM killed with SIGKILL in the middle of an
     * epoch fails that barrier stage attempt; the engine starts the stage again from the parameters the epoch started
     * with (the Worker starts a new executor), the job completes, and every example is counted once.
     */
    @Test
    @Order(5)
    void executorKilledMidEpochIsRetriedAndEveryExampleCountedOnce() throws Exception {
        Path out = tmp.resolve("killed-out");
        File log = tmp.resolve("killed.log").toFile();
        // LeNet, batch 4, averaging every minibatch: 250 rounds an epoch, 1.7-2.0 s once warm on 2 cores (CI, round
        // 23, the gzipped slice read from the executors' IdxCache), so the kill lands in epoch 2, 3, 4 or 5,
        // whichever the poll of the driver's UI (its REST API) below sees running on both workers first (epochs 2 and
        // 3 were once both over before the poll saw either running)
        int uiPort = freePort();
        Process job = start(log, Map.of("SUBMIT_ARGS", "--conf spark.ui.enabled=true --conf spark.ui.port=" + uiPort
            + " --conf spark.port.maxRetries=0"), "scripts/submit-cluster.sh", masterUrl, "--model", "lenet",
            "--epochs", Integer.toString(KILL_EPOCHS), "--batch-size-per-worker", "4", "--averaging-frequency", "1",
            "--learning-rate", "0.01",
            "--lr-schedule", "none", "--data-dir", TestData.sliceDir(),
            "--output", out.toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SCRIPT_TIMEOUT_S);
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        int killedIn;
        while ((killedIn = epochRunningOnBothWorkers(http, uiPort, log.toPath())) == 0) {
            assertTrue(job.isAlive(), "the job ended before the poll saw one of epochs 2-" + (KILL_EPOCHS - 1)
                + " run:\n" + Files.readString(log.toPath()));
            assertTrue(System.nanoTime() < deadline, "none of epochs 2-" + (KILL_EPOCHS - 1) + " seen running after "
                + SCRIPT_TIMEOUT_S + " s");
            Thread.sleep(50);
        }
        List<ProcessHandle> executors = executors();
        assertEquals(2, executors.size(), "two executor JVMs while training");
        new ProcessBuilder("kill", "-9", String.valueOf(executors.get(0).pid())).start().waitFor();
        assertTrue(job.waitFor(SCRIPT_TIMEOUT_S, TimeUnit.SECONDS), "job did not finish");
        String output = Files.readString(log.toPath());
        assertEquals(0, job.exitValue(), output);
        JsonNode metrics = RunLayout.JSON.readTree(out.resolve("metrics.json").toFile());
        int retries = 0;
        for (JsonNode epoch : metrics.get("epochs")) {
            assertEquals(2000, epoch.get("examplesTrained").asInt(), "every example once: " + epoch);
            assertEquals(500, epoch.get("minibatches").asInt(), "2 workers x 250 minibatches: " + epoch);
            retries += epoch.get("stageRetries").asInt();
        }
        assertTrue(retries >= 1, "the killed executor's stage was retried: " + metrics.get("epochs"));
        // where it was killed: the epoch the poll saw running, or the next one when that ended between the poll and
        // the kill (a stage that spans epochs goes on from one to the next; an epoch is about 2 s here)
        int retriedIn = 0;
        for (int e = killedIn; e <= Math.min(killedIn + 1, KILL_EPOCHS); e++) {
            retriedIn = metrics.get("epochs").get(e - 1).get("stageRetries").asInt() >= 1 ? e : retriedIn;
        }
        assertTrue(retriedIn > 0, "in epoch " + killedIn + " or the next, where it was killed: "
            + metrics.get("epochs"));
        assertTrue(output.contains("succeeded on attempt"), output);
        // Floor for 6 LeNet epochs on 2,000 examples
        assertTrue(metrics.get("test").get("accuracy").asDouble() >= 0.85, metrics.get("test").toString());
    }

    /** A resident training stage's job: one epoch's ("epoch 3, stage 1/1") or one that spans epochs ("epochs 1-6,"). */
    private static final java.util.regex.Pattern TRAINING =
        java.util.regex.Pattern.compile("resident workers: epochs? (\\d+)(?:-(\\d+))?,");

    /** Epochs of the killed-executor run: the kill lands in one of epochs 2 to KILL_EPOCHS - 1. */
    private static final int KILL_EPOCHS = 6;

    /**
     * The epoch (2 to {@link #KILL_EPOCHS} - 1) whose first stage the driver's REST API shows running with its two
     * tasks, or 0 while none does.
     */
    private static int epochRunningOnBothWorkers(java.net.http.HttpClient http, int uiPort, Path log) {
        try {
            // epochs the driver has finished, from its log: a stage that spans epochs is in the one after
            long done = Files.readString(log).lines().filter(l -> l.contains("INFO  Listeners: epoch ")).count();
            String base = "http://127.0.0.1:" + uiPort + "/api/v1/applications";
            JsonNode apps = RunLayout.JSON.readTree(get(http, base));
            if (apps == null || apps.size() == 0) {
                return 0;
            }
            for (JsonNode j : RunLayout.JSON.readTree(get(http, base + "/" + apps.get(0).get("id").asText()
                + "/jobs?status=running"))) {
                java.util.regex.Matcher m = TRAINING.matcher(j.path("description").asText());
                if (m.lookingAt() && j.path("numActiveTasks").asInt() == 2) {
                    int first = Integer.parseInt(m.group(1));
                    int last = m.group(2) == null ? first : Integer.parseInt(m.group(2));
                    int epoch = (int) Math.max(first, done + 1);
                    if (epoch >= 2 && epoch < KILL_EPOCHS && epoch <= last) {
                        return epoch;
                    }
                }
            }
            return 0;
        } catch (IOException e) { // the UI is not up yet
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    private static String get(java.net.http.HttpClient http, String url) throws IOException, InterruptedException {
        java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
            .timeout(java.time.Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException(url + ": HTTP " + r.statusCode());
        }
        return r.body();
    }

    @Test
    @Order(6)
    void failingJobExitsNonZeroWithTheDriversError() throws Exception {
        Result r = script("scripts/submit-cluster.sh", masterUrl, "--data-dir", tmp.resolve("nope").toString(),
            "--output", tmp.resolve("never").toString());
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("error: " + tmp.resolve("nope") + ": neither train-images-idx3-ubyte nor"
            + " train-images-idx3-ubyte.gz exists"), r.output());
        assertFalse(Files.exists(tmp.resolve("never")));
    }

    /** Standalone cluster deploy mode: spark-submit exits 0 even when the driver fails; the script must not. */
    @Test
    @Order(7)
    void clusterDeployModeReportsTheDriversFinalState() throws Exception {
        Map<String, String> clusterMode = new java.util.HashMap<>(env);
        clusterMode.put("DEPLOY_MODE", "cluster");
        Map<String, String> saved = env;
        env = clusterMode;
        try {
            Path out = tmp.resolve("cluster-mode-out");
            Result ok = script("scripts/submit-cluster.sh", masterUrl, "--model", "mlp", "--epochs", "1",
                "--limit-train", "600", "--limit-test", "200", "--data-dir", TestData.sliceDir(), "--output",
                out.toString(), "--export-dir", tmp.resolve("export").toString(), "--export-dir-shared");
            assertEquals(0, ok.exit(), ok.output());
            assertTrue(ok.output().contains("final state: FINISHED"), ok.output());
            assertTrue(Files.size(out.resolve("metrics.json")) > 0);

            Result failed = script("scripts/submit-cluster.sh", masterUrl, "--data-dir",
                tmp.resolve("nope").toString(), "--output", tmp.resolve("never2").toString());
            assertEquals(1, failed.exit(), failed.output());
            assertTrue(failed.output().contains("final state: FAILED"), failed.output());
            assertTrue(failed.output().contains("error: " + tmp.resolve("nope") + ": neither"), failed.output());

            // a master that is not there: one line before spark-submit starts (its client printed Spark's log and
            // three "Caused by:" lines, then the script's "reported no driver id"); one of a list that answers is
            // enough for the check
            int closed;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0, 50,
                java.net.InetAddress.getLoopbackAddress())) {
                closed = s.getLocalPort();
            }
            Result absent = script("scripts/submit-cluster.sh", "spark://127.0.0.1:" + closed, "--output",
                tmp.resolve("never3").toString());
            assertEquals(1, absent.exit(), absent.output());
            assertEquals("submit-cluster.sh: MASTER_URL (spark://127.0.0.1:" + closed + "): no standalone master"
                + " answers at 127.0.0.1:" + closed + " (refused, or no answer within 10 s): start it"
                + " (scripts/local-cluster.sh start N on this machine) or name one that runs", absent.output().strip());
            String list = "spark://127.0.0.1:" + closed + "," + masterUrl.substring("spark://".length());
            Result standby = script("scripts/submit-cluster.sh", list, "--data-dir", tmp.resolve("nope").toString(),
                "--output", tmp.resolve("never3").toString());
            assertTrue(standby.output().contains("spark-submit --master " + list + " "), "submitted: "
                + standby.output()); // (Spark's client itself then gives up on the list, as it does without the check)
            assertFalse(standby.output().contains("no standalone master answers"), standby.output());
            assertFalse(Files.exists(tmp.resolve("never3")));
        } finally {
            env = saved;
        }
    }

    @Test
    @Order(8)
    void stopLeavesNothingRunning() throws Exception {
        List<Long> pids = new ArrayList<>();
        for (String f : List.of("master.pid", "worker-1.pid", "worker-2.pid")) {
            pids.add(Long.parseLong(Files.readString(clusterDir.resolve(f)).trim()));
        }
        Result r = script("scripts/local-cluster.sh", "stop");
        assertEquals(0, r.exit(), r.output());
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "pid " + pid + " alive");
        }
        assertEquals(List.of(), executors(), "an executor of this cluster is still running");
        assertFalse(Files.exists(clusterDir.resolve("work")), "work directories removed");
        Result status = script("scripts/local-cluster.sh", "status");
        assertEquals(3, status.exit(), status.output());
    }
}
