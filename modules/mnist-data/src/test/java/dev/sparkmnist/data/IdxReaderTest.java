package dev.sparkmnist.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkmnist.data.testing.TestData;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
    private final Configuration conf = new Configuration();

    @TempDir
    Path dir;

    @Test
    void readsHeaderAndRecordsOfRawFile() {
        TestData.writeTinySet(dir, "img", "lab", 5);
        String path = dir.resolve("img").toString();
        IdxHeader h = IdxReader.readAndValidate(path, IdxKind.IMAGES, conf);
        assertEquals(new IdxHeader(IdxKind.IMAGES, 5, 2, 2), h);
        byte[][] r = IdxReader.readRecords(path, h, new long[] {1, 3, 4}, conf);
        assertArrayEquals(new byte[] {4, 5, 6, 7}, r[0]);
        assertArrayEquals(new byte[] {12, 13, 14, 15}, r[1]);
        assertArrayEquals(new byte[] {16, 17, 18, 19}, r[2]);
    }

    @Test
    void gzippedFileReadsTheSameRecords() {
        TestData.writeTinySet(dir, "img", "lab", 7);
        TestData.writeTinySet(dir, "img.gz", "lab.gz", 7);
        IdxHeader raw = IdxReader.readAndValidate(dir.resolve("img").toString(), IdxKind.IMAGES, conf);
        IdxHeader gz = IdxReader.readAndValidate(dir.resolve("img.gz").toString(), IdxKind.IMAGES, conf);
        assertEquals(raw, gz);
        long[] idx = {0, 2, 6};
        byte[][] a = IdxReader.readRecords(dir.resolve("img").toString(), raw, idx, conf);
        byte[][] b = IdxReader.readRecords(dir.resolve("img.gz").toString(), gz, idx, conf);
        for (int i = 0; i < idx.length; i++) {
            assertArrayEquals(a[i], b[i]);
        }
    }

    @Test
    void realMnistSliceHasTheExpectedShape() {
        MnistSet train = MnistSet.trainFrom(TestData.sliceDir(), conf);
        assertEquals(TestData.SLICE_TRAIN, train.size());
        assertEquals(784, train.pixels());
        // The first MNIST training label is a 5 (the well-known first digit).
        byte[][] label = IdxReader.readRecords(train.labelsPath(), train.labelsHeader(), new long[] {0}, conf);
        assertEquals(5, label[0][0]);
    }

    @Test
    void wrongMagicNumberIsRefused() {
        Path f = TestData.writeLabels(dir.resolve("lab"), 3, new byte[] {1, 2, 3});
        InvalidInputException e = assertThrows(InvalidInputException.class,
            () -> IdxReader.readAndValidate(f.toString(), IdxKind.IMAGES, conf));
        assertEquals(f + ": wrong magic number 0x00000801, expected 0x00000803 for an idx images file",
            e.getMessage());
    }

    @Test
    void truncatedRawFileIsRefused() throws Exception {
        TestData.writeTinySet(dir, "img", "lab", 5);
        Path f = dir.resolve("img");
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 3));
        InvalidInputException e = assertThrows(InvalidInputException.class,
            () -> IdxReader.readAndValidate(f.toString(), IdxKind.IMAGES, conf));
        assertEquals(f.toUri().getPath().replaceAll("/$", "") + ": file is 33 bytes, header says 5 records x 4 bytes"
            + " + 16 header bytes = 36 (truncated or padded file)", e.getMessage());
    }

    @Test
    void truncatedGzipFileIsRefused() {
        byte[] header = ByteBuffer.allocate(8).putInt(0x801).putInt(10).array();
        Path f = TestData.write(dir.resolve("lab.gz"), header, new byte[] {1, 2, 3});
        InvalidInputException e = assertThrows(InvalidInputException.class,
            () -> IdxReader.readAndValidate(f.toString(), IdxKind.LABELS, conf));
        assertEquals(f + ": LABELS data is 3 bytes after decompression, header says 10 records x 1 bytes = 10"
            + " (truncated or padded file)", e.getMessage());
    }

    @Test
    void truncatedHeaderIsRefused() {
        Path f = TestData.write(dir.resolve("img"), new byte[] {0, 0, 8, 3, 0, 0}, new byte[0]);
        InvalidInputException e = assertThrows(InvalidInputException.class,
            () -> IdxReader.readAndValidate(f.toString(), IdxKind.IMAGES, conf));
        assertEquals(f + ": truncated header (fewer than 16 bytes)", e.getMessage());
    }

    @Test
    void zeroCountAndAbsurdDimensionsAreRefused() {
        Path zero = TestData.writeLabels(dir.resolve("zero"), 0, new byte[0]);
        assertEquals(zero + ": record count 0 must be > 0", assertThrows(InvalidInputException.class,
            () -> IdxReader.readAndValidate(zero.toString(), IdxKind.LABELS, conf)).getMessage());
        Path dims = TestData.writeImages(dir.resolve("dims"), 1, 0, 28, new byte[0]);
        assertEquals(dims + ": image dimensions 0x28 must each be in 1..4096", assertThrows(
            InvalidInputException.class,
            () -> IdxReader.readAndValidate(dims.toString(), IdxKind.IMAGES, conf)).getMessage());
    }

    @Test
    void missingFileIsNamed() {
        String missing = dir.resolve("nope").toString();
        assertEquals(missing + ": file not found", assertThrows(InvalidInputException.class,
            () -> IdxReader.readAndValidate(missing, IdxKind.IMAGES, conf)).getMessage());
    }

    @Test
    void countMismatchBetweenImagesAndLabelsIsRefused() {
        TestData.writeTinySet(dir, "img", "lab", 5);
        TestData.writeLabels(dir.resolve("lab4"), 4, new byte[] {0, 1, 2, 3});
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> MnistSet.open(Role.TEST,
            dir.resolve("img").toString(), dir.resolve("lab4").toString(), conf));
        assertEquals(dir.resolve("img") + " has 5 images but " + dir.resolve("lab4")
            + " has 4 labels: counts must be equal", e.getMessage());
    }

    @Test
    void labelOutOfRangeIsRefused() {
        TestData.writeTinySet(dir, "img", "lab", 3);
        TestData.writeLabels(dir.resolve("bad"), 3, new byte[] {0, 12, 1});
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> MnistSet.open(Role.TEST,
            dir.resolve("img").toString(), dir.resolve("bad").toString(), conf));
        assertEquals(dir.resolve("bad") + ": label 12 at record 1 must be in 0..9", e.getMessage());
    }

    @Test
    void missingSplitFilesSayWhatToDo() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
            () -> MnistSet.testFrom(dir.toString(), conf));
        assertEquals(dir + ": neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz exists (run"
            + " scripts/fetch-mnist.sh, or point --data-dir at the idx files)", e.getMessage());
    }

    @Test
    void trainingFilesCannotBeUsedAsTestSet() {
        String train = TestData.sliceDir() + "/train-images-idx3-ubyte.gz";
        InvalidInputException e = assertThrows(InvalidInputException.class,
            () -> MnistSet.testFiles(train, TestData.sliceDir() + "/t10k-labels-idx1-ubyte.gz", conf));
        assertEquals(train + ": is a training file; evaluation runs on held-out data only (t10k-* or your own"
            + " test idx files)", e.getMessage());
    }

    @Test
    void recordIndicesMustBeAscendingAndInRange() {
        TestData.writeTinySet(dir, "img", "lab", 3);
        String p = dir.resolve("img").toString();
        IdxHeader h = IdxReader.readAndValidate(p, IdxKind.IMAGES, conf);
        assertThrows(IllegalArgumentException.class, () -> IdxReader.readRecords(p, h, new long[] {2, 1}, conf));
        assertThrows(IllegalArgumentException.class, () -> IdxReader.readRecords(p, h, new long[] {3}, conf));
    }
}
