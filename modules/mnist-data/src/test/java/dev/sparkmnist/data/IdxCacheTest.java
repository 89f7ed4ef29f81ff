package dev.sparkmnist.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.testing.TestData;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxCacheTest {
    private static final long BUDGET = 1 << 20;
    private final Configuration conf = new Configuration();

    @TempDir
    Path dir;

    @BeforeEach
    @AfterEach
    void empty() {
        IdxCache.clear();
        System.clearProperty(IdxCache.PROPERTY);
    }

    /** Every record of the file, read from the store, one after another. */
    private byte[] fromStore(String path, IdxHeader header) {
        long[] all = new long[header.count()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        byte[][] records = IdxReader.readRecords(path, header, all, conf);
        byte[] flat = new byte[header.count() * header.recordBytes()];
        for (int i = 0; i < records.length; i++) {
            System.arraycopy(records[i], 0, flat, i * header.recordBytes(), header.recordBytes());
        }
        return flat;
    }

    @Test
    void theRecordsOfARawAndAGzippedFileAreTheStoresAndASecondReadComesFromMemory() {
        TestData.writeTinySet(dir, "img", "lab", 9);
        TestData.writeTinySet(dir, "img.gz", "lab.gz", 9);
        for (String name : List.of("img", "img.gz", "lab", "lab.gz")) {
            String path = dir.resolve(name).toString();
            IdxHeader header = IdxReader.readAndValidate(path, name.startsWith("img") ? IdxKind.IMAGES
                : IdxKind.LABELS, conf);
            long loads = IdxCache.loads();
            byte[] first = IdxCache.records(path, header, conf, BUDGET);
            assertArrayEquals(fromStore(path, header), first, name);
            assertSame(first, IdxCache.records(path, header, conf, BUDGET), name);
            assertEquals(loads + 1, IdxCache.loads(), name + ": read once");
        }
    }

    @Test
    void aRewrittenFileIsReadAgain() throws Exception {
        TestData.writeTinySet(dir, "img", "lab", 5);
        String path = dir.resolve("img").toString();
        IdxHeader header = IdxReader.readAndValidate(path, IdxKind.IMAGES, conf);
        byte[] before = IdxCache.records(path, header, conf, BUDGET);
        FileTime written = Files.getLastModifiedTime(dir.resolve("img"));
        byte[] other = new byte[20];
        java.util.Arrays.fill(other, (byte) 200);
        TestData.writeImages(dir.resolve("img"), 5, 2, 2, other); // the same length and header
        Files.setLastModifiedTime(dir.resolve("img"), FileTime.fromMillis(written.toMillis() + 10_000));
        byte[] after = IdxCache.records(path, header, conf, BUDGET);
        assertArrayEquals(other, after);
        assertEquals(4, before[4], "the first read's array is not written over");
    }

    @Test
    void aFileOverTheBudgetOrTheSwitchOffLeavesTheReadToTheStore() {
        TestData.writeTinySet(dir, "img", "lab", 5);
        String images = dir.resolve("img").toString();
        String labels = dir.resolve("lab").toString();
        IdxHeader header = IdxReader.readAndValidate(images, IdxKind.IMAGES, conf);
        IdxHeader labelsHeader = IdxReader.readAndValidate(labels, IdxKind.LABELS, conf);
        assertNull(IdxCache.records(images, header, conf, 19), "20 bytes of records over a budget of 19");
        assertNotNull(IdxCache.records(images, header, conf, 20));
        assertNull(IdxCache.records(labels, labelsHeader, conf, 24), "5 more bytes over what is left of 24");
        System.setProperty(IdxCache.PROPERTY, "False");
        assertNull(IdxCache.records(images, header, conf, BUDGET));
        System.setProperty(IdxCache.PROPERTY, "yes"); // not true or false: on, with a warning
        assertNotNull(IdxCache.records(labels, labelsHeader, conf, BUDGET));
    }

    @Test
    void aFileShorterThanItsHeaderSaysIsOneLineNamingIt() {
        Path file = TestData.writeImages(dir.resolve("img"), 3, 2, 2, new byte[12]);
        IdxHeader claimed = new IdxHeader(IdxKind.IMAGES, 5, 2, 2);
        InvalidInputException e = assertThrows(InvalidInputException.class,
            () -> IdxCache.records(file.toString(), claimed, conf, BUDGET));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        Path cut = TestData.writeImages(dir.resolve("cut"), 5, 2, 2, new byte[12]); // its header says 5, 3 follow
        InvalidInputException truncated = assertThrows(InvalidInputException.class,
            () -> IdxCache.records(cut.toString(), claimed, conf, BUDGET));
        assertEquals(cut + ": truncated while reading records (file changed since it was validated?)",
            truncated.getMessage());
        InvalidInputException missing = assertThrows(InvalidInputException.class,
            () -> IdxCache.records(dir.resolve("none").toString(), claimed, conf, BUDGET));
        assertEquals(dir.resolve("none") + ": file not found", missing.getMessage());
    }

    @Test
    void tasksReadingAtOnceShareOneRead() throws Exception {
        TestData.writeTinySet(dir, "img", "lab", 50);
        String path = dir.resolve("img").toString();
        IdxHeader header = IdxReader.readAndValidate(path, IdxKind.IMAGES, conf);
        long loads = IdxCache.loads();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<byte[]>> reads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                reads.add(pool.submit(() -> {
                    start.await();
                    return IdxCache.records(path, header, conf, BUDGET);
                }));
            }
            start.countDown();
            byte[] first = reads.get(0).get();
            for (Future<byte[]> read : reads) {
                assertSame(first, read.get());
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(loads + 1, IdxCache.loads());
    }

    @Test
    void aGzippedSliceIsReadInChunksOnceTheCacheHoldsItAndGivesTheSameMinibatches() {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 50);
        MnistSet set = MnistSet.trainFrom(dir.toString(), conf);
        int[] order = PartitionPlan.epochOrder(50, 3L, 0);
        List<org.nd4j.linalg.dataset.DataSet> fromStore = new ArrayList<>();
        List<org.nd4j.linalg.dataset.DataSet> fromMemory = new ArrayList<>();
        System.setProperty(IdxCache.PROPERTY, "false");
        try (SliceReader reader = new SliceReader(set, order, 5, 10, Normalization.SCALE, conf)) {
            assertEquals(1, reader.chunkCount(), "decompressed once, as one chunk");
            for (var b = reader.next(); b != null; b = reader.next()) {
                fromStore.add(b);
            }
        }
        System.clearProperty(IdxCache.PROPERTY);
        long loads = IdxCache.loads();
        try (SliceReader reader = new SliceReader(set, order, 5, 10, Normalization.SCALE, conf)) {
            assertEquals(5, reader.chunkCount(), "chunks of 10 from the JVM's copy");
            for (var b = reader.next(); b != null; b = reader.next()) {
                fromMemory.add(b);
            }
        }
        assertEquals(loads + 2, IdxCache.loads());
        assertEquals(10, fromStore.size());
        assertEquals(fromStore.size(), fromMemory.size());
        for (int b = 0; b < fromStore.size(); b++) {
            assertEquals(fromStore.get(b).getFeatures(), fromMemory.get(b).getFeatures(), "minibatch " + b);
            assertEquals(fromStore.get(b).getLabels(), fromMemory.get(b).getLabels(), "minibatch " + b);
        }
    }

    @Test
    void batchesFromMemoryEqualBatchesFromTheStoreOnARealSlice() {
        MnistSet train = MnistSet.trainFrom(TestData.sliceDir(), conf);
        int[] order = PartitionPlan.epochOrder(train.size(), 7L, 1);
        int[] chunk = java.util.Arrays.copyOfRange(order, 100, 100 + 320);
        System.setProperty(IdxCache.PROPERTY, "false");
        var fromStore = MnistBatches.read(train, chunk, 64, Normalization.STANDARDIZE, conf);
        System.clearProperty(IdxCache.PROPERTY);
        long loads = IdxCache.loads();
        var fromMemory = MnistBatches.read(train, chunk, 64, Normalization.STANDARDIZE, conf);
        assertEquals(loads + 2, IdxCache.loads(), "the images and the labels read whole");
        assertEquals(fromStore.size(), fromMemory.size());
        for (int b = 0; b < fromStore.size(); b++) {
            assertEquals(fromStore.get(b).getFeatures(), fromMemory.get(b).getFeatures(), "batch " + b);
            assertEquals(fromStore.get(b).getLabels(), fromMemory.get(b).getLabels(), "batch " + b);
        }
        int[] outside = {3, train.size()};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> MnistBatches.read(train, outside, 2, Normalization.SCALE, conf));
        assertEquals(train.imagesPath() + ": record index " + train.size() + " must be in 0.." + (train.size() - 1),
            e.getMessage());
    }

    /** The local file system under the scheme {@code blocking:}, whose {@code open} waits until a test lets it go on. */
    public static final class BlockingFileSystem extends RawLocalFileSystem {
        static volatile CountDownLatch opened = new CountDownLatch(1);
        static volatile CountDownLatch release = new CountDownLatch(1);

        static Configuration on(Configuration conf) {
            Configuration c = new Configuration(conf);
            c.set("fs.blocking.impl", BlockingFileSystem.class.getName());
            c.setBoolean("fs.blocking.impl.disable.cache", true);
            return c;
        }

        @Override
        public URI getUri() {
            return URI.create("blocking:///");
        }

        @Override
        public String getScheme() {
            return "blocking";
        }

        @Override
        public FSDataInputStream open(org.apache.hadoop.fs.Path f, int bufferSize) throws IOException {
            opened.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new InterruptedIOException("interrupted");
            }
            return super.open(f, bufferSize);
        }
    }

    @Test
    void whileOneFileIsReadOtherFilesAreReadAndItsOwnReadersWaitForItsRecords() throws Exception {
        TestData.writeTinySet(dir, "img", "lab", 9);
        String images = dir.resolve("img").toString();
        String labels = dir.resolve("lab").toString();
        IdxHeader imagesHeader = IdxReader.readAndValidate(images, IdxKind.IMAGES, conf);
        IdxHeader labelsHeader = IdxReader.readAndValidate(labels, IdxKind.LABELS, conf);
        Configuration blocking = BlockingFileSystem.on(conf);
        String slow = "blocking://" + dir.resolve("img").toUri().getPath();
        BlockingFileSystem.opened = new CountDownLatch(1);
        BlockingFileSystem.release = new CountDownLatch(1);
        long loads = IdxCache.loads();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            Future<byte[]> first = pool.submit(() -> IdxCache.records(slow, imagesHeader, blocking, BUDGET));
            assertTrue(BlockingFileSystem.opened.await(30, TimeUnit.SECONDS), "the first read opens the file");
            Future<byte[]> second = pool.submit(() -> IdxCache.records(slow, imagesHeader, blocking, BUDGET));
            // another file, while the first one's read waits in the middle: not held up by it
            byte[] other = pool.submit(() -> IdxCache.records(labels, labelsHeader, conf, BUDGET))
                .get(30, TimeUnit.SECONDS);
            assertArrayEquals(fromStore(labels, labelsHeader), other);
            assertFalse(first.isDone());
            assertFalse(second.isDone(), "the second reader of the file waits for the first one's read");
            BlockingFileSystem.release.countDown();
            byte[] records = first.get(30, TimeUnit.SECONDS);
            assertArrayEquals(fromStore(images, imagesHeader), records);
            assertSame(records, second.get(30, TimeUnit.SECONDS), "the first read's records, not a read of its own");
            assertEquals(loads + 2, IdxCache.loads(), "each file read once");
        } finally {
            BlockingFileSystem.release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void aSetReadAheadIsReadOnceAndAFileThatFailsIsLeftToTheRunsOwnRead() throws Exception {
        TestData.writeTinySet(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 20);
        MnistSet set = MnistSet.trainFrom(dir.toString(), conf);
        long loads = IdxCache.loads();
        Thread ahead = MnistBatches.prefetch(set, conf);
        ahead.join(30_000);
        assertFalse(ahead.isAlive());
        assertEquals(loads + 2, IdxCache.loads(), "the images and the labels, read ahead");
        System.setProperty(IdxCache.PROPERTY, "false");
        var fromStore = MnistBatches.read(set, new int[] {4, 0, 19}, 2, Normalization.SCALE, conf);
        System.clearProperty(IdxCache.PROPERTY);
        var batches = MnistBatches.read(set, new int[] {4, 0, 19}, 2, Normalization.SCALE, conf);
        assertEquals(loads + 2, IdxCache.loads(), "the run's read copies from memory");
        assertEquals(fromStore.size(), batches.size());
        for (int b = 0; b < batches.size(); b++) {
            assertEquals(fromStore.get(b).getFeatures(), batches.get(b).getFeatures());
            assertEquals(fromStore.get(b).getLabels(), batches.get(b).getLabels());
        }
        // the images cut short after the set was opened: the read ahead fails quietly, the run's read as before
        IdxCache.clear();
        Path images = dir.resolve("train-images-idx3-ubyte");
        byte[] whole = Files.readAllBytes(images);
        Files.write(images, java.util.Arrays.copyOf(whole, whole.length - 10));
        Thread failing = MnistBatches.prefetch(set, conf);
        failing.join(30_000);
        assertFalse(failing.isAlive());
        InvalidInputException e = assertThrows(InvalidInputException.class,
            () -> MnistBatches.read(set, new int[] {0}, 1, Normalization.SCALE, conf));
        assertEquals(set.imagesPath() + ": truncated while reading records (file changed since it was validated?)",
            e.getMessage());
    }
}
