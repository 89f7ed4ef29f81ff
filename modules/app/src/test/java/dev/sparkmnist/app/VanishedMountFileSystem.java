package dev.sparkmnist.app;

import java.io.IOException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The local file system with a vanished network mount, for tests ({@code fs.file.impl}): below a directory named
 * {@code hard-mount} every status call blocks, as {@code stat} does on an NFS hard mount whose server is gone.
 * Everything else is the ordinary local file system. (A soft mount's ESTALE needs no simulation: Hadoop's local file
 * system reads it as a missing file, which the commands report as such.)
 */
public class VanishedMountFileSystem extends LocalFileSystem {
    @Override
    public FileStatus getFileStatus(Path p) throws IOException {
        String path = p.toUri().getPath();
        if (path.contains("/hard-mount/") || path.endsWith("/hard-mount")) {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new java.io.InterruptedIOException("interrupted while waiting for " + p);
        }
        return super.getFileStatus(p);
    }
}
