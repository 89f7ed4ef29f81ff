package dev.sparkmnist.yarn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkmnist.data.testing.TestData;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job on YARN as a user submits it: {@code scripts/submit-cluster.sh yarn} with {@code conf/yarn.conf.template}
 * (scripts/spark-submit, the generated Spark home with spark-yarn, the submit jar) against a MiniYARNCluster (one
 * ResourceManager, one NodeManager on 127.0.0.1) whose configuration is handed over as a {@code HADOOP_CONF_DIR}.
 * Cluster deploy mode (the template's; the driver in the ApplicationMaster's container) and client mode; a bad input
 * ends with the driver's exit code 2 and no stack trace on the terminal. The trained network is checked against the
 * same job run in Spark local mode: the resident engine's arithmetic does not depend on where its workers run.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class YarnScriptsIT {
    private static final long SCRIPT_TIMEOUT_S = 400;
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path tmp;
    private static MiniYARNCluster yarn;
    private static Path repo;
    private static Path confDir;

    @BeforeAll
    static void startYarn() throws Exception {
        repo = Paths.get(System.getProperty("repo.root")).toAbsolutePath();
        YarnConfiguration conf = new YarnConfiguration();
        conf.set("yarn.resourcemanager.hostname", "127.0.0.1");
        conf.set("yarn.nodemanager.hostname", "127.0.0.1");
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 256);
        conf.setInt(YarnConfiguration.NM_PMEM_MB, 8192);
        conf.setInt(YarnConfiguration.NM_VCORES, 4);
        conf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
        conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
        conf.set("yarn.scheduler.capacity.root.queues", "default");
        conf.set("yarn.scheduler.capacity.root.default.capacity", "100");
        conf.set("yarn.scheduler.capacity.maximum-am-resource-percent", "1.0");
        yarn = new MiniYARNCluster("spark-mnist-yarn", 1, 1, 1);
        yarn.init(conf);
        yarn.start();
        for (int i = 0; i < 100 && yarn.getConfig().get(YarnConfiguration.RM_ADDRESS, "").endsWith(":0"); i++) {
            Thread.sleep(100);
        }
        // what a cluster's /etc/hadoop/conf holds: the ResourceManager's addresses; fs.defaultFS stays file:///
        confDir = Files.createDirectories(tmp.resolve("hadoop-conf"));
        for (String site : List.of("yarn-site.xml", "core-site.xml")) {
            try (OutputStream out = Files.newOutputStream(confDir.resolve(site))) {
                yarn.getConfig().writeXml(out);
            }
        }
    }

    @AfterAll
    static void stopYarn() {
        if (yarn != null) {
            yarn.stop();
        }
    }

    /** Exit code and combined output of a command. */
    record Result(int exit, String output) {
    }

    /** The job's options: a short MLP run on the MNIST slice, averaging every 5 minibatches. */
    private static List<String> job(Path out, String dataDir) {
        return List.of("--model", "mlp", "--epochs", "1", "--limit-train", "640", "--limit-test", "200",
            "--averaging-frequency", "5", "--seed", "7", "--data-dir", dataDir, "--output", out.toString());
    }

    /** scripts/submit-cluster.sh yarn with the YARN template and settings small enough for this machine. */
    private static Result submit(String deployMode, List<String> trainOptions) throws Exception {
        return submit(deployMode, confDir, trainOptions);
    }

    private static Result submit(String deployMode, Path hadoopConf, List<String> trainOptions) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("HADOOP_CONF_DIR", hadoopConf.toString());
        env.put("PROPERTIES_FILE", repo.resolve("conf/yarn.conf.template").toString());
        if (deployMode != null) {
            env.put("DEPLOY_MODE", deployMode);
        }
        env.put("DRIVER_MEMORY", "768m");
        env.put("EXECUTOR_MEMORY", "512m");
        env.put("SUBMIT_ARGS", String.join(" ",
            "--conf", "spark.executor.memoryOverhead=512m",
            "--conf", "spark.driver.memoryOverhead=512m",
            // Spark's jars from the generated Spark home, on the node's disk (a cluster keeps them in HDFS)
            "--conf", "spark.yarn.jars=local:" + repo.resolve("modules/spark-home/target/spark-home/jars") + "/*",
            "--conf", "spark.yarn.stagingDir=" + tmp.resolve("staging").toUri(),
            "--conf", "spark.executorEnv.SPARK_LOCAL_IP=127.0.0.1",
            "--conf", "spark.yarn.appMasterEnv.SPARK_LOCAL_IP=127.0.0.1",
            "--conf", "spark.ui.enabled=false",
            "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
            "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=120s"));
        List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("scripts/submit-cluster.sh").toString(), "yarn"));
        cmd.addAll(trainOptions);
        return exec(cmd, env);
    }

    private static Result exec(List<String> cmd, Map<String, String> env) throws Exception {
        File log = Files.createTempFile(tmp, "cmd", ".log").toFile();
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.redirectOutput(log);
        Process p = pb.start();
        if (!p.waitFor(SCRIPT_TIMEOUT_S, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish in " + SCRIPT_TIMEOUT_S + " s:\n"
                + Files.readString(log.toPath()));
        }
        return new Result(p.exitValue(), Files.readString(log.toPath(), StandardCharsets.UTF_8));
    }

    /** The same job in Spark local mode with two workers, run as scripts/lib/common.sh's run_app runs the app. */
    private static Result local(List<String> trainOptions) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString()));
        try (Stream<String> lines = Files.lines(repo.resolve("conf/java17-opens.conf"))) {
            lines.filter(l -> !l.isBlank() && !l.startsWith("#")).forEach(cmd::add);
        }
        cmd.addAll(List.of("-Xmx2g", "-Dorg.eclipse.deeplearning4j.helpers.disable=false",
            "-Dlog4j2.configurationFile=" + repo.resolve("conf/log4j2.properties"),
            "-cp", repo.resolve("modules/app/target/spark-mnist.jar") + File.pathSeparator
                + repo.resolve("modules/app/target/lib") + File.separator + "*",
            "dev.sparkmnist.app.Main", "train", "--master", "local[2]", "--conf", "spark.ui.enabled=false"));
        cmd.addAll(trainOptions);
        return exec(cmd, Map.of());
    }

    private static JsonNode json(Path file) throws IOException {
        return JSON.readTree(file.toFile());
    }

    @Test
    void clusterDeployModeTrainsTheSameNetworkAsLocalMode() throws Exception {
        Path out = tmp.resolve("cluster-run");
        Result r = submit(null, job(out, TestData.sliceDir()));
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("--deploy-mode cluster"), "the template's deploy mode: " + r.output());
        assertTrue(r.output().contains("succeeded"), r.output());
        JsonNode prov = json(out.resolve("provenance.json"));
        assertEquals("yarn", prov.get("master").asText());
        assertEquals(2, prov.get("trainerJvms").size(), "two YARN executor containers: " + prov.get("trainerJvms"));
        JsonNode metrics = json(out.resolve("metrics.json"));
        assertEquals(640, metrics.get("epochs").get(0).get("examplesTrained").asInt());

        Path ref = tmp.resolve("local-run");
        Result l = local(job(ref, TestData.sliceDir()));
        assertEquals(0, l.exit(), l.output());
        JsonNode expected = json(ref.resolve("metrics.json")).get("test");
        JsonNode actual = metrics.get("test");
        assertEquals(expected.get("loss").asDouble(), actual.get("loss").asDouble(), 1e-4,
            "test loss on YARN vs local[2]: " + actual + " vs " + expected);
        assertEquals(expected.get("accuracy").asDouble(), actual.get("accuracy").asDouble(), 0.006,
            "at most one of 200 test examples may flip: " + actual + " vs " + expected);
    }

    @Test
    void clusterDeployModeEndsWithTheDriversExitCodeAndNoStackTrace() throws Exception {
        Path missing = tmp.resolve("no-such-mnist");
        Result r = submit("cluster", job(tmp.resolve("bad-run"), missing.toString()));
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("the driver exited with status 2"), r.output());
        assertTrue(r.output().contains("yarn logs -applicationId application_"), r.output());
        assertFalse(r.output().lines().anyMatch(l -> l.matches("\\s+at .*")), "a stack trace:\n" + r.output());
        assertFalse(Files.exists(tmp.resolve("bad-run")), "nothing written");
        // the driver's one line is in the ApplicationMaster container's stderr
        String amStderr = amStderr();
        assertTrue(amStderr.contains(missing.toString()), amStderr);
    }

    /**
     * A ResourceManager that is not there: one line in seconds in either deploy mode, where YARN's client retried it
     * for yarn.resourcemanager.connect.max-wait.ms (15 minutes) without a line. In cluster mode the script asks it
     * before spark-submit; in client mode the driver does, as it asks a standalone master.
     */
    @Test
    void anAbsentResourceManagerIsOneLineInSeconds() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Path dead = Files.createDirectories(tmp.resolve("dead-rm-conf"));
        Files.writeString(dead.resolve("yarn-site.xml"), "<configuration><property><name>yarn.resourcemanager.address"
            + "</name><value>127.0.0.1:" + closed + "</value></property></configuration>\n");
        long t0 = System.nanoTime();
        Result cluster = submit("cluster", dead, job(tmp.resolve("never-c"), TestData.sliceDir()));
        assertEquals(1, cluster.exit(), cluster.output());
        assertEquals("submit-cluster.sh: MASTER_URL (yarn): no YARN ResourceManager answers at 127.0.0.1:" + closed
            + " (refused, or no answer within 10 s): start it, or name it in yarn.resourcemanager.address of " + dead
            + "/yarn-site.xml", cluster.output().strip());
        Result client = submit("client", dead, job(tmp.resolve("never-d"), TestData.sliceDir()));
        assertEquals(1, client.exit(), client.output());
        assertTrue(client.output().contains("error: --master (yarn): no YARN ResourceManager answers: 127.0.0.1:"
            + closed + " refused the connection"), client.output());
        assertFalse(client.output().lines().anyMatch(l -> l.matches("\\s+at .*")),
            "a stack trace:\n" + client.output());
        assertTrue((System.nanoTime() - t0) / 1e9 < 90, "seconds, not YARN's 15 minutes");
        assertFalse(Files.exists(tmp.resolve("never-c")) || Files.exists(tmp.resolve("never-d")), "nothing written");
    }

    @Test
    void clientDeployModeRunsExecutorsInYarnContainers() throws Exception {
        Path out = tmp.resolve("client-run");
        Result r = submit("client", job(out, TestData.sliceDir()));
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("--deploy-mode client"), r.output());
        JsonNode prov = json(out.resolve("provenance.json"));
        assertEquals(2, prov.get("trainerJvms").size(), "two YARN executor containers: " + prov.get("trainerJvms"));
        assertEquals(640, json(out.resolve("metrics.json")).get("epochs").get(0).get("examplesTrained").asInt());
    }

    /** The stderr files of the ApplicationMasters' containers (attempt 1, container 1) in the NodeManager's logs. */
    private static String amStderr() throws IOException {
        StringBuilder all = new StringBuilder();
        for (String dir : yarn.getNodeManager(0).getConfig().getTrimmedStrings(YarnConfiguration.NM_LOG_DIRS)) {
            Path root = Paths.get(dir.replaceFirst("^file:", ""));
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(f -> f.getFileName().toString().equals("stderr")
                    && f.getParent().getFileName().toString().endsWith("_01_000001")).collect(Collectors.toList())) {
                    all.append(Files.readString(f));
                }
            }
        }
        return all.toString();
    }
}
