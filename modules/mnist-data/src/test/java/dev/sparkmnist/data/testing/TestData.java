package dev.sparkmnist.data.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.zip.GZIPOutputStream;

/** Test data shared by every module's tests: the real MNIST slice and tiny hand-made idx files. */
public final class TestData {
    /** Examples in the slice's training files. */
    public static final int SLICE_TRAIN = 2000;
    /** Examples in the slice's test files. */
    public static final int SLICE_TEST = 500;

    private TestData() {
    }

    /** Directory holding the MNIST slice (train 2,000 / t10k 500, gzipped). */
    public static String sliceDir() {
        String base = System.getProperty("mnist.test.resources");
        Path dir = base != null ? Paths.get(base, "mnist-slice")
            : Paths.get("..", "mnist-data", "src", "test", "resources", "mnist-slice");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("MNIST test slice not found at " + dir.toAbsolutePath());
        }
        return dir.toAbsolutePath().normalize().toString();
    }

    /** Writes an idx3 images file: magic 0x803, count, rows, cols, then the pixels. */
    public static Path writeImages(Path file, int count, int rows, int cols, byte[] pixels) {
        ByteBuffer header = ByteBuffer.allocate(16).putInt(0x803).putInt(count).putInt(rows).putInt(cols);
        return write(file, header.array(), pixels);
    }

    /** Writes an idx1 labels file: magic 0x801, count, then the labels. */
    public static Path writeLabels(Path file, int count, byte[] labels) {
        ByteBuffer header = ByteBuffer.allocate(8).putInt(0x801).putInt(count);
        return write(file, header.array(), labels);
    }

    /** Writes header + body, gzipped when the name ends in .gz. */
    public static Path write(Path file, byte[] header, byte[] body) {
        try {
            Files.createDirectories(file.getParent());
            try (OutputStream raw = Files.newOutputStream(file);
                 OutputStream out = file.toString().endsWith(".gz") ? new GZIPOutputStream(raw) : raw) {
                out.write(header);
                out.write(body);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes a tiny deterministic MNIST-shaped set into {@code dir} under the given file names: {@code n} 2x2
     * images whose pixel k of image i is {@code (i * 4 + k) % 256}, labels {@code i % 10}.
     */
    public static void writeTinySet(Path dir, String images, String labels, int n) {
        byte[] pixels = new byte[n * 4];
        byte[] lab = new byte[n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 4; k++) {
                pixels[i * 4 + k] = (byte) ((i * 4 + k) % 256);
            }
            lab[i] = (byte) (i % 10);
        }
        writeImages(dir.resolve(images), n, 2, 2, pixels);
        writeLabels(dir.resolve(labels), n, lab);
    }
}
