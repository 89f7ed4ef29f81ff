package dev.sparkmnist.app;

import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.evaluation.EpochRow;
import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.runs.Checkpoints;
import dev.sparkmnist.runs.ModelFiles;
import dev.sparkmnist.training.Start;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * train's {@code --resume} and {@code --resume-from}: which checkpoint to continue, checked against the options given
 * (a resumed run trains the checkpoint's model with its normalisation and, unless given, its seed).
 */
final class Resumption {
    private static final Logger LOG = LoggerFactory.getLogger(Resumption.class);

    /**
     * Where a resumed run starts.
     *
     * @param path the checkpoint continued
     * @param model its model options, which the run trains
     * @param start its network and the epochs it holds
     * @param earlierRows the interrupted run's metrics.json rows up to the checkpoint (--resume), else empty
     */
    record Point(String path, ModelOptions model, Start start, List<EpochRow> earlierRows) {
    }

    private final CheckpointArgs checkpoints;
    private final Predicate<String> given;

    /**
     * @param checkpoints the checkpoint options
     * @param given whether the user gave an option on the command line
     */
    Resumption(CheckpointArgs checkpoints, Predicate<String> given) {
        this.checkpoints = checkpoints;
        this.given = given;
    }

    /**
     * The checkpoint to continue, or null for a fresh run. Takes the checkpoint's normalisation and seed into
     * {@code data} and {@code training} where the user gave none, and refuses options that contradict it.
     */
    Point find(ModelArgs model, DataArgs data, TrainingArgs training, Configuration hadoop) {
        String checkpoint = checkpointToResume(hadoop);
        if (checkpoint == null) {
            return null;
        }
        ModelFiles.Loaded ckpt = resumable(checkpoint, model, hadoop);
        ModelOptions m = ckpt.modelOptions();
        String source = option() + " (" + checkpoint + ")";
        if (!given.test("--normalization")) {
            data.normalization = ckpt.normalization();
        } else if (data.normalization != ckpt.normalization()) {
            throw new IllegalArgumentException("--normalization (" + name(data.normalization)
                + ") differs from the " + name(ckpt.normalization()) + " that " + source + " was trained with");
        }
        if (!given.test("--seed")) {
            training.seed = m.seed(); // the same epoch order as the interrupted run
        }
        if (training.epochs <= ckpt.epochs()) {
            throw new IllegalArgumentException("--epochs (" + training.epochs + ") must be greater than the "
                + ckpt.epochs() + " epochs " + source + " holds");
        }
        List<EpochRow> earlier = List.of();
        if (checkpoints.resume) {
            earlier = Checkpoints.earlierRows(checkpoints.dir, ckpt.epochs(), hadoop);
            LOG.info("--resume: continuing {} from epoch {}", checkpoint, ckpt.epochs() + 1);
        }
        return new Point(checkpoint, m, new Start(Models.forTraining(ckpt.network()), ckpt.epochs()), earlier);
    }

    private String option() {
        return checkpoints.resume ? "--resume" : "--resume-from";
    }

    /**
     * The checkpoint to continue: --resume-from's, or with --resume the newest in --checkpoint-dir (null, logged,
     * when there is none yet).
     */
    private String checkpointToResume(Configuration hadoop) {
        if (!checkpoints.resume) {
            return checkpoints.resumeFrom;
        }
        if (checkpoints.resumeFrom != null) {
            throw new IllegalArgumentException("--resume and --resume-from (" + checkpoints.resumeFrom + ") cannot be"
                + " combined: --resume continues the newest checkpoint in --checkpoint-dir");
        }
        if (checkpoints.dir == null) {
            throw new IllegalArgumentException("--resume needs --checkpoint-dir (the directory of the run to"
                + " continue)");
        }
        List<org.apache.hadoop.fs.Path> found = Checkpoints.newestFirst(checkpoints.dir, hadoop);
        if (found.isEmpty()) {
            LOG.warn("--resume: no complete checkpoint in {} yet: starting from epoch 1", checkpoints.dir);
            return null;
        }
        return found.get(0).toString();
    }

    /**
     * The checkpoint to continue, checked: written by this program, and no model option given beside
     * --resume-from (except a --model naming the checkpoint's architecture, which scripts pass by default); beside
     * --resume, model options may repeat the interrupted command's, so they must resolve to the checkpoint's.
     */
    private ModelFiles.Loaded resumable(String path, ModelArgs model, Configuration hadoop) {
        String option = option();
        if (!checkpoints.resume) {
            for (String o : ModelArgs.NAMES) {
                if (given.test(o) && !o.equals("--model")) {
                    throw new IllegalArgumentException(o + " cannot be combined with --resume-from: the"
                        + " checkpoint's model options are used");
                }
            }
        }
        ModelFiles.Loaded ckpt = ModelFiles.load(option, path, hadoop);
        if (ckpt.modelOptions() == null || ckpt.epochs() == null || ckpt.normalization() == null) {
            throw new InvalidInputException(option + " (" + path + ") does not record its"
                + " model options, epochs and normalization: only checkpoints and model.zip files written by this"
                + " version of train can be resumed");
        }
        Architecture saved = ckpt.modelOptions().architecture();
        if (given.test("--model") && model.architecture != saved) {
            throw new IllegalArgumentException("--model (" + name(model.architecture) + ") differs from the "
                + name(saved) + " that " + option + " (" + path + ") holds");
        }
        if (checkpoints.resume && ModelArgs.NAMES.stream().anyMatch(o -> !o.equals("--model") && given.test(o))) {
            ModelOptions asGiven = model.resolve(ckpt.modelOptions().seed());
            if (!asGiven.equals(ckpt.modelOptions())) {
                throw new IllegalArgumentException("the model options given (" + asGiven + ") differ from those of"
                    + " the checkpoint --resume found (" + path + ": " + ckpt.modelOptions() + "): give the"
                    + " interrupted run's options, or none");
            }
        }
        return ckpt;
    }

    private static String name(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
