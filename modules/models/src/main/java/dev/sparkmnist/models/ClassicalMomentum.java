package dev.sparkmnist.models;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SGD with classical (heavy-ball) momentum as PyTorch's {@code SGD(lr, momentum)} computes it:
 * {@code v = momentum * v + g; p = p - lr * v} (v starts at 0, so the first step is {@code lr * g}). DL4J ships only
 * Nesterov momentum ({@code Nesterovs}). The state (v) is one array of the parameters' size, averaged by both engines
 * like any updater state. Fields, not getters, are what DL4J's configuration JSON reads and writes.
 *
 * <p>The step is four ND4J operations over the parameters' length (and DL4J adds two around it: the division by the
 * minibatch size and the optimiser's subtraction), each a pass of its own and a call through ND4J's executioner. Where
 * the JVM has the Vector API's module, on the CPU backend, once the JIT has compiled it ({@link VectorWarmUp}), a
 * vector kernel ({@link MomentumKernel}) computes the same floats in one pass, the division and the subtraction too
 * where {@link FusedMinibatchUpdater} and {@link FusedStepSgd} hand them over;
 * {@code -D}{@value #PROPERTY}{@code =false} keeps the ND4J operations.
 */
public final class ClassicalMomentum implements IUpdater {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ClassicalMomentum.class);
    /** {@code -Dsparkmnist.simdMomentum=false} keeps the ND4J operations. */
    public static final String PROPERTY = "sparkmnist.simdMomentum";
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

    /** Whether this JVM runs the step as vector code now (the module is there and the kernel is compiled). */
    public static boolean vectorised() {
        return SimdAdam.VECTOR_API && Kernel.ENABLED && Kernel.READY.get();
    }

    /** Starts the kernel's warm-up where it may run: before training, not in its first epoch. */
    static void warmUp() {
        if (SimdAdam.VECTOR_API) {
            Kernel.start();
        }
    }

    /** The per-layer state and step. */
    static final class Updater implements GradientUpdater<ClassicalMomentum>, FusingUpdater {
        /** Steps this JVM ran as vector code, and those whose parameters the kernel stepped too (for tests). */
        static final AtomicLong KERNEL_STEPS = new AtomicLong();
        static final AtomicLong KERNEL_PARAMETER_STEPS = new AtomicLong();
        private final ClassicalMomentum config;
        private INDArray v;
        /** What the next step is to do besides the update ({@link FusedMinibatchUpdater}). */
        private final Next next = new Next();
        /** Tests: the ND4J operations even where the kernel could run. */
        boolean nd4jOnly;

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

        @Override
        public Next next() {
            return next;
        }

        /**
         * Turns the gradient into the step DL4J subtracts: {@code lr * (momentum * v + g)}, and keeps v; the gradient
         * divided first and the parameters stepped where {@link #next} asks for it (the step only where the kernel
         * runs).
         */
        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            if (v == null) {
                throw new IllegalStateException("updater state not set");
            }
            int batchSize = next.takeDivisor();
            INDArray p = next.takeParams();
            if (nd4jOnly || !vectorised() || !SimdAdam.contiguous(gradient) || !SimdAdam.contiguous(v)
                || v.length() != gradient.length()) {
                if (batchSize != 0) {
                    gradient.divi(batchSize); // as DL4J's updater divides
                }
                v.muli(config.momentum).addi(gradient);
                gradient.assign(v).muli(config.getLearningRate(iteration, epoch));
                return;
            }
            float momentum = (float) config.momentum;
            float lr = (float) config.getLearningRate(iteration, epoch);
            float divideBy = batchSize == 0 ? 1f : batchSize;
            int n = (int) gradient.length();
            if (p != null && SimdAdam.contiguous(p) && p.length() == gradient.length()) {
                MomentumKernel.applyAndStep(HostArrays.bytes(gradient), (int) gradient.offset(), HostArrays.bytes(v),
                    (int) v.offset(), HostArrays.bytes(p), (int) p.offset(), n, momentum, lr, divideBy);
                next.stepped();
                KERNEL_PARAMETER_STEPS.incrementAndGet();
            } else {
                MomentumKernel.apply(HostArrays.bytes(gradient), (int) gradient.offset(), HostArrays.bytes(v),
                    (int) v.offset(), n, momentum, lr, divideBy);
            }
            KERNEL_STEPS.incrementAndGet();
        }
    }

    /**
     * Whether the kernel may run here, and the thread that warms it ({@link VectorWarmUp}): until it sets
     * {@link #READY}, the step stays ND4J's operations. Loaded only where the JVM has the Vector API's module.
     */
    static final class Kernel {
        static final String WHY_NOT = VectorWarmUp.whyNot(PROPERTY, System.getProperty(PROPERTY), LOG,
            "momentum stays vectorised where it can");
        static final boolean ENABLED = WHY_NOT == null;
        static final AtomicBoolean READY = new AtomicBoolean();

        static {
            if (ENABLED) {
                VectorWarmUp.start("simd-momentum-warm-up", new WarmUpCalls(), READY, LOG, "classical momentum's step",
                    "ND4J's operations", MomentumKernel.lanes());
            } else {
                LOG.info("Classical momentum's step runs as ND4J's operations in this JVM: {}", WHY_NOT);
            }
        }

        private Kernel() {
        }

        /** Loads this class, which starts the warm-up where the kernel may run. */
        static void start() {
            // the static initialiser did the work
        }
    }

    /**
     * The warm-up's calls ({@link VectorWarmUp#timedUpdaterCalls}) on arrays of its own of the given length: every
     * other call the kernel that steps the parameters too (training runs that one, the other where L2 or an external
     * gradient keeps the step DL4J's); the velocity and parameters zeroed again after each batch of calls, so they stay
     * small.
     */
    private static final class WarmUpCalls implements java.util.function.DoubleUnaryOperator {
        private ByteBuffer[] small;
        private ByteBuffer[] confirm;

        @Override
        public double applyAsDouble(double floats) {
            int n = (int) floats;
            ByteBuffer[] a = n == VectorWarmUp.WARM_UP_FLOATS ? (small = small != null ? small : arrays(n))
                : (confirm = confirm != null ? confirm : arrays(n));
            ByteBuffer g = a[0];
            ByteBuffer v = a[1];
            ByteBuffer p = a[2];
            double nanosPerFloat = VectorWarmUp.timedUpdaterCalls(g, a[3], n,
                () -> MomentumKernel.applyAndStep(g, 0, v, 0, p, 0, n, 0.9f, 0.01f, 64f),
                () -> MomentumKernel.apply(g, 0, v, 0, n, 0.9f, 0.01f, 64f));
            v.clear().put(ByteBuffer.allocate(4 * n)).clear();
            p.clear().put(ByteBuffer.allocate(4 * n)).clear();
            return nanosPerFloat;
        }

        /** The gradient, velocity and parameters, and the gradient each call starts from. */
        private static ByteBuffer[] arrays(int n) {
            return new ByteBuffer[] {VectorWarmUp.floats(n), VectorWarmUp.floats(n), VectorWarmUp.floats(n),
                VectorWarmUp.gradient(n)};
        }
    }
}
