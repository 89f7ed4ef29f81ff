package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Bad master URLs are bad options: one line, exit 2, no Spark stack trace. */
class SparkContextsTest {
    @Test
    void localMastersAreCheckedBeforeSparkStarts() {
        for (String ok : List.of("local", "local[1]", "local[*]", "local[2,3]", "local[*,4]", "local-cluster[2,1,1024]",
            "spark://127.0.0.1:7077", "yarn", "k8s://https://10.0.0.1:6443")) {
            SparkContexts.checkMaster(ok);
        }
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
            () -> SparkContexts.checkMaster("local[0]"));
        assertEquals("--master (local[0]) must run at least one task: in local[N] and local[N,F], N and F must be"
            + " >= 1", zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SparkContexts.checkMaster("local[2,0]"));
        assertEquals(1, SparkContexts.localThreads("local"));
        assertEquals(3, SparkContexts.localThreads("local[3,2]"));
        assertEquals(Runtime.getRuntime().availableProcessors(), SparkContexts.localThreads("local[*]"));
        assertEquals(1, SparkContexts.localThreads("yarn"));
        IllegalArgumentException typo = assertThrows(IllegalArgumentException.class,
            () -> SparkContexts.checkMaster("local[two]"));
        assertEquals("--master (local[two]) is not a master URL Spark accepts: local, local[N], local[*], local[N,F],"
            + " spark://HOST:PORT, yarn or k8s://URL", typo.getMessage());
        // unknown schemes are refused before Spark starts (and logs its own trace for them)
        assertEquals("--master (bogus://x) is not a master URL Spark accepts: local, local[N], local[*], local[N,F],"
            + " spark://HOST:PORT, yarn or k8s://URL", assertThrows(IllegalArgumentException.class,
                () -> SparkContexts.checkMaster("bogus://x")).getMessage());
        for (String ok : List.of("spark://h:7077", "yarn", "k8s://https://h:6443", "local-cluster[2,1,1024]")) {
            SparkContexts.checkMaster(ok);
        }
    }

    @Test
    void aLocalDriverOnLoopbackIsDecidedBeforeAnySparkConfExists() {
        assertEquals(null, System.getProperty("spark.master"), "this test's JVM names no master");
        assertEquals(true, SparkContexts.drivesOnLoopback(null, List.of()), "the embedded local[*]");
        assertEquals(true, SparkContexts.drivesOnLoopback("local[2]", List.of()));
        assertEquals(true, SparkContexts.drivesOnLoopback(null, List.of("spark.master=yarn", "spark.master = local")),
            "the last pair wins, as SparkConf.set does");
        assertEquals(true, SparkContexts.drivesOnLoopback("local[2]", List.of("spark.master=yarn")), "--master wins");
        for (String cluster : List.of("local-cluster[2,1,1024]", "spark://h:7077", "yarn", "k8s://https://h:6443")) {
            assertEquals(false, SparkContexts.drivesOnLoopback(cluster, List.of()), cluster);
        }
        assertEquals(false, SparkContexts.drivesOnLoopback(null, List.of("spark.master=spark://h:7077")));
        assertEquals(false, SparkContexts.drivesOnLoopback("local[2]", List.of("spark.driver.host=10.0.0.5")),
            "the user's own driver address: Spark's warning about it stays");
    }

    /**
     * Spark's two loopback warnings, as Spark 3.5's {@code Utils} logs them, stay out of the log once a local run has
     * asked; every other line of that logger still reaches the appenders.
     */
    @Test
    void onlySparksTwoLoopbackWarningsAreLeftOut() {
        org.apache.logging.log4j.core.LoggerContext ctx =
            (org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
        java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        org.apache.logging.log4j.core.appender.AbstractAppender capture =
            new org.apache.logging.log4j.core.appender.AbstractAppender("capture", null, null, true,
                org.apache.logging.log4j.core.config.Property.EMPTY_ARRAY) {
                @Override
                public void append(org.apache.logging.log4j.core.LogEvent event) {
                    seen.add(event.getMessage().getFormattedMessage());
                }
            };
        capture.start();
        SparkContexts.quietLoopbackWarnings();
        SparkContexts.quietLoopbackWarnings(); // twice: still one logger of its own
        org.apache.logging.log4j.core.config.LoggerConfig own =
            ctx.getConfiguration().getLoggerConfig(SparkContexts.SPARK_UTILS_LOGGER);
        assertEquals(SparkContexts.SPARK_UTILS_LOGGER, own.getName());
        assertEquals(org.apache.logging.log4j.core.filter.RegexFilter.class, own.getFilter().getClass(),
            "one filter however often a JVM's commands ask");
        own.addAppender(capture, null, null);
        ctx.updateLoggers();
        try {
            org.slf4j.Logger utils = org.slf4j.LoggerFactory.getLogger(SparkContexts.SPARK_UTILS_LOGGER);
            utils.warn("Your hostname, vm resolves to a loopback address: 127.0.1.1; using 10.1.2.3 instead (on"
                + " interface eth0)");
            utils.warn("Set SPARK_LOCAL_IP if you need to bind to another address");
            utils.warn("Service 'sparkDriver' could not bind on port 7077. Attempting port 7078.");
            utils.warn("Your hostname is fine");
            utils.info("below the level the configuration gives Spark: not logged either way");
            assertEquals(List.of("Service 'sparkDriver' could not bind on port 7077. Attempting port 7078.",
                "Your hostname is fine"), seen);
        } finally {
            own.removeAppender("capture");
            ctx.updateLoggers();
        }
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path tmp;

    /**
     * A driver that spark-submit did not start names no jar for a cluster's executors: the spark-submit jar beside
     * the app's becomes {@code spark.jars}; without one, one line that says how to run it.
     */
    @Test
    void aClusterMastersExecutorsGetTheSubmitJarWhenSparkSubmitGaveNone() throws Exception {
        java.nio.file.Path target = java.nio.file.Files.createDirectories(tmp.resolve("target"));
        java.nio.file.Path app = java.nio.file.Files.writeString(target.resolve("spark-mnist.jar"), "app");
        assertEquals(null, SparkContexts.submitJar(app), "no submit jar beside it");
        assertEquals(null, SparkContexts.submitJar(target), "classes from a directory");
        assertEquals(null, SparkContexts.submitJar(null));
        java.nio.file.Path cuda = java.nio.file.Files.writeString(target.resolve("spark-mnist-submit-cuda.jar"), "c");
        assertEquals(cuda, SparkContexts.submitJar(app), "the CUDA build's");
        java.nio.file.Path submit = java.nio.file.Files.writeString(target.resolve("spark-mnist-submit.jar"), "s");
        assertEquals(submit, SparkContexts.submitJar(app), "the CPU build's first");
        assertEquals(cuda, SparkContexts.submitJar(cuda), "the classes' own jar");

        org.apache.spark.SparkConf standalone = new org.apache.spark.SparkConf(false).setMaster("spark://h:7077");
        SparkContexts.shipAppClasses(standalone, app);
        assertEquals(submit.toUri().toString(), standalone.get("spark.jars"));
        org.apache.spark.SparkConf submitted = new org.apache.spark.SparkConf(false).setMaster("yarn")
            .set("spark.jars", "file:/opt/job.jar");
        SparkContexts.shipAppClasses(submitted, app);
        assertEquals("file:/opt/job.jar", submitted.get("spark.jars"), "spark-submit's (or the user's) jar stays");
        for (String local : List.of("local[2]", "local-cluster[2,1,1024]")) {
            org.apache.spark.SparkConf conf = new org.apache.spark.SparkConf(false).setMaster(local);
            SparkContexts.shipAppClasses(conf, app);
            assertEquals(false, conf.contains("spark.jars"), local);
        }
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> SparkContexts
            .shipAppClasses(new org.apache.spark.SparkConf(false).setMaster("spark://h:7077"), target));
        assertEquals("--master (spark://h:7077) runs executors in JVMs of their own, which need the app's classes:"
            + " submit the job with scripts/spark-submit (scripts/submit-cluster.sh for a standalone master), or give"
            + " --conf spark.jars=PATH/spark-mnist-submit.jar", none.getMessage());
    }

    @Test
    void defaultsLeaveWhatTheUserSetAlone() {
        org.apache.spark.SparkConf defaults = SparkContexts.conf("t", "local[2]", List.of());
        assertEquals(SparkContexts.MAX_DIRECT_RESULT_SIZE, defaults.get("spark.task.maxDirectResultSize"));
        assertEquals(SparkContexts.HEARTBEAT_INTERVAL, defaults.get("spark.executor.heartbeatInterval"));
        // above the resident MLP's result with Adam (3 x 235,146 floats, 2.8 MB), below Spark's RPC message limit
        long bytes = org.apache.spark.network.util.JavaUtils.byteStringAsBytes(SparkContexts.MAX_DIRECT_RESULT_SIZE);
        assertEquals(true, bytes > 3L * 235_146 * Float.BYTES && bytes < 128L << 20, String.valueOf(bytes));
        org.apache.spark.SparkConf chosen = SparkContexts.conf("t", "local[2]",
            List.of("spark.task.maxDirectResultSize=1m", "spark.executor.heartbeatInterval=10s"));
        assertEquals("1m", chosen.get("spark.task.maxDirectResultSize"));
        assertEquals("10s", chosen.get("spark.executor.heartbeatInterval"));
    }

    @Test
    void localFilesGetTheirPermissionsWithoutAChmodProcessUnlessTheJobChoosesAnotherFileSystem() {
        String key = dev.sparkmnist.runs.PosixLocalFileSystem.IMPL_KEY;
        assertEquals(dev.sparkmnist.runs.PosixLocalFileSystem.class.getName(),
            SparkContexts.hadoop(SparkContexts.conf("t", "local[2]", List.of())).get(key));
        assertEquals("org.apache.hadoop.fs.LocalFileSystem", SparkContexts.hadoop(SparkContexts.conf("t", "local[2]",
            List.of("spark.hadoop.fs.file.impl=org.apache.hadoop.fs.LocalFileSystem"))).get(key));
    }

    @Test
    void unparsableMastersExitTwoWithOneLine() {
        for (String master : List.of("bogus://x", "local[0]")) {
            CliIT.Run run = CliIT.run("train", "--data-dir", dev.sparkmnist.data.testing.TestData.sliceDir(),
                "--epochs", "1", "--output", tmp.resolve("out").toString(), "--master", master, "--conf",
                "spark.ui.enabled=false");
            assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.err());
            assertEquals(1, run.err().strip().lines().count(), run.err());
            assertEquals(true, run.err().startsWith("error: --master (" + master + ")"), run.err());
        }
    }

    /**
     * A standalone master is asked for a connection before any work: refused at once, unknown host at once, and a
     * master that does not answer within the deadline; one of a standby list that answers is enough. Spark itself
     * tried three times 20 s apart, and the job failed 2 minutes later with "Cannot call methods on a stopped
     * SparkContext".
     */
    @Test
    void aStandaloneMasterThatDoesNotAnswerFailsBeforeAnyWork() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        String refusedUrl = "spark://127.0.0.1:" + closed;
        var refused = assertThrows(dev.sparkmnist.runs.Stores.UnreachableStoreException.class,
            () -> SparkContexts.requireStandaloneAnswers(refusedUrl, 5));
        assertEquals("--master (" + refusedUrl + "): no standalone master answers: 127.0.0.1:" + closed + " refused the"
            + " connection (Connection refused); start it (scripts/local-cluster.sh start N on this machine) or name"
            + " one that runs", refused.getMessage());
        assertEquals(false, refused.userValue(), "the master's fault: exit 1, as a store's");
        var unknown = assertThrows(dev.sparkmnist.runs.Stores.UnreachableStoreException.class,
            () -> SparkContexts.requireStandaloneAnswers("spark://no-such-host.invalid:7077", 5));
        assertEquals(true, unknown.getMessage().startsWith("--master (spark://no-such-host.invalid:7077): no"
            + " standalone master answers: no-such-host.invalid:7077: the host is unknown"), unknown.getMessage());
        assertEquals(true, unknown.userValue(), "the user's value: exit 2");
        try (java.net.ServerSocket master = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            SparkContexts.requireStandaloneAnswers("spark://127.0.0.1:" + master.getLocalPort(), 5);
            SparkContexts.requireStandaloneAnswers("spark://127.0.0.1:" + closed + ",127.0.0.1:"
                + master.getLocalPort(), 5); // the active master is the second of the list
        }
        SparkContexts.requireStandaloneAnswers("spark://h", 5); // no port: Spark's to refuse as it parses the URL
        // a master whose queue of connections is full: the kernel drops further connection requests unanswered
        try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            List<java.net.Socket> queued = new java.util.ArrayList<>();
            try {
                boolean dropped = false;
                for (int k = 0; k < 16 && !dropped; k++) {
                    java.net.Socket s = new java.net.Socket();
                    try {
                        s.connect(full.getLocalSocketAddress(), 300);
                        queued.add(s);
                    } catch (java.net.SocketTimeoutException e) {
                        s.close();
                        dropped = true;
                    }
                }
                assertEquals(true, dropped, "the kernel stopped answering after " + queued.size() + " connections");
                long t0 = System.nanoTime();
                var silent = assertThrows(dev.sparkmnist.runs.Stores.UnreachableStoreException.class,
                    () -> SparkContexts.requireStandaloneAnswers("spark://127.0.0.1:" + full.getLocalPort(), 1));
                double seconds = (System.nanoTime() - t0) / 1e9;
                assertEquals("--master (spark://127.0.0.1:" + full.getLocalPort() + "): no standalone master answers:"
                    + " 127.0.0.1:" + full.getLocalPort() + " did not answer within 1 s (raise --store-timeout to wait"
                    + " longer); start it (scripts/local-cluster.sh start N on this machine) or name one that runs",
                    silent.getMessage());
                assertEquals(true, seconds >= 0.9 && seconds < 5, seconds + " s");
            } finally {
                for (java.net.Socket s : queued) {
                    s.close();
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> SparkContexts.requireStandaloneAnswers(refusedUrl, 0));
    }

    /**
     * YARN's, Kubernetes' and Mesos' cluster managers come in jars of their own, which the app's local class path
     * ({@code scripts/spark-mnist}'s) does not have: one line naming the jar and how to submit, before any work. Spark
     * said only "Could not parse Master URL", which the app turned into "--master (yarn) is not a master URL Spark
     * accepts: ... yarn ...". This test's class path has YARN's (spark-home's test dependency) and not Kubernetes'.
     */
    @Test
    void aClusterManagerThatIsNotOnTheClassPathIsNamed() {
        assertEquals(true, SparkContexts.pluggedIn("yarn"), "spark-yarn is on this test's class path");
        SparkContexts.requireMaster(new org.apache.spark.SparkConf(false).setMaster("yarn"), 5);
        IllegalArgumentException yarn = assertThrows(IllegalArgumentException.class,
            () -> SparkContexts.requireClusterManager("yarn", master -> false));
        assertEquals("--master (yarn) needs Spark's YARN support (spark-yarn_2.12), which is not on this JVM's class"
            + " path: submit the job with spark-submit (PROPERTIES_FILE=conf/yarn.conf.template"
            + " scripts/submit-cluster.sh yarn [options]: the generated Spark home has it)", yarn.getMessage());
        IllegalArgumentException k8s = assertThrows(IllegalArgumentException.class, () -> SparkContexts.requireMaster(
            new org.apache.spark.SparkConf(false).setMaster("k8s://https://10.0.0.1:6443"), 5));
        assertEquals("--master (k8s://https://10.0.0.1:6443) needs Spark's Kubernetes support (spark-kubernetes_2.12),"
            + " which is not on this JVM's class path: submit the job with spark-submit from a Spark distribution that"
            + " has it (scripts/spark-submit uses $SPARK_HOME's)", k8s.getMessage());
        SparkContexts.requireMaster(new org.apache.spark.SparkConf(false).setMaster("local[2]"), 5);
    }

    /** Through the command line: one line, in seconds, the exit code of a store's, nothing written. */
    @Test
    void unreachableMastersFailTheCommandWithOneLine() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        java.nio.file.Path out = tmp.resolve("out");
        long t0 = System.nanoTime();
        CliIT.Run refused = CliIT.run("train", "--data-dir", dev.sparkmnist.data.testing.TestData.sliceDir(),
            "--epochs", "1", "--output", out.toString(), "--master", "spark://127.0.0.1:" + closed);
        assertEquals(1, refused.exit(), refused.err());
        assertEquals(1, refused.err().strip().lines().count(), refused.err());
        assertEquals(true, refused.err().startsWith("error: --master (spark://127.0.0.1:" + closed + "): no standalone"
            + " master answers: "), refused.err());
        CliIT.Run k8s = CliIT.run("train", "--data-dir", dev.sparkmnist.data.testing.TestData.sliceDir(),
            "--epochs", "1", "--output", out.toString(), "--master", "k8s://https://127.0.0.1:6443");
        assertEquals(ExitCodes.BAD_INPUT, k8s.exit(), k8s.err());
        assertEquals(true, k8s.err().startsWith("error: --master (k8s://https://127.0.0.1:6443) needs Spark's"
            + " Kubernetes support"), k8s.err());
        assertEquals(1, k8s.err().strip().lines().count(), k8s.err());
        CliIT.Run plan = CliIT.run("train", "--data-dir", dev.sparkmnist.data.testing.TestData.sliceDir(),
            "--output", out.toString(), "--master", "spark://127.0.0.1:" + closed, "--dry-run");
        assertEquals(0, plan.exit(), "a memory plan for a cluster needs no master: " + plan.err());
        assertEquals(true, (System.nanoTime() - t0) / 1e9 < 30, "no Spark started, no retries");
        assertEquals(false, java.nio.file.Files.exists(out), "nothing written");
    }
}
