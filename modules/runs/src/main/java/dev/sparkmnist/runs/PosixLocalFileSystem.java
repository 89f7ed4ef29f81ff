package dev.sparkmnist.runs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.io.nativeio.NativeIO;

/**
 * Hadoop's local file system ({@code file://}) that sets permissions through Java's own file API instead of a
 * {@code chmod} process. Without Hadoop's native library, which Maven Central does not ship, Hadoop's
 * {@link RawLocalFileSystem} starts {@code chmod} in a new process for every file it creates and every directory it
 * makes: twice a file with its checksum file, 6-9 ms a file measured on this project's machines (about 1 ms this
 * way), and 18-37 ms at the end of every epoch, which replaces metrics.json and metrics.csv. Everything else is
 * Hadoop's: checksum files, renames, listings, the permissions themselves (the same bits, from the same umask).
 * Where Hadoop's native library is loaded, the permission has a sticky bit (Java cannot set one) or the file system
 * has no POSIX permissions, Hadoop's own way runs.
 *
 * <p>The driver's Hadoop configuration names it for {@code file://} ({@link #use}) unless the job names another
 * ({@code spark.hadoop.fs.file.impl}). Executor JVMs keep Hadoop's: one may open a file before this project's jar is
 * on its class path (fetching that jar, for one).
 */
public class PosixLocalFileSystem extends LocalFileSystem {
    /** The Hadoop setting that chooses the implementation of {@code file://}. */
    public static final String IMPL_KEY = "fs.file.impl";
    private static final PosixFilePermission[] BITS = {
        PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};

    public PosixLocalFileSystem() {
        super(new Raw());
    }

    /**
     * Names this file system for {@code file://} in {@code conf}, unless {@code conf} names one already; returns
     * {@code conf}.
     */
    public static Configuration use(Configuration conf) {
        if (conf.get(IMPL_KEY) == null) {
            conf.set(IMPL_KEY, PosixLocalFileSystem.class.getName());
        }
        return conf;
    }

    /** The permission as Java's, or null where Java cannot set it (a sticky bit). */
    static Set<PosixFilePermission> posix(FsPermission permission) {
        if (permission.getStickyBit()) {
            return null;
        }
        short mode = permission.toShort();
        Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
        for (int bit = 0; bit < BITS.length; bit++) {
            if ((mode & (1 << bit)) != 0) {
                out.add(BITS[bit]);
            }
        }
        return out;
    }

    /** The raw local file system underneath, with {@link #setPermission} through {@link Files}. */
    public static class Raw extends RawLocalFileSystem {
        @Override
        public void setPermission(Path p, FsPermission permission) throws IOException {
            Set<PosixFilePermission> posix = posix(permission);
            if (posix == null || NativeIO.isAvailable()) {
                super.setPermission(p, permission);
                return;
            }
            try {
                Files.setPosixFilePermissions(pathToFile(p).toPath(), posix);
            } catch (UnsupportedOperationException e) { // a file system without POSIX permissions
                super.setPermission(p, permission);
            }
        }
    }
}
