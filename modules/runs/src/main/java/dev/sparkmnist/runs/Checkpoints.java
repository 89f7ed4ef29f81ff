package dev.sparkmnist.runs;

import dev.sparkmnist.evaluation.EpochRow;
import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.training.EpochListener;
import dev.sparkmnist.training.EpochResult;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the network every N epochs (and after the last one) to {@code DIR/epoch-NNN.zip}, in the format of the run's
 * model.zip (parameters, updater state, input normalisation), so a checkpoint can be evaluated or kept when a long
 * run fails later. Unlike the run's output directory, checkpoints are not staged: each is written under a hidden
 * temporary name and renamed, so a file named epoch-NNN.zip is always complete, and they survive a failed run.
 */
public final class Checkpoints implements EpochListener {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpoints.class);
    private static final Pattern TEMPORARY = Pattern.compile("\\.(epoch-\\d+\\.zip|metrics\\.(json|csv))\\.tmp-.*");
    private final FileSystem fs;
    private final Path dir;
    private final int every;
    private final int lastEpoch;
    private final Normalization normalization;
    private final ModelOptions model;

    private Checkpoints(FileSystem fs, Path dir, int every, int lastEpoch, Normalization normalization,
                        ModelOptions model) {
        this.fs = fs;
        this.dir = dir;
        this.every = every;
        this.lastEpoch = lastEpoch;
        this.normalization = normalization;
        this.model = model;
    }

    /**
     * Checks the directory and creates it. Refuses a directory that already holds checkpoints, so that no earlier
     * run's checkpoint is overwritten, unless this run resumes the newest of them ({@code resumedEpoch} > 0: every
     * checkpoint there is then of an epoch <= it, and later ones are this run's). Temporary files a killed run left
     * are removed. {@code every} is > 0 (train checks --checkpoint-every first).
     */
    public static Checkpoints open(String dir, int every, int epochs, Normalization normalization, ModelOptions model,
                            int resumedEpoch, Configuration conf) {
        Path p = new Path(dir);
        try {
            FileSystem fs = p.getFileSystem(conf);
            p = fs.makeQualified(p);
            if (fs.exists(p)) {
                if (!fs.getFileStatus(p).isDirectory()) {
                    throw new InvalidInputException("--checkpoint-dir (" + dir + ") is a file, not a directory");
                }
                FileStatus[] listed = fs.listStatus(p);
                for (FileStatus st : listed) {
                    if (TEMPORARY.matcher(st.getPath().getName()).matches()) {
                        LOG.warn("removing {}, a checkpoint a killed run did not finish writing", st.getPath());
                        fs.delete(st.getPath(), false);
                    }
                }
                Path[] checkpoints = Arrays.stream(listed).map(FileStatus::getPath).filter(RunLayout::isCheckpoint)
                    .sorted().toArray(Path[]::new);
                if (resumedEpoch == 0) {
                    refuseEarlierCheckpoints(fs, checkpoints, dir);
                } else {
                    removeUnfinishedAfter(fs, checkpoints, resumedEpoch);
                }
            } else if (!fs.mkdirs(p)) {
                throw new InvalidInputException("--checkpoint-dir (" + dir + "): cannot create it");
            }
            return new Checkpoints(fs, p, every, epochs, normalization, model);
        } catch (IOException e) {
            throw new InvalidInputException("--checkpoint-dir (" + dir + ") is not writable: " + e.getMessage(), e);
        }
    }

    /**
     * Removes the checkpoints of epochs after the resumed one that have no completion marker: the killed run was
     * writing them (stopped between the rename and the marker), nothing resumes them, and this run writes those
     * epochs again: on HDFS a rename onto an existing file fails (Hadoop's file system specification; the local
     * file system replaces the file), which would stop the resumed run there.
     */
    private static void removeUnfinishedAfter(FileSystem fs, Path[] checkpoints, int resumedEpoch) throws IOException {
        for (Path f : checkpoints) {
            if (RunLayout.checkpointEpoch(f.getName()) > resumedEpoch && !complete(fs, f)) {
                LOG.warn("removing {}, a checkpoint the stopped run did not finish (no completion marker {})", f,
                    RunLayout.checkpointMarker(f).getName());
                fs.delete(f, false);
            }
        }
    }

    /**
     * Refuses a directory that holds checkpoints when this run does not resume one, saying which are complete and
     * which a stopped run did not finish (no completion marker), and what to do: with complete ones, --resume (the
     * caller found none to resume, so it was not given) or another directory; with unfinished ones alone, which
     * --resume cannot continue, delete them or choose another directory.
     */
    private static void refuseEarlierCheckpoints(FileSystem fs, Path[] checkpoints, String dir) throws IOException {
        java.util.List<String> complete = new java.util.ArrayList<>();
        java.util.List<String> unfinished = new java.util.ArrayList<>();
        for (Path f : checkpoints) {
            (complete(fs, f) ? complete : unfinished).add(f.getName());
        }
        if (complete.isEmpty() && unfinished.isEmpty()) {
            return;
        }
        if (complete.isEmpty()) {
            throw new InvalidInputException("--checkpoint-dir (" + dir + ") holds checkpoints that a stopped run did"
                + " not finish writing (" + String.join(", ", unfinished) + ": no completion marker, "
                + RunLayout.checkpointMarker(checkpoints[0]).getName() + ") and none complete to"
                + " resume: delete them to start again from epoch 1, or choose another directory; checkpoints are"
                + " never overwritten");
        }
        throw new InvalidInputException("--checkpoint-dir (" + dir + ") already holds checkpoints ("
            + String.join(", ", complete) + (unfinished.isEmpty() ? "" : "; not finished: "
            + String.join(", ", unfinished)) + "): add --resume to continue the newest, or choose another directory;"
            + " checkpoints are never overwritten");
    }

    /** Whether a checkpoint is complete: its marker ({@link RunLayout#checkpointMarker}), written last, exists. */
    static boolean complete(FileSystem fs, Path checkpoint) throws IOException {
        return fs.exists(RunLayout.checkpointMarker(checkpoint));
    }

    /**
     * The complete checkpoints in a directory, newest first (by epoch); empty when the directory does not exist. A
     * checkpoint is complete when its marker ({@link #marker}) exists: it is written after the file is renamed into
     * place. One without is skipped, with a warning.
     */
    public static java.util.List<Path> newestFirst(String dir, Configuration conf) {
        Path p = new Path(dir);
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                return java.util.List.of();
            }
            java.util.List<Path> complete = new java.util.ArrayList<>();
            for (Path f : Arrays.stream(fs.listStatus(p)).map(FileStatus::getPath).filter(RunLayout::isCheckpoint)
                .sorted(java.util.Comparator.comparing(Path::getName).reversed()).toList()) {
                if (complete(fs, f)) {
                    complete.add(f);
                } else {
                    LOG.warn("{} has no completion marker {}: skipped (a write that did not finish)", f,
                        RunLayout.checkpointMarker(f).getName());
                }
            }
            return complete;
        } catch (IOException e) {
            throw new InvalidInputException("--checkpoint-dir (" + dir + ") cannot be listed: " + e.getMessage(), e);
        }
    }

    /**
     * The per-epoch rows of metrics.json beside the checkpoints, up to {@code lastEpoch}; empty when there is none
     * (a run that crashed before its first epoch ended, or checkpoints of an earlier version).
     */
    public static java.util.List<EpochRow> earlierRows(String dir, int lastEpoch, Configuration conf) {
        Path metrics = new Path(dir, RunLayout.METRICS_JSON);
        try {
            FileSystem fs = metrics.getFileSystem(conf);
            if (!fs.exists(metrics)) {
                LOG.warn("{} not found: the report of the resumed run starts at epoch {}", metrics, lastEpoch + 1);
                return java.util.List.of();
            }
            try (java.io.InputStream in = fs.open(metrics)) {
                com.fasterxml.jackson.databind.JsonNode rows = RunLayout.JSON.readTree(in).get("epochs");
                java.util.List<EpochRow> out = new java.util.ArrayList<>();
                for (com.fasterxml.jackson.databind.JsonNode row : rows) {
                    if (row.get("epoch").asInt() <= lastEpoch) {
                        out.add(EpochRow.of(RunLayout.JSON.convertValue(row,
                            new com.fasterxml.jackson.core.type.TypeReference<java.util.Map<String, Object>>() { })));
                    }
                }
                return out;
            }
        } catch (IOException | RuntimeException e) {
            throw new InvalidInputException(metrics + " cannot be read (" + e.getMessage() + "): move it away to"
                + " resume without the earlier epochs' figures", e);
        }
    }

    /** Replaces a text file beside the checkpoints whole (temporary name, then rename). */
    public void replaceText(String name, String text) {
        AtomicOutput.replaceText(fs, dir, name, text);
    }

    /** Whether the given epoch (1-based) is written: every N-th, and the last. */
    static boolean due(int epoch, int every, int lastEpoch) {
        return epoch % every == 0 || epoch == lastEpoch;
    }

    @Override
    public void onEpochEnd(EpochResult result, MultiLayerNetwork network) {
        if (!due(result.epoch(), every, lastEpoch)) {
            return;
        }
        Path target = new Path(dir, RunLayout.checkpointName(result.epoch()));
        Path tmp = new Path(dir, "." + target.getName() + ".tmp-" + UUID.randomUUID());
        try {
            try (OutputStream out = fs.create(tmp, false)) {
                ModelFiles.write(network, normalization, model, result.epoch(), out);
            }
            if (!fs.rename(tmp, target)) {
                throw new IOException("cannot rename " + tmp + " to " + target + " (does it exist already?)");
            }
            fs.create(RunLayout.checkpointMarker(target), true).close(); // last: on object stores the rename above is a copy
            LOG.info("checkpoint of epoch {} written to {}", result.epoch(), target);
        } catch (IOException e) {
            try {
                fs.delete(tmp, false);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new UncheckedIOException("cannot write the checkpoint of epoch " + result.epoch() + " to " + dir, e);
        }
    }
}
