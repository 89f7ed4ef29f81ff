package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Bad master URLs are bad options: one line, exit 2, no Spark stack trace. */
class SparkContextsTest {
    /**
     * The executor metrics' first taking, with its {@code getconf} process, happens as Spark starts, not at the first
     * heartbeat (Spark's default interval here, 10 s: none comes during the test).
     */
    @Test
    void executorMetricsAreTakenAsSparkStarts() throws Exception {
        java.lang.reflect.Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        sun.misc.Unsafe unsafe = (sun.misc.Unsafe) f.get(null);
        Class<?> procfs = Class.forName("org.apache.spark.executor.ProcfsMetricsGetter$", false,
            SparkContextsTest.class.getClassLoader());
        assertTrue(unsafe.shouldBeInitialized(procfs), "nothing in this JVM took executor metrics before");
        org.apache.spark.SparkConf conf = new org.apache.spark.SparkConf().setMaster("local[1]").setAppName("warm")
            .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
            .set("spark.driver.bindAddress", "127.0.0.1");
        try (org.apache.spark.api.java.JavaSparkContext sc = new org.apache.spark.api.java.JavaSparkContext(conf)) {
            Thread warm = SparkContexts.warmMetrics();
            warm.join(30_000);
            assertFalse(warm.isAlive());
            assertFalse(unsafe.shouldBeInitialized(procfs), "the process-tree metrics' getter was made");
        }
    }

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
}
