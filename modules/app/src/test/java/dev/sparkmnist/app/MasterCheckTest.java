package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/** The master is asked before any work, as the stores are: one line in seconds, or a run that starts. */
class MasterCheckTest {
    /** A Hadoop configuration without the class path's resources. */
    private static final Configuration NONE = new Configuration(false);

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path tmp;

    private static void standalone(String url, long timeoutSeconds) {
        MasterCheck.require(new org.apache.spark.SparkConf(false).setMaster(url), NONE, timeoutSeconds);
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
            () -> standalone(refusedUrl, 5));
        assertEquals("--master (" + refusedUrl + "): no standalone master answers: 127.0.0.1:" + closed + " refused the"
            + " connection (Connection refused); start it (scripts/local-cluster.sh start N on this machine) or name"
            + " one that runs", refused.getMessage());
        assertEquals(false, refused.userValue(), "the master's fault: exit 1, as a store's");
        var unknown = assertThrows(dev.sparkmnist.runs.Stores.UnreachableStoreException.class,
            () -> standalone("spark://no-such-host.invalid:7077", 5));
        assertEquals(true, unknown.getMessage().startsWith("--master (spark://no-such-host.invalid:7077): no"
            + " standalone master answers: no-such-host.invalid:7077: the host is unknown"), unknown.getMessage());
        assertEquals(true, unknown.userValue(), "the user's value: exit 2");
        try (java.net.ServerSocket master = new java.net.ServerSocket(0, 50,
            java.net.InetAddress.getLoopbackAddress())) {
            standalone("spark://127.0.0.1:" + master.getLocalPort(), 5);
            standalone("spark://127.0.0.1:" + closed + ",127.0.0.1:"
                + master.getLocalPort(), 5); // the active master is the second of the list
        }
        standalone("spark://h", 5); // no port: Spark's to refuse as it parses the URL
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
                    () -> standalone("spark://127.0.0.1:" + full.getLocalPort(), 1));
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
        assertThrows(IllegalArgumentException.class, () -> standalone(refusedUrl, 0));
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
        MasterCheck.requireClusterManager("yarn", SparkContexts::pluggedIn);
        IllegalArgumentException yarn = assertThrows(IllegalArgumentException.class,
            () -> MasterCheck.requireClusterManager("yarn", master -> false));
        assertEquals("--master (yarn) needs Spark's YARN support (spark-yarn_2.12), which is not on this JVM's class"
            + " path: submit the job with spark-submit (PROPERTIES_FILE=conf/yarn.conf.template"
            + " scripts/submit-cluster.sh yarn [options]: the generated Spark home has it)", yarn.getMessage());
        IllegalArgumentException k8s = assertThrows(IllegalArgumentException.class, () -> MasterCheck.require(
            new org.apache.spark.SparkConf(false).setMaster("k8s://https://10.0.0.1:6443"), NONE, 5));
        assertEquals("--master (k8s://https://10.0.0.1:6443) needs Spark's Kubernetes support (spark-kubernetes_2.12),"
            + " which is not on this JVM's class path: submit the job with spark-submit from a Spark distribution that"
            + " has it (scripts/spark-submit uses $SPARK_HOME's)", k8s.getMessage());
        MasterCheck.require(new org.apache.spark.SparkConf(false).setMaster("local[2]"), NONE, 5);
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

    /**
     * YARN's ResourceManager, found as YARN's client finds it, is asked for a connection too: YARN's client retried an
     * absent one for 15 minutes (yarn.resourcemanager.connect.max-wait.ms) without a line on the terminal.
     */
    @Test
    void anAbsentYarnResourceManagerIsOneLineInSeconds() throws Exception {
        assertEquals(List.of("0.0.0.0:8032"), MasterCheck.resourceManagers(NONE), "YARN's defaults");
        Configuration named = new Configuration(false);
        named.set("yarn.resourcemanager.hostname", "rm.example");
        assertEquals(List.of("rm.example:8032"), MasterCheck.resourceManagers(named));
        named.set("yarn.resourcemanager.address", "rm.example:8050");
        assertEquals(List.of("rm.example:8050"), MasterCheck.resourceManagers(named));
        Configuration ha = new Configuration(false);
        ha.set("yarn.resourcemanager.ha.enabled", "true");
        ha.set("yarn.resourcemanager.ha.rm-ids", "rm1, rm2");
        ha.set("yarn.resourcemanager.hostname.rm1", "a.example");
        ha.set("yarn.resourcemanager.address.rm2", "b.example:8050");
        assertEquals(List.of("a.example:8032", "b.example:8050"), MasterCheck.resourceManagers(ha));

        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        org.apache.spark.SparkConf yarn = new org.apache.spark.SparkConf(false).setMaster("yarn");
        Configuration absent = new Configuration(false);
        absent.set("yarn.resourcemanager.address", "127.0.0.1:" + closed);
        long t0 = System.nanoTime();
        var refused = assertThrows(dev.sparkmnist.runs.Stores.UnreachableStoreException.class,
            () -> MasterCheck.require(yarn, absent, 5));
        assertEquals("--master (yarn): no YARN ResourceManager answers: 127.0.0.1:" + closed + " refused the connection"
            + " (Connection refused); start it, or name it in yarn.resourcemanager.address of HADOOP_CONF_DIR's"
            + " yarn-site.xml", refused.getMessage());
        assertEquals(true, (System.nanoTime() - t0) / 1e9 < 5, "at once");
        try (java.net.ServerSocket rm = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Configuration pair = new Configuration(false);
            pair.set("yarn.resourcemanager.ha.enabled", "true");
            pair.set("yarn.resourcemanager.ha.rm-ids", "rm1,rm2");
            pair.set("yarn.resourcemanager.address.rm1", "127.0.0.1:" + closed);
            pair.set("yarn.resourcemanager.address.rm2", "127.0.0.1:" + rm.getLocalPort());
            MasterCheck.require(yarn, pair, 5); // the active one of an HA pair answers
        }
    }
}
