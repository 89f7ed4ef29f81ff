package dev.sparkmnist.models;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.schedule.StepSchedule;

/**
 * A learning-rate schedule in epochs (PyTorch's StepLR, MultiStepLR, ExponentialLR).
 *
 * @param kind none, step, multistep or exponential
 * @param gamma multiplicative decay, in (0, 1]
 * @param stepEpochs for {@code step}: decay every this many epochs
 * @param milestones for {@code multistep}: ascending epochs (0-based) at which the rate is multiplied by gamma
 */
public record LrSchedule(Kind kind, double gamma, int stepEpochs, int[] milestones) {
    /** Schedule kinds. */
    public enum Kind { NONE, STEP, MULTISTEP, EXPONENTIAL }

    /** No schedule: a constant rate. */
    public static final LrSchedule NONE = new LrSchedule(Kind.NONE, 1.0, 1, new int[0]);

    public LrSchedule {
        if (kind == null) {
            throw new IllegalArgumentException("--lr-schedule must be given");
        }
        milestones = milestones == null ? new int[0] : milestones.clone();
        if (kind != Kind.NONE && !(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("--lr-gamma (" + gamma + ") must be in (0, 1]");
        }
        if (kind == Kind.STEP && stepEpochs <= 0) {
            throw new IllegalArgumentException("--lr-step-epochs (" + stepEpochs + ") must be > 0");
        }
        if (kind == Kind.MULTISTEP) {
            if (milestones.length == 0) {
                throw new IllegalArgumentException("--lr-milestones must list at least one epoch for multistep");
            }
            for (int i = 0; i < milestones.length; i++) {
                if (milestones[i] <= 0 || (i > 0 && milestones[i] <= milestones[i - 1])) {
                    throw new IllegalArgumentException("--lr-milestones (" + Arrays.toString(milestones)
                        + ") must be ascending epochs > 0");
                }
            }
        }
    }

    @Override
    public int[] milestones() {
        return milestones.clone();
    }

    /** The DL4J schedule for an initial rate, or null for a constant rate. */
    ISchedule toDl4j(double initial) {
        return switch (kind) {
            case NONE -> null;
            case STEP -> new StepSchedule(ScheduleType.EPOCH, initial, gamma, stepEpochs);
            case EXPONENTIAL -> new ExponentialSchedule(ScheduleType.EPOCH, initial, gamma);
            case MULTISTEP -> {
                Map<Integer, Double> values = new HashMap<>();
                values.put(0, initial);
                double rate = initial;
                for (int m : milestones) {
                    rate *= gamma;
                    values.put(m, rate);
                }
                yield new MapSchedule(ScheduleType.EPOCH, values);
            }
        };
    }

    /** The rate in effect at a 0-based epoch, as the DL4J schedule computes it. */
    public double rateAt(double initial, int epoch) {
        ISchedule s = toDl4j(initial);
        return s == null ? initial : s.valueAt(0, epoch);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LrSchedule other && kind == other.kind && gamma == other.gamma
            && stepEpochs == other.stepEpochs && Arrays.equals(milestones, other.milestones);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Objects.hash(kind, gamma, stepEpochs) + Arrays.hashCode(milestones);
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + "(gamma=" + gamma + ", stepEpochs=" + stepEpochs
            + ", milestones=" + Arrays.toString(milestones) + ")";
    }
}
