package dev.sparkmnist.runtime;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.TreeSet;

/**
 * Lists the GPU architectures a CUDA shared library (such as ND4J's {@code libnd4jcuda.so}) carries device code for,
 * by reading the headers of the CUDA fat binaries embedded in it. Streams the file once (no seeking, nothing held
 * in memory beyond a header), so it also reads a library straight out of a jar entry.
 *
 * <p>A fat binary starts with magic {@code 0xBA55ED50}, a 16-bit version (1), a 16-bit header size (16) and a 64-bit
 * size of the entries that follow; each entry has a 16-bit kind (1 PTX, 2 ELF/SASS), a 32-bit header size at offset
 * 4, a 64-bit payload size at offset 8 and the architecture ({@code sm_XY} as XY) at offset 28. Containers are
 * 8-byte aligned, as nvcc places them in the {@code .nv_fatbin} section.
 */
public final class FatbinScanner {
    static final int MAGIC = 0xBA55ED50;
    private static final int KIND_PTX = 1;
    private static final int KIND_ELF = 2;
    private static final int MIN_ENTRY_HEADER = 32;
    private static final int MAX_ENTRY_HEADER = 4096;

    private FatbinScanner() {
    }

    /** The SASS and PTX architectures of every fat binary in the stream (which it reads to the end). */
    public static CudaCompatibility.KernelArchitectures scan(InputStream stream) throws IOException {
        TreeSet<Integer> sass = new TreeSet<>();
        TreeSet<Integer> ptx = new TreeSet<>();
        Reader in = new Reader(stream);
        while (in.available(16)) {
            if (in.int32(0) != MAGIC || in.int16(4) != 1 || in.int16(6) != 16) {
                in.skip(8);
                continue;
            }
            long entriesSize = in.int64(8);
            in.skip(16);
            readEntries(in, entriesSize, sass, ptx);
            // The next container starts 8-byte aligned.
            in.skip((8 - entriesSize % 8) % 8);
        }
        return new CudaCompatibility.KernelArchitectures(sass, ptx);
    }

    private static void readEntries(Reader in, long entriesSize, TreeSet<Integer> sass, TreeSet<Integer> ptx)
        throws IOException {
        long consumed = 0;
        while (consumed + MIN_ENTRY_HEADER <= entriesSize) {
            if (!in.available(MIN_ENTRY_HEADER)) {
                throw new EOFException("fat binary truncated inside an entry header");
            }
            int kind = in.int16(0);
            long headerSize = in.int32(4) & 0xFFFFFFFFL;
            long payload = in.int64(8);
            int arch = in.int32(28);
            if (headerSize < MIN_ENTRY_HEADER || headerSize > MAX_ENTRY_HEADER || payload < 0
                || consumed + headerSize + payload > entriesSize) {
                throw new IOException("malformed fat binary entry (header " + headerSize + " bytes, payload "
                    + payload + " bytes, " + (entriesSize - consumed) + " bytes left in the container)");
            }
            if (kind == KIND_ELF) {
                sass.add(arch);
            } else if (kind == KIND_PTX) {
                ptx.add(arch);
            }
            in.skip(headerSize + payload);
            consumed += headerSize + payload;
        }
        in.skip(entriesSize - consumed);
    }

    /** A forward-only little-endian window over a stream. */
    private static final class Reader {
        private final InputStream in;
        private final byte[] buf = new byte[1 << 20];
        private final ByteBuffer le = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
        private int start;
        private int end;

        Reader(InputStream in) {
            this.in = in;
        }

        /** Whether {@code n} bytes are buffered from the current position, reading more if needed. */
        boolean available(int n) throws IOException {
            if (end - start >= n) {
                return true;
            }
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
            while (end < n) {
                int r = in.read(buf, end, buf.length - end);
                if (r < 0) {
                    return false;
                }
                end += r;
            }
            return true;
        }

        int int16(int at) {
            return le.getShort(start + at) & 0xFFFF;
        }

        int int32(int at) {
            return le.getInt(start + at);
        }

        long int64(int at) {
            return le.getLong(start + at);
        }

        void skip(long n) throws IOException {
            long buffered = Math.min(n, end - start);
            start += (int) buffered;
            long rest = n - buffered;
            if (rest > 0) {
                in.skipNBytes(rest);
            }
        }
    }
}
