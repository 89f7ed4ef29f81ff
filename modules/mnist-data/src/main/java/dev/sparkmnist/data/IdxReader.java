package dev.sparkmnist.data;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads idx files through Hadoop's {@link FileSystem}, so {@code file://}, {@code hdfs://} and {@code s3a://}
 * paths all work. A name ending in {@code .gz} is decompressed on the fly; a raw file is read by seeking to each
 * run of nearby records, so a partition reads only its own slice.
 */
public final class IdxReader {
    /** Largest record shape accepted, a guard against absurd headers in corrupt files. */
    static final int MAX_DIMENSION = 4096;
    private static final int COPY_BUFFER = 1 << 16;
    /** The smallest read buffer of a raw file (a labels file's records are one byte). */
    private static final int MIN_BUFFER = 512;
    /**
     * Records this many bytes apart or closer are read together with what lies between them (copying 16 KB from the
     * page cache costs about what a seek and a read call do).
     */
    static final int GAP_BYTES = 16 << 10;
    /** The most bytes read in one run (its scratch array's size). */
    static final int RUN_BYTES = 1 << 20;

    private IdxReader() {
    }

    /** True when the path names a gzipped idx file. */
    public static boolean isGzip(String path) {
        return path.endsWith(".gz");
    }

    /**
     * Reads and validates the header, then checks the data length against it: exact file length for raw files,
     * full decompression for gzipped ones. Fails with {@link InvalidInputException} naming the file.
     */
    public static IdxHeader readAndValidate(String path, IdxKind expected, Configuration conf) {
        Path p = new Path(path);
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                throw new InvalidInputException(path + ": file not found");
            }
            try (InputStream in = open(fs, p)) {
                IdxHeader header = parseHeader(path, expected, new DataInputStream(in));
                long dataBytes = header.dataBytes();
                if (isGzip(path)) {
                    long found = drain(in);
                    if (found != dataBytes) {
                        throw new InvalidInputException(String.format(
                            "%s: %s data is %d bytes after decompression, header says %d records x %d bytes = %d"
                                + " (truncated or padded file)",
                            path, expected, found, header.count(), header.recordBytes(), dataBytes));
                    }
                } else {
                    long length = fs.getFileStatus(p).getLen();
                    if (length != header.expectedLength()) {
                        throw new InvalidInputException(String.format(
                            "%s: file is %d bytes, header says %d records x %d bytes + %d header bytes = %d"
                                + " (truncated or padded file)",
                            path, length, header.count(), header.recordBytes(), expected.headerBytes(),
                            header.expectedLength()));
                    }
                }
                return header;
            }
        } catch (FileNotFoundException e) {
            throw new InvalidInputException(path + ": file not found", e);
        } catch (EOFException e) {
            throw new InvalidInputException(path + ": truncated header (fewer than "
                + expected.headerBytes() + " bytes)", e);
        } catch (IOException e) {
            throw new InvalidInputException(path + ": cannot be read: " + e.getMessage(), e);
        }
    }

    /** Parses the header; validates magic number and dimensions. */
    static IdxHeader parseHeader(String path, IdxKind expected, DataInputStream in) throws IOException {
        int magic = in.readInt();
        if (magic != expected.magic()) {
            throw new InvalidInputException(String.format(
                "%s: wrong magic number 0x%08X, expected 0x%08X for an idx %s file",
                path, magic, expected.magic(), expected.name().toLowerCase(java.util.Locale.ROOT)));
        }
        int count = in.readInt();
        if (count <= 0) {
            throw new InvalidInputException(path + ": record count " + count + " must be > 0");
        }
        int rows = 1;
        int cols = 1;
        if (expected == IdxKind.IMAGES) {
            rows = in.readInt();
            cols = in.readInt();
            if (rows <= 0 || cols <= 0 || rows > MAX_DIMENSION || cols > MAX_DIMENSION) {
                throw new InvalidInputException(String.format(
                    "%s: image dimensions %dx%d must each be in 1..%d", path, rows, cols, MAX_DIMENSION));
            }
        }
        return new IdxHeader(expected, count, rows, cols);
    }

    /**
     * Reads the records at the given ascending indices. Raw files are read in runs of nearby records, seeking over
     * wider gaps; gzipped files are streamed and skipped. The header is re-read and must equal {@code header} (the
     * file changed otherwise).
     */
    public static byte[][] readRecords(String path, IdxHeader header, long[] ascendingIndices,
                                       Configuration conf) {
        Path p = new Path(path);
        int size = header.recordBytes();
        byte[][] out = new byte[ascendingIndices.length][];
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (isGzip(path)) {
                try (InputStream raw = open(fs, p); DataInputStream in = new DataInputStream(raw)) {
                    checkUnchanged(path, header, parseHeader(path, header.kind(), in));
                    long position = 0;
                    for (int i = 0; i < ascendingIndices.length; i++) {
                        long idx = checkIndex(path, header, ascendingIndices, i);
                        skipFully(in, (idx - position) * size);
                        out[i] = new byte[size];
                        in.readFully(out[i]);
                        position = idx + 1;
                    }
                }
            } else {
                // A buffer no larger than a record: a record or run read below goes straight into its array, where
                // a 64 KB buffer made every record after a long seek cost a 64 KB read (and copy) of its own.
                int buffer = Math.max(MIN_BUFFER, Math.min(size, COPY_BUFFER));
                try (FSDataInputStream in = fs.open(p, buffer)) {
                    checkUnchanged(path, header, parseHeader(path, header.kind(), in));
                    readRuns(in, path, header, ascendingIndices, out);
                }
            }
        } catch (IOException e) {
            throw readFailure(path, e);
        }
        return out;
    }

    /**
     * What a failed read of a validated file's records becomes: one line naming the file, as {@link #readRecords} and
     * {@link IdxCache} report it.
     */
    static RuntimeException readFailure(String path, IOException e) {
        if (e instanceof EOFException) {
            return new InvalidInputException(path + ": truncated while reading records (file changed since it was"
                + " validated?)", e);
        }
        return new UncheckedIOException(path + ": cannot be read", e);
    }

    /**
     * Reads the records of a raw file in runs: records whose gap is at most {@link #GAP_BYTES} are read together with
     * the gap, in one read of at most {@link #RUN_BYTES} (a chunk of a shuffled epoch is hundreds to thousands of
     * records spread over the whole file: a resident worker's 256-2,048 records lie 20-230 records apart), and a
     * record farther from the last is read alone, after a seek. So a reader copies about what it uses: the same bytes
     * as record by record.
     */
    private static void readRuns(FSDataInputStream in, String path, IdxHeader header, long[] indices, byte[][] out)
        throws IOException {
        int size = header.recordBytes();
        byte[] scratch = null;
        int i = 0;
        while (i < indices.length) {
            long first = checkIndex(path, header, indices, i);
            int last = runEnd(path, header, indices, i, size);
            // Every run seeks, also the one right after a run that RUN_BYTES split (the stream is there already:
            // a seek to the current position costs a few calls); skipping that seek was a branch C2 first saw
            // taken in epoch 2, which threw this method's compiled code away.
            in.seek(header.offsetOf(first));
            if (last == i) {
                out[i] = new byte[size];
                in.readFully(out[i]);
            } else {
                int span = (int) ((indices[last] - first + 1) * size);
                if (scratch == null || scratch.length < span) {
                    scratch = new byte[span];
                }
                in.readFully(scratch, 0, span);
                for (int k = i; k <= last; k++) {
                    int at = (int) ((indices[k] - first) * size);
                    out[k] = Arrays.copyOfRange(scratch, at, at + size);
                }
            }
            i = last + 1;
        }
    }

    /**
     * The last index of the run that starts at {@code indices[i]}: the records after it whose gap to the one before is
     * at most {@link #GAP_BYTES}, while the run's bytes stay within {@link #RUN_BYTES}. Each index is checked.
     */
    static int runEnd(String path, IdxHeader header, long[] indices, int i, int size) {
        long first = indices[i];
        int last = i;
        while (last + 1 < indices.length) {
            long next = checkIndex(path, header, indices, last + 1);
            // One branch for both ends of a run: the OR of the two margins is negative when either is. A run that
            // reaches RUN_BYTES is rare, and as a branch of its own it had never been taken when C2 compiled this
            // loop, so the first such run (in epoch 2) threw the compiled code away and C2 compiled it again on the
            // workers' cores.
            long gapMargin = GAP_BYTES - (next - indices[last] - 1) * size;
            long runMargin = RUN_BYTES - (next - first + 1) * size;
            if ((gapMargin | runMargin) < 0) {
                break;
            }
            last++;
        }
        return last;
    }

    private static long checkIndex(String path, IdxHeader header, long[] indices, int i) {
        long idx = indices[i];
        if (idx < 0 || idx >= header.count() || (i > 0 && idx <= indices[i - 1])) {
            throw new IllegalArgumentException(path + ": record index " + idx
                + " must be ascending and in 0.." + (header.count() - 1));
        }
        return idx;
    }

    static void checkUnchanged(String path, IdxHeader expected, IdxHeader found) {
        if (!expected.equals(found)) {
            throw new InvalidInputException(path + ": header " + found + " differs from the validated " + expected
                + " (file changed during the run)");
        }
    }

    static InputStream open(FileSystem fs, Path p) throws IOException {
        InputStream in = fs.open(p, COPY_BUFFER);
        return isGzip(p.getName()) ? new GZIPInputStream(in, COPY_BUFFER) : in;
    }

    private static long drain(InputStream in) throws IOException {
        byte[] buf = new byte[COPY_BUFFER];
        long total = 0;
        int n;
        while ((n = in.read(buf)) > 0) {
            total += n;
        }
        return total;
    }

    private static void skipFully(InputStream in, long bytes) throws IOException {
        long left = bytes;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new EOFException();
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }
}
