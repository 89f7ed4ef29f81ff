package dev.sparkmnist.app;

import dev.sparkmnist.runs.RunLayout;
import dev.sparkmnist.runs.RunFiles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkmnist.data.testing.TestData;
import java.io.File;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster path: two executor JVMs (Spark's local-cluster master: a real Master and Workers) reading their slices
 * from a real HDFS (MiniDFSCluster) and the driver writing model, metrics and provenance back to it.
 */
@Timeout(900)
class ClusterHdfsIT {
    @TempDir
    static Path tmp;
    private static MiniDFSCluster hdfs;
    private static String hdfsUri;

    @BeforeAll
    static void startHdfs() throws Exception {
        // local-cluster executors are launched from SPARK_HOME/jars (empty here; the classpath comes from
        // spark.executor.extraClassPath). The test plugins set SPARK_HOME; the directory is made here.
        String sparkHome = System.getenv("SPARK_HOME");
        assertTrue(sparkHome != null, "the test plugins (pom.xml) must set SPARK_HOME for local-cluster tests");
        Files.createDirectories(Path.of(sparkHome, "jars"));
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, tmp.resolve("hdfs").toString());
        hdfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        hdfs.waitActive();
        hdfsUri = hdfs.getURI().toString();
        FileSystem fs = hdfs.getFileSystem();
        fs.mkdirs(new org.apache.hadoop.fs.Path("/mnist"));
        for (File f : new File(TestData.sliceDir()).listFiles((d, n) -> n.endsWith(".gz"))) {
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(f.toURI()), new org.apache.hadoop.fs.Path("/mnist"));
        }
    }

    @AfterAll
    static void stopHdfs() {
        if (hdfs != null) {
            hdfs.shutdown();
        }
    }

    private static List<String> clusterArgs() {
        return List.of("--master", "local-cluster[2,1,1024]",
            "--conf", "spark.ui.enabled=false",
            "--conf", "spark.executor.extraClassPath=" + System.getProperty("java.class.path"),
            "--conf", "spark.executorEnv.SPARK_SCALA_VERSION=2.12",
            "--conf", "spark.executorEnv.SPARK_LOCAL_IP=127.0.0.1",
            "--conf", "spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.maxbytes=2G"
                + " -Dorg.bytedeco.javacpp.maxphysicalbytes=3G",
            "--conf", "spark.cores.max=2",
            "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
            "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=120s",
            "--conf", "spark.hadoop.fs.defaultFS=" + hdfsUri);
    }

    private static String[] args(List<String> head) {
        return java.util.stream.Stream.concat(head.stream(), clusterArgs().stream()).toArray(String[]::new);
    }

    @Test
    void trainsOnTwoExecutorJvmsFromHdfsAndWritesOutputsToHdfs() throws Exception {
        String out = hdfsUri + "/runs/cluster";
        CliIT.Run train = CliIT.run(args(List.of("train", "--model", "mlp", "--epochs", "2",
            "--data-dir", hdfsUri + "/mnist", "--output", out)));
        assertEquals(0, train.exit(), train.err());

        FileSystem fs = hdfs.getFileSystem();
        for (String f : List.of("model.zip", "metrics.json", "metrics.csv", "evaluation.txt", "provenance.json")) {
            assertTrue(fs.getFileStatus(new org.apache.hadoop.fs.Path("/runs/cluster/" + f)).getLen() > 0, f);
        }
        JsonNode metrics;
        JsonNode prov;
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path("/runs/cluster/metrics.json"))) {
            metrics = RunLayout.JSON.readTree(in);
        }
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path("/runs/cluster/provenance.json"))) {
            prov = RunLayout.JSON.readTree(in);
        }
        double accuracy = metrics.get("test").get("accuracy").asDouble();
        // Floor for 2 MLP epochs on the 2,000-example slice; measured 0.87-0.90.
        assertTrue(accuracy >= 0.80, "test accuracy " + accuracy);
        assertEquals(2000, metrics.get("epochs").get(1).get("examplesTrained").asInt());

        JsonNode jvms = prov.get("trainerJvms");
        String driver = ManagementFactory.getRuntimeMXBean().getName();
        assertEquals(2, jvms.size(), "two executor JVMs trained: " + jvms);
        jvms.forEach(j -> assertFalse(j.asText().equals(driver), "the driver JVM trained: " + jvms));
        assertTrue(prov.get("data").fieldNames().next().startsWith("hdfs://"), prov.get("data").toString());

        // the model on HDFS loads and scores the same accuracy
        Path evalOut = tmp.resolve("eval");
        CliIT.Run eval = CliIT.run(args(List.of("evaluate", "--model-path", out + "/model.zip",
            "--data-dir", hdfsUri + "/mnist", "--output", evalOut.toUri().toString())));
        assertEquals(0, eval.exit(), eval.err());
        JsonNode e = RunLayout.JSON.readTree(evalOut.resolve("evaluation.json").toFile());
        assertEquals(accuracy, e.get("report").get("accuracy").asDouble(), 0);
    }

    /**
     * One Hadoop configuration: a spark.hadoop.* setting reaches the driver's own reads and writes. In a single-JVM
     * run every path is the driver's; scheme-less paths resolve against the fs.defaultFS given only as
     * spark.hadoop.fs.defaultFS, so the data is read from HDFS and the outputs, report and checkpoints land there.
     */
    @Test
    void sparkHadoopSettingsReachTheDriversOwnPaths() throws Exception {
        CliIT.Run train = CliIT.run("train", "--mode", "local", "--model", "mlp", "--epochs", "1",
            "--data-dir", "/mnist", "--output", "/runs/driver-only", "--checkpoint-dir", "/ckpt/driver-only",
            "--conf", "spark.hadoop.fs.defaultFS=" + hdfsUri);
        assertEquals(0, train.exit(), train.err());
        FileSystem fs = hdfs.getFileSystem();
        for (String f : List.of("/runs/driver-only/metrics.json", "/runs/driver-only/report.html",
            "/runs/driver-only/charts/loss.png", "/ckpt/driver-only/epoch-001.zip")) {
            assertTrue(fs.exists(new org.apache.hadoop.fs.Path(f)), f + " on HDFS");
        }
        assertFalse(Files.exists(Path.of("/runs/driver-only")), "nothing on the local disk");
        assertFalse(Files.exists(Path.of("/mnist")), "the data can only have come from HDFS");
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path("/runs/driver-only/provenance.json"))) {
            String data = RunLayout.JSON.readTree(in).get("data").fieldNames().next();
            // recorded qualified: the scheme-less /mnist resolved against the default file system, HDFS
            assertTrue(data.startsWith(hdfsUri + "/mnist/"), data);
        }
    }
}
