package dev.sparkmnist.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** file:// with permissions set through Java: the same files, checksums and permission bits as Hadoop's own. */
class PosixLocalFileSystemTest {
    @TempDir
    java.nio.file.Path tmp;

    private static FileSystem open(Configuration conf) throws IOException {
        return FileSystem.newInstance(URI.create("file:///"), conf); // not the JVM's cached instance
    }

    private static Configuration umask(String umask) {
        Configuration conf = new Configuration();
        conf.set("fs.permissions.umask-mode", umask);
        return conf;
    }

    private static String mode(java.nio.file.Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    /** Writes, makes a directory and sets a permission with {@code fs} under {@code dir}; returns the three modes. */
    private static String[] exercise(FileSystem fs, java.nio.file.Path dir) throws IOException {
        Path file = new Path(dir.toUri().toString(), "data.txt");
        try (OutputStream out = fs.create(file, true)) {
            out.write("digits".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        Path sub = new Path(dir.toUri().toString(), "sub");
        assertTrue(fs.mkdirs(sub, new FsPermission((short) 0750)));
        Path other = new Path(dir.toUri().toString(), "other.txt");
        try (OutputStream out = fs.create(other, true)) {
            out.write(1);
        }
        fs.setPermission(other, new FsPermission((short) 0604));
        return new String[] {mode(dir.resolve("data.txt")), mode(dir.resolve("sub")), mode(dir.resolve("other.txt"))};
    }

    @Test
    void setsTheSamePermissionsAsHadoopsOwnLocalFileSystem() throws IOException {
        for (String umask : new String[] {"022", "077", "027"}) {
            Configuration hadoops = umask(umask);
            Configuration ours = PosixLocalFileSystem.use(umask(umask));
            java.nio.file.Path a = Files.createDirectories(tmp.resolve("hadoop-" + umask));
            java.nio.file.Path b = Files.createDirectories(tmp.resolve("ours-" + umask));
            String[] expected;
            String[] actual;
            try (FileSystem h = open(hadoops); FileSystem o = open(ours)) {
                assertEquals(LocalFileSystem.class, h.getClass());
                assertInstanceOf(PosixLocalFileSystem.class, o);
                expected = exercise(h, a);
                actual = exercise(o, b);
            }
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], "umask " + umask + ", case " + i);
            }
            // the umask reached the file: a mode FileOutputStream alone (this process's umask) would not give
            if (umask.equals("077")) {
                assertEquals("rw-------", actual[0]);
                assertEquals("rwx------", actual[1]); // 0750 under 077
            }
            assertEquals("rw----r--", actual[2]);
            assertTrue(Files.exists(b.resolve(".data.txt.crc")), "Hadoop's checksum file is still written");
        }
    }

    @Test
    void everyModeMapsToJavasPermissionsAndStickyBitsAreLeftToHadoop() {
        for (int m = 0; m < 512; m++) {
            FsPermission p = new FsPermission((short) m);
            assertEquals(p.toString(), PosixFilePermissions.toString(PosixLocalFileSystem.posix(p)), "mode " + m);
        }
        assertNull(PosixLocalFileSystem.posix(new FsPermission((short) 01777)));
    }

    @Test
    void aStickyDirectoryStillGetsItsBitThroughHadoop() throws IOException {
        java.nio.file.Path dir = Files.createDirectories(tmp.resolve("shared"));
        try (FileSystem o = open(PosixLocalFileSystem.use(new Configuration()))) {
            o.setPermission(new Path(dir.toUri().toString()), new FsPermission((short) 01777));
        }
        assertEquals(01777, ((Integer) Files.getAttribute(dir, "unix:mode")) & 07777);
    }

    @Test
    void aMissingFileIsAnIoErrorAsWithHadoop() throws IOException {
        try (FileSystem o = open(PosixLocalFileSystem.use(new Configuration()))) {
            assertThrows(IOException.class,
                () -> o.setPermission(new Path(tmp.resolve("absent").toUri().toString()), new FsPermission((short) 0644)));
        }
    }

    @Test
    void aConfigurationThatNamesAnotherImplementationKeepsIt() {
        Configuration conf = new Configuration();
        conf.set(PosixLocalFileSystem.IMPL_KEY, LocalFileSystem.class.getName());
        assertEquals(LocalFileSystem.class.getName(), PosixLocalFileSystem.use(conf).get(PosixLocalFileSystem.IMPL_KEY));
        assertEquals(PosixLocalFileSystem.class.getName(),
            PosixLocalFileSystem.use(new Configuration()).get(PosixLocalFileSystem.IMPL_KEY));
    }
}
