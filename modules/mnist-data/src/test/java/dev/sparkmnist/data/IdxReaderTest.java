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

    /**
     * Raw files are read in runs of nearby records ({@link IdxReader#GAP_BYTES}, {@link IdxReader#RUN_BYTES}): every
     * pattern of indices gives each record's own bytes, whether it was read in a run, split from a run too long, or
     * read alone after a seek.
     */
    @Test
    void runsOfNearbyRecordsReadEachRecordsOwnBytes() {
        int count = 3000;
        int size = 28 * 28; // 2.2 MB of records: runs longer than RUN_BYTES split
        byte[] pixels = new byte[count * size];
        java.util.Random random = new java.util.Random(7);
        random.nextBytes(pixels);
        byte[] labels = new byte[count * 20];
        random.nextBytes(labels);
        String images = TestData.writeImages(dir.resolve("img"), count, 28, 28, pixels).toString();
        String labelsPath = TestData.writeLabels(dir.resolve("lab"), labels.length, labels).toString();
        IdxHeader h = IdxReader.readAndValidate(images, IdxKind.IMAGES, conf);
        IdxHeader lh = IdxReader.readAndValidate(labelsPath, IdxKind.LABELS, conf);
        int together = IdxReader.GAP_BYTES / size + 1; // the widest stride read in one run: a gap of GAP_BYTES or less
        assertEquals(true, (long) (together - 1) * size <= IdxReader.GAP_BYTES
            && (long) together * size > IdxReader.GAP_BYTES, "stride " + together);
        java.util.List<long[]> patterns = new java.util.ArrayList<>();
        patterns.add(java.util.stream.LongStream.range(0, count).toArray());
        patterns.add(java.util.stream.LongStream.range(0, count).filter(i -> i % together == 3).toArray());
        patterns.add(java.util.stream.LongStream.range(0, count).filter(i -> i % (together + 1) == 0).toArray());
        patterns.add(java.util.stream.LongStream.range(0, count).filter(i -> random.nextInt(8) == 0).toArray());
        patterns.add(new long[] {0, 1, 2, 500, 501, 502 + together, count - 2, count - 1});
        patterns.add(new long[] {count - 1});
        for (long[] idx : patterns) {
            long before = bytesReadByThisThread();
            byte[][] r = IdxReader.readRecords(images, h, idx, conf);
            long read = bytesReadByThisThread() - before;
            long used = (long) idx.length * size;
            long span = (idx[idx.length - 1] - idx[0] + 1) * size;
            // What a reader copies: the records, the gaps of GAP_BYTES or less between them, and the header's read.
            assertEquals(true, read >= used && read <= Math.min(span, used * together) + 2L * size,
                "read " + read + " bytes for " + used + " bytes of records spanning " + span);
            if (idx == patterns.get(2)) {
                assertEquals(true, read <= used + 2L * size, "records farther apart than GAP_BYTES are read alone: "
                    + read + " bytes for " + used);
            }
            assertEquals(idx.length, r.length);
            for (int i = 0; i < idx.length; i++) {
                int at = (int) idx[i] * size;
                assertArrayEquals(Arrays.copyOfRange(pixels, at, at + size), r[i], "record " + idx[i]);
            }
        }
        // Labels: one-byte records, sparse enough for gaps over GAP_BYTES too.
        long[] sparse = {0, 1, 5, 5L + IdxReader.GAP_BYTES, 6L + IdxReader.GAP_BYTES + IdxReader.GAP_BYTES,
            labels.length - 1};
        for (long[] idx : java.util.List.of(sparse, java.util.stream.LongStream.range(0, labels.length).toArray())) {
            byte[][] r = IdxReader.readRecords(labelsPath, lh, idx, conf);
            for (int i = 0; i < idx.length; i++) {
                assertArrayEquals(new byte[] {labels[(int) idx[i]]}, r[i], "label " + idx[i]);
            }
        }
    }

    /** A run ends before its bytes would pass RUN_BYTES and before a gap of more than GAP_BYTES. */
    @Test
    void runsEndAtRunBytesAndAtWideGaps() {
        int count = 3000;
        int size = 28 * 28;
        String images = TestData.writeImages(dir.resolve("runs"), count, 28, 28, new byte[count * size]).toString();
        IdxHeader h = IdxReader.readAndValidate(images, IdxKind.IMAGES, conf);
        long[] dense = java.util.stream.LongStream.range(0, count).toArray();
        int end = IdxReader.runEnd(images, h, dense, 0, size);
        assertEquals(IdxReader.RUN_BYTES / size - 1, end, "the longest run of adjacent records");
        assertEquals(true, (long) (end + 1) * size <= IdxReader.RUN_BYTES && (long) (end + 2) * size
            > IdxReader.RUN_BYTES, "run of " + (end + 1) + " records");
        assertEquals(end + 1 + end, IdxReader.runEnd(images, h, dense, end + 1, size), "the next run");
        assertEquals(count - 1, IdxReader.runEnd(images, h, dense, count - 10, size), "the last run ends the indices");
        int joined = IdxReader.GAP_BYTES / size; // records skipped: a gap of GAP_BYTES or less
        long[] gaps = {0, 1, 2L + joined, 3L + joined + joined + 1, 4L + 2 * joined + 1};
        assertEquals(2, IdxReader.runEnd(images, h, gaps, 0, size), "a gap of " + joined * size + " bytes joins, one of "
            + (joined + 1) * size + " splits");
        assertEquals(4, IdxReader.runEnd(images, h, gaps, 3, size), "the next run");
    }

    /** Bytes this thread has read through Hadoop's local file system. */
    private static long bytesReadByThisThread() {
        return org.apache.hadoop.fs.FileSystem.getAllStatistics().stream().filter(s -> "file".equals(s.getScheme()))
            .mapToLong(s -> s.getThreadStatistics().getBytesRead()).sum();
    }
}
