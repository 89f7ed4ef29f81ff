package dev.sparkmnist.app;

import dev.sparkmnist.data.InvalidInputException;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An output directory on any Hadoop file system, written atomically: files go to a hidden staging directory beside
 * the target, which is renamed into place by {@link #commit()}. Until then an existing output is untouched; if the
 * run fails, the staging directory is removed and nothing else changes. An existing target is replaced only with
 * {@code overwrite}, and then only after the new output is complete.
 */
public final class AtomicOutput implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(AtomicOutput.class);
    private final FileSystem fs;
    private final Path target;
    private final Path staging;
    private final boolean overwrite;
    private boolean committed;

    private AtomicOutput(FileSystem fs, Path target, Path staging, boolean overwrite) {
        this.fs = fs;
        this.target = target;
        this.staging = staging;
        this.overwrite = overwrite;
    }

    /**
     * Checks the target and creates the staging directory. Call before any expensive work, so that a bad output
     * path fails in seconds.
     */
    public static AtomicOutput open(String target, boolean overwrite, Configuration conf) {
        Path t = new Path(target);
        try {
            FileSystem fs = t.getFileSystem(conf);
            t = fs.makeQualified(t);
            if (fs.exists(t)) {
                if (!overwrite) {
                    throw new InvalidInputException("--output (" + target + ") already exists: choose a new"
                        + " directory or pass --overwrite (it is replaced only after the new output is complete)");
                }
                if (!fs.getFileStatus(t).isDirectory()) {
                    throw new InvalidInputException("--output (" + target + ") is a file, not a directory");
                }
            }
            Path staging = new Path(t.getParent(), "." + t.getName() + ".staging-" + UUID.randomUUID());
            if (!fs.mkdirs(staging)) {
                throw new InvalidInputException("--output (" + target + "): cannot create " + staging);
            }
            return new AtomicOutput(fs, t, staging, overwrite);
        } catch (IOException e) {
            throw new InvalidInputException("--output (" + target + ") is not writable: " + e.getMessage(), e);
        }
    }

    /** The final location. */
    public Path target() {
        return target;
    }

    /** Opens a new file in the staging directory. */
    public OutputStream create(String name) throws IOException {
        return fs.create(new Path(staging, name), false);
    }

    /** Writes a UTF-8 text file in the staging directory. */
    public void writeText(String name, String text) {
        try (OutputStream out = create(name)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + name + " under " + staging, e);
        }
    }

    /** Moves the complete output into place; an existing target (with overwrite) is replaced, then deleted. */
    public void commit() {
        try {
            Path old = null;
            if (fs.exists(target)) {
                if (!overwrite) {
                    throw new InvalidInputException(target + " appeared while the job ran; the new output is left"
                        + " in " + staging);
                }
                old = new Path(target.getParent(), "." + target.getName() + ".replaced-" + UUID.randomUUID());
                rename(target, old);
            }
            rename(staging, target);
            committed = true;
            if (old != null) {
                fs.delete(old, true);
            }
            LOG.info("output written to {}", target);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + staging + " to " + target, e);
        }
    }

    private void rename(Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("rename " + from + " -> " + to + " failed");
        }
    }

    /** Removes the staging directory unless committed. */
    @Override
    public void close() {
        if (!committed) {
            try {
                fs.delete(staging, true);
            } catch (IOException e) {
                LOG.warn("could not remove staging directory {}: {}", staging, e.getMessage());
            }
        }
    }
}
