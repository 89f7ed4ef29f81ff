package dev.sparkmnist.runs;

import dev.sparkmnist.data.MnistSet;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/** Facts that make a run reproducible: versions, data checksums, git commit. */
public final class Provenance {
    /** SHA-256 of the original MNIST idx files (uncompressed), to say whether the data is the real thing. */
    static final Map<String, String> MNIST_SHA256 = Map.of(
        MnistSet.TRAIN_IMAGES, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        MnistSet.TRAIN_LABELS, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        MnistSet.TEST_IMAGES, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        MnistSet.TEST_LABELS, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");

    private Provenance() {
    }

    /** Versions this build was made with, and the runtime's. */
    static Map<String, String> versions(String sparkRuntimeVersion) {
        Properties p = new Properties();
        try (InputStream in = Provenance.class.getResourceAsStream("/sparkmnist-build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> v = new LinkedHashMap<>();
        p.stringPropertyNames().stream().sorted().forEach(k -> v.put(k, p.getProperty(k)));
        v.put("spark.runtime", sparkRuntimeVersion);
        v.put("java", System.getProperty("java.version"));
        return v;
    }

    /** SHA-256 of a file's bytes as stored (a .gz is hashed compressed). */
    static String sha256(String path, Configuration conf) {
        Path p = new Path(path);
        try (InputStream in = p.getFileSystem(conf).open(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot be read for its checksum", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Path, SHA-256, and whether it is the original MNIST file, for each file of a set. */
    static Map<String, Object> dataFiles(MnistSet set, Configuration conf) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String path : new String[] {set.imagesPath(), set.labelsPath()}) {
            String sha = sha256(path, conf);
            String name = new Path(path).getName();
            out.put(path, Map.of("sha256", sha, "originalMnist", sha.equals(MNIST_SHA256.get(name))));
        }
        return out;
    }

    /** The git commit of the working directory, or null when not in a git checkout. */
    static String gitCommit() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0 && out.matches("[0-9a-f]{40}")) {
                return out;
            }
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }
}
