package dev.sparkmnist.runs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.Path;

/** The names of a run directory's files and of checkpoints, and the JSON form they are written in. */
public final class RunLayout {
    /** The model zip of a run ({@link ModelFiles}). */
    public static final String MODEL_FILE = "model.zip";
    /** The per-epoch figures and the last evaluation. */
    public static final String METRICS_JSON = "metrics.json";
    /** The per-epoch figures as CSV. */
    public static final String METRICS_CSV = "metrics.csv";
    /** The last evaluation as text. */
    public static final String EVALUATION_TXT = "evaluation.txt";
    /** How the run was made: options, data checksums, versions. */
    public static final String PROVENANCE_JSON = "provenance.json";
    /** JSON as every file of a run is written (indented). */
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private static final Pattern CHECKPOINT = Pattern.compile("epoch-(\\d+)\\.zip");

    private RunLayout() {
    }

    /** The checkpoint file name of an epoch (1-based): epoch-NNN.zip. */
    public static String checkpointName(int epoch) {
        return String.format(Locale.ROOT, "epoch-%03d.zip", epoch);
    }

    /** The epoch a checkpoint file name is of (epoch-NNN.zip: NNN), or -1 when the name is not a checkpoint's. */
    static int checkpointEpoch(String name) {
        java.util.regex.Matcher m = CHECKPOINT.matcher(name);
        if (!m.matches()) {
            return -1;
        }
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) { // more digits than an int holds: no epoch this program writes
            return Integer.MAX_VALUE;
        }
    }

    /** Whether a file name is a checkpoint's. */
    static boolean isCheckpointName(String name) {
        return checkpointEpoch(name) >= 0;
    }

    /** Whether a path names a checkpoint file (epoch-NNN.zip). */
    static boolean isCheckpoint(Path p) {
        return isCheckpointName(p.getName());
    }

    /** The marker written once a checkpoint is complete. */
    static Path checkpointMarker(Path checkpoint) {
        return new Path(checkpoint.getParent(), "_" + checkpoint.getName() + ".SUCCESS");
    }
}
