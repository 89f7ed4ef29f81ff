package dev.sparkmnist.app;

import dev.sparkmnist.runs.RunLayout;
import dev.sparkmnist.runs.RunFiles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkmnist.data.testing.TestData;
import java.io.File;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * s3a:// for real: S3Proxy (a real S3-compatible server, filesystem back end) started on 127.0.0.1 in its own JVM;
 * MNIST read from s3a://, model, metrics, report and checkpoints written to s3a://, the model read back and scored.
 */
@Timeout(600)
class S3aIT {
    private static final String BUCKET = "mnist-bucket";
    private static final String ACCESS = "local-identity";
    private static final String SECRET = "local-credential";
    @TempDir
    static Path tmp;
    private static Process proxy;
    private static String endpoint;

    @BeforeAll
    static void startS3Proxy() throws Exception {
        File jar = new File("target/s3proxy/s3proxy.jar");
        assertTrue(jar.isFile(), "S3Proxy jar copied by the build: " + jar.getAbsolutePath());
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        endpoint = "http://127.0.0.1:" + port;
        Path store = Files.createDirectories(tmp.resolve("store").resolve(BUCKET)).getParent();
        Path props = tmp.resolve("s3proxy.properties");
        Files.writeString(props, String.join("\n",
            "s3proxy.endpoint=" + endpoint,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + ACCESS,
            "s3proxy.credential=" + SECRET,
            "jclouds.provider=filesystem",
            "jclouds.filesystem.basedir=" + store) + "\n");
        String java = ProcessHandle.current().info().command().orElse("java");
        proxy = new ProcessBuilder(java, "-Xmx256m", "-jar", jar.getAbsolutePath(), "--properties", props.toString())
            .redirectErrorStream(true).redirectOutput(tmp.resolve("s3proxy.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                break;
            } catch (java.io.IOException notYet) {
                assertTrue(proxy.isAlive() && System.nanoTime() < deadline,
                    "S3Proxy did not start: " + Files.readString(tmp.resolve("s3proxy.log")));
                Thread.sleep(100);
            }
        }
        FileSystem s3 = FileSystem.get(URI.create("s3a://" + BUCKET + "/"), hadoop());
        for (File f : new File(TestData.sliceDir()).listFiles((d, n) -> n.endsWith(".gz"))) {
            s3.copyFromLocalFile(new org.apache.hadoop.fs.Path(f.toURI()),
                new org.apache.hadoop.fs.Path("s3a://" + BUCKET + "/mnist/" + f.getName()));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        FileSystem.closeAll();
        if (proxy != null) {
            proxy.destroy();
            proxy.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The S3A settings, as a user passes them: spark.hadoop.* on the command line. */
    private static List<String> s3aConf() {
        List<String> args = new ArrayList<>();
        for (String[] kv : new String[][] {{"fs.s3a.endpoint", endpoint}, {"fs.s3a.path.style.access", "true"},
            {"fs.s3a.connection.ssl.enabled", "false"}, {"fs.s3a.access.key", ACCESS},
            {"fs.s3a.secret.key", SECRET}, {"fs.s3a.endpoint.region", "us-east-1"},
            {"fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"},
            // keep directory markers: no bulk delete of parent markers after every write (S3Proxy hung on it)
            {"fs.s3a.directory.marker.retention", "keep"}, {"fs.s3a.connection.timeout", "30000"}}) {
            args.add("--conf");
            args.add("spark.hadoop." + kv[0] + "=" + kv[1]);
        }
        return args;
    }

    private static Configuration hadoop() {
        Configuration conf = new Configuration();
        List<String> args = s3aConf();
        for (int i = 1; i < args.size(); i += 2) {
            String kv = args.get(i).substring("spark.hadoop.".length());
            conf.set(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        return conf;
    }

    private static String[] cli(String... head) {
        List<String> args = new ArrayList<>(List.of(head));
        args.addAll(List.of("--master", "local[2]", "--conf", "spark.ui.enabled=false"));
        args.addAll(s3aConf());
        return args.toArray(String[]::new);
    }

    /**
     * A real S3 server that rejects the credentials fails the command at once with one line naming the option, the
     * bucket, the endpoint and the refusal (exit 2: the user's value), without the secret; a bucket that does not
     * exist is named (exit 2).
     */
    @Test
    void wrongCredentialsAndMissingBucketsAreOneLine() {
        List<String> wrong = new ArrayList<>(List.of(cli("train", "--model", "mlp", "--epochs", "1", "--data-dir",
            "s3a://" + BUCKET + "/mnist", "--output", tmp.resolve("wrong").toString())));
        wrong.addAll(List.of("--conf", "spark.hadoop.fs.s3a.secret.key=not-the-credential")); // the later one wins
        long t0 = System.nanoTime();
        CliIT.Run denied = CliIT.run(wrong.toArray(String[]::new));
        assertEquals(2, denied.exit(), denied.err());
        assertTrue(denied.err().startsWith("error: --data-dir (s3a://" + BUCKET + "/mnist): the S3A bucket " + BUCKET
            + " at " + endpoint + " refused access: "), denied.err());
        assertEquals(1, denied.err().strip().lines().count(), denied.err());
        assertTrue(!denied.err().contains("not-the-credential") && !denied.err().contains(SECRET), denied.err());
        assertTrue((System.nanoTime() - t0) / 1e9 < 60, "at once, not after S3A's retries");
        CliIT.Run missing = CliIT.run(cli("evaluate", "--model-path", "s3a://no-such-bucket/model.zip"));
        assertEquals(2, missing.exit(), missing.err());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());
        assertEquals("error: --model-path (s3a://no-such-bucket/model.zip): the S3A bucket no-such-bucket at "
            + endpoint + " does not exist", missing.err().strip());
    }

    @Test
    void trainsFromAndWritesToS3() throws Exception {
        String base = "s3a://" + BUCKET;
        CliIT.Run train = CliIT.run(cli("train", "--model", "mlp", "--epochs", "2", "--data-dir", base + "/mnist",
            "--output", base + "/runs/s3", "--checkpoint-dir", base + "/ckpt"));
        assertEquals(0, train.exit(), train.err());
        FileSystem s3 = FileSystem.get(URI.create(base + "/"), hadoop());
        for (String f : List.of("runs/s3/model.zip", "runs/s3/metrics.json", "runs/s3/report.html",
            "runs/s3/charts/confusion.png", "runs/s3/_SUCCESS", "ckpt/epoch-002.zip", "ckpt/_epoch-002.zip.SUCCESS",
            "ckpt/metrics.json")) {
            assertTrue(s3.exists(new org.apache.hadoop.fs.Path(base + "/" + f)), f + " in the bucket");
        }
        JsonNode metrics;
        try (InputStream in = s3.open(new org.apache.hadoop.fs.Path(base + "/runs/s3/metrics.json"))) {
            metrics = RunLayout.JSON.readTree(in);
        }
        assertEquals(2000, metrics.get("epochs").get(1).get("examplesTrained").asInt());
        double accuracy = metrics.get("test").get("accuracy").asDouble();
        assertTrue(accuracy >= 0.80, "test accuracy " + accuracy);

        // the model read back from the bucket scores the same
        Path evalOut = tmp.resolve("eval");
        CliIT.Run eval = CliIT.run(cli("evaluate", "--model-path", base + "/runs/s3/model.zip", "--data-dir",
            base + "/mnist", "--output", evalOut.toUri().toString()));
        assertEquals(0, eval.exit(), eval.err());
        assertEquals(accuracy, RunLayout.JSON.readTree(evalOut.resolve("evaluation.json").toFile()).get("report")
            .get("accuracy").asDouble(), 0);

        // --resume from the bucket's checkpoints: a 3rd epoch on top of the 2 there
        CliIT.Run resumed = CliIT.run(cli("train", "--model", "mlp", "--epochs", "3", "--data-dir", base + "/mnist",
            "--output", base + "/runs/s3-resumed", "--checkpoint-dir", base + "/ckpt", "--resume"));
        assertEquals(0, resumed.exit(), resumed.err());
        try (InputStream in = s3.open(new org.apache.hadoop.fs.Path(base + "/runs/s3-resumed/metrics.json"))) {
            assertEquals(3, RunLayout.JSON.readTree(in).get("epochs").size(), "epochs 1-2 carried, 3 trained");
        }
    }
}
