package dev.sparkmnist.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class FatbinScannerTest {
    /** One fat binary entry: 64-byte header (kind, header size, payload size, arch at 28) and payload. */
    private static byte[] entry(int kind, int arch, int payload) {
        ByteBuffer b = ByteBuffer.allocate(64 + payload).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, (short) kind).putShort(2, (short) 0x0101).putInt(4, 64).putLong(8, payload).putInt(28, arch);
        for (int i = 64; i < 64 + payload; i++) {
            b.put(i, (byte) 0x5A);
        }
        return b.array();
    }

    private static byte[] container(byte[]... entries) {
        int size = 0;
        for (byte[] e : entries) {
            size += e.length;
        }
        int pad = (8 - size % 8) % 8;
        ByteBuffer b = ByteBuffer.allocate(16 + size + pad).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(FatbinScanner.MAGIC).putShort((short) 1).putShort((short) 16).putLong(size);
        for (byte[] e : entries) {
            b.put(e);
        }
        return b.array();
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    private static CudaCompatibility.KernelArchitectures scan(byte[] bytes) throws IOException {
        return FatbinScanner.scan(new ByteArrayInputStream(bytes));
    }

    @Test
    void findsEverySassAndPtxArchitectureAcrossContainers() throws IOException {
        // Host code around the containers, one 8-byte word that starts like a container but is not one.
        byte[] fakeMagic = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(FatbinScanner.MAGIC)
            .putShort((short) 7).putShort((short) 16).array();
        byte[] file = concat(new byte[24], fakeMagic,
            container(entry(2, 80, 100), entry(1, 86, 8)), // 236 bytes of entries: padded to the next word
            new byte[8],
            container(entry(2, 75, 5000), entry(2, 80, 16)),
            new byte[40]);
        CudaCompatibility.KernelArchitectures archs = scan(file);
        assertEquals(new TreeSet<>(List.of(75, 80)), archs.sass());
        assertEquals(new TreeSet<>(List.of(86)), archs.ptx());
    }

    @Test
    void aLibraryWithoutDeviceCodeHasNoArchitectures() throws IOException {
        CudaCompatibility.KernelArchitectures none = scan(new byte[4096]);
        assertEquals("no SASS and no PTX", none.describe());
    }

    @Test
    void truncatedOrInconsistentContainersAreErrors() {
        byte[] whole = container(entry(2, 80, 100));
        byte[] cut = java.util.Arrays.copyOf(whole, 60);
        assertThrows(IOException.class, () -> scan(cut));
        byte[] lying = whole.clone();
        ByteBuffer.wrap(lying).order(ByteOrder.LITTLE_ENDIAN).putLong(16 + 8, 1_000_000L);
        IOException e = assertThrows(IOException.class, () -> scan(lying));
        assertEquals("malformed fat binary entry (header 64 bytes, payload 1000000 bytes, 164 bytes left in the"
            + " container)", e.getMessage());
    }
}
