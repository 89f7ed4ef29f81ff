package dev.sparkmnist.models;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * SGD with classical (heavy-ball) momentum as PyTorch's {@code SGD(lr, momentum)} computes it:
 * {@code v = momentum * v + g; p = p - lr * v} (v starts at 0, so the first step is {@code lr * g}). DL4J ships only
 * Nesterov momentum ({@code Nesterovs}). The state (v) is one array of the parameters' size, averaged by both engines
 * like any updater state. Fields, not getters, are what DL4J's configuration JSON reads and writes.
 */
public final class ClassicalMomentum implements IUpdater {
    private static final long serialVersionUID = 1L;
    /** The state key, as DL4J's updaters name theirs. */
    public static final String V_STATE = "V";
    private double learningRate;
    private ISchedule learningRateSchedule;
    private double momentum;

    /** For JSON. */
    public ClassicalMomentum() {
        this(ModelOptions.SGD_LEARNING_RATE, null, ModelOptions.MOMENTUM);
    }

    /** A fixed or scheduled learning rate ({@code schedule} wins when not null). */
    public ClassicalMomentum(double learningRate, ISchedule schedule, double momentum) {
        this.learningRate = learningRate;
        this.learningRateSchedule = schedule;
        this.momentum = momentum;
    }

    public double getMomentum() {
        return momentum;
    }

    @Override
    public long stateSize(long numParams) {
        return numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        Updater u = new Updater(this);
        u.setStateViewArray(viewArray, viewArray.shape(), viewArray.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        Updater u = new Updater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public ClassicalMomentum clone() {
        return new ClassicalMomentum(learningRate, learningRateSchedule == null ? null : learningRateSchedule.clone(),
            momentum);
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule != null ? learningRateSchedule.valueAt(iteration, epoch) : learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule schedule) {
        this.learningRate = lr;
        this.learningRateSchedule = schedule;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassicalMomentum c && c.learningRate == learningRate && c.momentum == momentum
            && Objects.equals(c.learningRateSchedule, learningRateSchedule);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, learningRateSchedule, momentum);
    }

    @Override
    public String toString() {
        return "ClassicalMomentum(lr=" + learningRate + ", schedule=" + learningRateSchedule + ", momentum="
            + momentum + ")";
    }

    /** The per-layer state and step. */
    static final class Updater implements GradientUpdater<ClassicalMomentum> {
        private final ClassicalMomentum config;
        private INDArray v;

        Updater(ClassicalMomentum config) {
            this.config = config;
        }

        @Override
        public ClassicalMomentum getConfig() {
            return config;
        }

        @Override
        public void setState(Map<String, INDArray> state, boolean initialize) {
            INDArray view = state.get(V_STATE);
            if (view == null || state.size() != 1) {
                throw new IllegalStateException("classical momentum has one state array, " + V_STATE + "; got "
                    + state.keySet());
            }
            v = view;
            if (initialize) {
                v.assign(0);
            }
        }

        @Override
        public Map<String, INDArray> getState() {
            return Collections.singletonMap(V_STATE, v);
        }

        @Override
        public void setStateViewArray(INDArray viewArray, long[] gradientShape, char order, boolean initialize) {
            if (initialize) {
                viewArray.assign(0);
            }
            v = viewArray.reshape(order, gradientShape);
        }

        /** Turns the gradient into the step DL4J subtracts: {@code lr * (momentum * v + g)}, and keeps v. */
        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            if (v == null) {
                throw new IllegalStateException("updater state not set");
            }
            v.muli(config.momentum).addi(gradient);
            gradient.assign(v).muli(config.getLearningRate(iteration, epoch));
        }
    }
}
