package dev.sparkmnist.runs;

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
 *
 * <p>A JVM that stops before the run ends (Ctrl-C, SIGTERM) removes the staging directory as it stops. A run killed
 * outright (SIGKILL, a lost machine) cannot remove its staging directory; it keeps what the run had
 * written (metrics.json of the epochs done). Each staging directory names its owner ({@value #OWNER}: pid@host), and
 * the next run into the same output removes those whose owner process is gone from this host, saying so, and reports
 * (but leaves) the others.
 */
public final class AtomicOutput implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(AtomicOutput.class);
    /**
     * Written into the target after everything else, as Hadoop's committers do: on object stores (s3a) a directory
     * rename is a copy of each file, so only this marker says the output is whole. evaluate, predict, report and
     * --resume check it.
     */
    static final String SUCCESS = "_SUCCESS";
    /** The file in a staging directory naming the process that writes it; removed before the commit. */
    static final String OWNER = "_OWNER";
    private static final String STAGING = ".staging-";
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
            cleanUpKilledRuns(fs, t);
            Path staging = new Path(t.getParent(), "." + t.getName() + STAGING + UUID.randomUUID());
            if (!fs.mkdirs(staging)) {
                throw new InvalidInputException("--output (" + target + "): cannot create " + staging);
            }
            // a JVM that stops (Ctrl-C, SIGTERM) while the run is still working, which never reaches close(), removes
            // it as Hadoop's shutdown hook closes the file system; commit and close take it back
            fs.deleteOnExit(staging);
            AtomicOutput out = new AtomicOutput(fs, t, staging, overwrite);
            out.writeText(OWNER, self() + "\n");
            return out;
        } catch (IOException e) {
            throw new InvalidInputException("--output (" + target + ") is not writable: " + e.getMessage(), e);
        }
    }

    /**
     * Fails unless {@code dir} holds the {@value #SUCCESS} marker of a finished run ({@code what} names the option
     * and value for the message).
     */
    public static void requireComplete(FileSystem fs, Path dir, String what) throws IOException {
        if (!fs.exists(new Path(dir, SUCCESS))) {
            throw new InvalidInputException(what + ": " + dir + " has no " + SUCCESS + " marker, so the run that"
                + " wrote it did not finish (the marker is written last; on object stores a directory rename is a"
                + " file-by-file copy). Use a finished run's output, or a checkpoint");
        }
    }

    /** This process as pid@host. */
    static String self() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "unknown-host";
        }
        return ProcessHandle.current().pid() + "@" + host;
    }

    /**
     * Removes the staging directories of earlier runs into the same target whose owner process no longer runs on
     * this host (killed runs); reports the others.
     */
    private static void cleanUpKilledRuns(FileSystem fs, Path target) throws IOException {
        if (!fs.exists(target.getParent())) {
            return;
        }
        String prefix = "." + target.getName() + STAGING;
        String self = self();
        String host = self.substring(self.indexOf('@') + 1);
        for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(target.getParent())) {
            if (!st.isDirectory() || !st.getPath().getName().startsWith(prefix)) {
                continue;
            }
            Path owner = new Path(st.getPath(), OWNER);
            String who = null;
            if (fs.exists(owner)) {
                try (java.io.InputStream in = fs.open(owner)) {
                    who = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
                }
            }
            int at = who == null ? -1 : who.indexOf('@');
            boolean dead = false;
            if (at > 0 && who.substring(at + 1).equals(host)) {
                try {
                    long pid = Long.parseLong(who.substring(0, at));
                    dead = ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
                } catch (NumberFormatException e) {
                    dead = false;
                }
            }
            if (dead) {
                LOG.warn("removing {}: the staging directory of a run into the same output that was killed"
                    + " (process {} is gone){}", st.getPath(), who, heldMetrics(fs, st.getPath()));
                fs.delete(st.getPath(), true);
            } else {
                LOG.warn("{} is the staging directory of another run into the same output ({}); left alone: remove"
                    + " it by hand if that run is dead", st.getPath(), who == null ? "owner unknown" : who);
            }
        }
    }

    /** What a killed run's staging directory held, for the log. */
    private static String heldMetrics(FileSystem fs, Path staging) {
        Path metrics = new Path(staging, "metrics.csv");
        try {
            if (!fs.exists(metrics)) {
                return "; it held no finished epoch";
            }
            try (java.io.InputStream in = fs.open(metrics)) {
                long epochs = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().count() - 1;
                return "; it held metrics of " + epochs + " finished epoch(s), which --checkpoint-dir keeps for"
                    + " --resume";
            }
        } catch (IOException e) {
            return "";
        }
    }

    /** The final location. */
    public Path target() {
        return target;
    }

    /** The staging directory, for writers that make their own files in it (Spark's DataFrame writers). */
    public Path staging() {
        return staging;
    }

    /**
     * A file of the staging directory, refused once the JVM stops: the directory goes as Hadoop's shutdown hook closes
     * the file system ({@code deleteOnExit}), and a run that goes on meanwhile (one JVM trains on until the JVM halts)
     * must not write it back (an epoch's metrics.json recreated it).
     */
    private Path staged(String name) throws IOException {
        if (JvmStop.stopping()) {
            throw new IOException("the JVM is stopping: " + target + " is not written");
        }
        return new Path(staging, name);
    }

    /** Opens a new file in the staging directory (replacing one of that name). */
    public OutputStream create(String name) throws IOException {
        return fs.create(staged(name), true);
    }

    /** Replaces a text file in the staging directory whole. */
    public void replaceText(String name, String text) {
        try {
            staged(name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + name + " to " + staging, e);
        }
        replaceText(fs, staging, name, text);
    }

    /**
     * Replaces {@code dir/name} whole: the text is written under a hidden temporary name, the old file removed, the
     * new one renamed into place, so a reader (or a run killed meanwhile) never sees it half-written.
     */
    static void replaceText(FileSystem fs, Path dir, String name, String text) {
        Path target = new Path(dir, name);
        Path tmp = new Path(dir, "." + name + ".tmp-" + UUID.randomUUID());
        try {
            try (OutputStream out = fs.create(tmp, false)) {
                out.write(Secrets.current().scrub(text).getBytes(StandardCharsets.UTF_8));
            }
            fs.delete(target, false);
            if (!fs.rename(tmp, target)) {
                throw new IOException("rename " + tmp + " -> " + target + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + name + " to " + dir, e);
        }
    }

    /** Writes a UTF-8 text file in the staging directory, cleaned of credentials ({@link Secrets}). */
    public void writeText(String name, String text) {
        try (OutputStream out = create(name)) {
            out.write(Secrets.current().scrub(text).getBytes(StandardCharsets.UTF_8));
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
            fs.delete(new Path(staging, OWNER), false);
            rename(staging, target);
            committed = true;
            fs.cancelDeleteOnExit(staging);
            fs.create(new Path(target, SUCCESS), true).close();
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
                fs.cancelDeleteOnExit(staging);
            } catch (IOException e) {
                LOG.warn("could not remove staging directory {}: {}", staging, e.getMessage());
            }
        }
    }
}
