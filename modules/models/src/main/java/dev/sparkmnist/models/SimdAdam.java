package dev.sparkmnist.models;

import com.sun.jna.Native;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ISchedule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DL4J's Adam (same configuration, state layout and results, to the last bit) whose step runs as Java Vector API
 * code ({@link SimdAdamKernel}) instead of ND4J's {@code adam_updater} op, which computes one float at a time: for
 * the MLP's 235,146 parameters 0.15 ms a step against 0.49 ms (measured; about 30 % of an MLP step at batch 64).
 *
 * <p>The Vector API is an incubator module in Java 17: the kernel is used only in a JVM started with
 * {@code --add-modules=jdk.incubator.vector} (the scripts, the configuration templates and the tests pass it), on
 * the CPU backend, for float arrays laid out contiguously, and only once the JIT has compiled it: before C2 compiles
 * it the kernel runs about 200 times slower than ND4J's op, so a background thread warms it on arrays of its own
 * (started when {@link Models#forTraining} sets up a network that trains with Adam, or else at the first step) and
 * the updater keeps ND4J's op until that thread has timed the compiled kernel (a JVM limited to C1,
 * {@code -XX:TieredStopAtLevel=1}, therefore keeps ND4J's op). Everything else, and {@code -D}{@value #PROPERTY}
 * {@code =false}, runs ND4J's op. Both compute the same floats, so a run's results do not depend on which ran:
 * the step size is computed as libnd4j computes it (its {@code powf} is called through JNA: Java's {@code pow}
 * differs from glibc's in the last bit for about one iteration in 1,500), and {@code SimdAdamTest} compares both
 * paths bit for bit.
 */
public class SimdAdam extends Adam {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SimdAdam.class);
    /** {@code -Dsparkmnist.simdAdam=false} keeps ND4J's op. */
    public static final String PROPERTY = "sparkmnist.simdAdam";
    static final String MODULE = "jdk.incubator.vector";
    /**
     * Why the vector kernels cannot run in this JVM, or null where they can: no Vector API module, or a Vector API
     * without the {@code ByteBuffer} loads and stores they read and write ND4J's host memory with (Java 16-18 have
     * them; Java 19 replaced them with {@code MemorySegment} ones, JEP 426, so on Java 21 and later every kernel's first
     * call would throw {@link NoSuchMethodError}).
     */
    static final String VECTOR_API_ABSENT = vectorApiAbsent(ModuleLayer.boot().findModule(MODULE).isPresent(),
        "jdk.incubator.vector.FloatVector");
    /**
     * Whether this JVM has a Vector API the kernels can use: only then can their classes load and run ({@link SimdAdam}'s,
     * {@link Pool2x2Kernel}, {@link ChannelSums}'s, {@link MomentumKernel}, {@link ExchangeBlend}'s).
     */
    static final boolean VECTOR_API = VECTOR_API_ABSENT == null;

    /**
     * {@link #VECTOR_API_ABSENT} for a JVM that has ({@code module}) or lacks the Vector API's module, whose vector
     * class {@code vectorClass} (loaded, not initialised) must have the static {@code fromByteBuffer} load.
     */
    static String vectorApiAbsent(boolean module, String vectorClass) {
        if (!module) {
            return "start the JVM with --add-modules=" + MODULE + " for the Vector API";
        }
        try {
            Class<?> c = Class.forName(vectorClass, false, SimdAdam.class.getClassLoader());
            for (java.lang.reflect.Method m : c.getMethods()) {
                if (m.getName().equals("fromByteBuffer") && java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                    return null;
                }
            }
        } catch (ClassNotFoundException | LinkageError e) {
            return "the Vector API's " + vectorClass + " cannot load: " + e;
        }
        return "this JVM's Vector API (Java " + Runtime.version().feature() + ") has no ByteBuffer loads and stores"
            + " (Java 19 replaced them with MemorySegment ones), which the kernels read ND4J's memory with; they run on"
            + " Java 17";
    }

    /** For JSON (DL4J reads and writes the fields). */
    public SimdAdam() {
        super();
    }

    /** A fixed learning rate, DL4J's default betas and epsilon. */
    public SimdAdam(double learningRate) {
        super(learningRate);
    }

    /** A scheduled learning rate. */
    public SimdAdam(ISchedule schedule) {
        super(schedule);
    }

    private SimdAdam(double learningRate, ISchedule schedule, double beta1, double beta2, double epsilon) {
        super(learningRate, beta1, beta2, epsilon);
        setLearningRateSchedule(schedule);
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        Updater u = new Updater(this);
        long[] gradientShape = Arrays.copyOf(viewArray.shape(), viewArray.rank());
        gradientShape[1] /= 2;
        u.setStateViewArray(viewArray, gradientShape, viewArray.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        Updater u = new Updater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public SimdAdam clone() {
        return new SimdAdam(getLearningRate(), getLearningRateSchedule() == null ? null
            : getLearningRateSchedule().clone(), getBeta1(), getBeta2(), getEpsilon());
    }

    @Override
    public String toString() {
        return "SimdAdam(" + super.toString() + ")";
    }

    /** Whether this JVM runs Adam's step as vector code now (the module is there and the kernel is compiled). */
    public static boolean vectorised() {
        return Kernel.ENABLED && Kernel.READY.get();
    }

    /**
     * Adam's step size for {@code iteration} exactly as libnd4j's {@code adam_updater} computes it in float:
     * {@code lr * sqrt(1 - beta2^(t+1)) / (1 - beta1^(t+1))}, epsilon when that is 0, NaN or infinite.
     */
    static float stepSize(double learningRate, double beta1, double beta2, double epsilon, int iteration) {
        float lr = (float) learningRate;
        float t = (float) iteration;
        float beta1T = LibM.pow((float) beta1, t + 1);
        float beta2T = LibM.pow((float) beta2, t + 1);
        float step = (float) ((double) (lr * (float) Math.sqrt((float) (1.0 - beta2T))) / (1.0 - beta1T));
        return Float.isNaN(step) || step == 0 || Float.isInfinite(step) ? (float) epsilon : step;
    }

    /** Whether {@code a} is a float array in host memory whose elements are contiguous (a vector with stride 1). */
    static boolean contiguous(INDArray a) {
        return HostArrays.contiguousVector(a) && a.offset() + a.length() <= Integer.MAX_VALUE / 4; // byte offsets: ints
    }

    /** The step: the kernel where {@link #vectorised} and the arrays allow, else ND4J's op (DL4J's AdamUpdater). */
    static final class Updater extends AdamUpdater implements FusingUpdater {
        /** Steps this JVM ran as vector code (tests check the kernel ran). */
        static final java.util.concurrent.atomic.AtomicLong KERNEL_STEPS = new java.util.concurrent.atomic.AtomicLong();

        /** Steps whose parameters the kernel stepped too ({@link FusedStepSgd}; tests check it ran). */
        static final java.util.concurrent.atomic.AtomicLong KERNEL_PARAMETER_STEPS =
            new java.util.concurrent.atomic.AtomicLong();

        /** What the next step is to do besides the update ({@link FusedMinibatchUpdater}). */
        private final Next next = new Next();

        Updater(Adam config) {
            super(config);
        }

        @Override
        public Next next() {
            return next;
        }

        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            Kernel.start(); // started already where Models.forTraining set the network up (not to evaluate it)
            int batchSize = next.takeDivisor();
            INDArray p = next.takeParams();
            INDArray m = getM();
            INDArray v = getV();
            if (!vectorised() || m == null || v == null || !contiguous(gradient) || !contiguous(m) || !contiguous(v)
                || m.length() != gradient.length() || v.length() != gradient.length()) {
                if (batchSize != 0) {
                    gradient.divi(batchSize); // as DL4J's updater divides
                }
                super.applyUpdater(gradient, iteration, epoch);
                return;
            }
            Adam c = getConfig();
            float stepSize =
                stepSize(c.getLearningRate(iteration, epoch), c.getBeta1(), c.getBeta2(), c.getEpsilon(), iteration);
            float divideBy = batchSize == 0 ? 1f : batchSize;
            if (p != null && contiguous(p) && p.length() == gradient.length()) {
                SimdAdamKernel.applyAndStep(HostArrays.bytes(gradient), (int) gradient.offset(), HostArrays.bytes(m),
                    (int) m.offset(), HostArrays.bytes(v), (int) v.offset(), HostArrays.bytes(p), (int) p.offset(),
                    (int) gradient.length(), (float) c.getBeta1(), (float) c.getBeta2(), stepSize,
                    (float) c.getEpsilon(), divideBy);
                next.stepped();
                KERNEL_PARAMETER_STEPS.incrementAndGet();
            } else {
                SimdAdamKernel.apply(HostArrays.bytes(gradient), (int) gradient.offset(), HostArrays.bytes(m),
                    (int) m.offset(), HostArrays.bytes(v), (int) v.offset(), (int) gradient.length(),
                    (float) c.getBeta1(), (float) c.getBeta2(), stepSize, (float) c.getEpsilon(), divideBy);
            }
            KERNEL_STEPS.incrementAndGet();
        }
    }

    /** glibc's {@code powf}, which libnd4j's float pow calls; Java's pow where it cannot be reached. */
    static final class LibM {
        static final boolean NATIVE = register();

        private LibM() {
        }

        static float pow(float x, float y) {
            return NATIVE ? powf(x, y) : (float) Math.pow(x, y);
        }

        private static native float powf(float x, float y);

        private static boolean register() {
            try {
                Native.register(LibM.class, "m");
                return true;
            } catch (LinkageError | RuntimeException e) {
                LoggerFactory.getLogger(SimdAdam.class).warn("libm's powf not reachable ({}): Adam's step size may"
                    + " differ from ND4J's in its last bit", e.toString());
                return false;
            }
        }
    }

    /**
     * Whether the kernel may run here, and the thread that warms it ({@link VectorWarmUp}): until it sets
     * {@link #READY}, Adam's step stays ND4J's op.
     */
    static final class Kernel {
        static final String WHY_NOT = whyNot();
        static final boolean ENABLED = WHY_NOT == null;
        static final AtomicBoolean READY = new AtomicBoolean();

        static {
            if (ENABLED) {
                VectorWarmUp.start("simd-adam-warm-up", new WarmUpCalls(), READY, LOG, "Adam's step", "ND4J's op",
                    SimdAdamKernel.lanes());
            } else {
                LOG.info("Adam's step runs as ND4J's op in this JVM: {}", WHY_NOT);
            }
        }

        private Kernel() {
        }

        /** Loads this class, which starts the warm-up where the kernel may run. */
        static void start() {
            // the static initialiser did the work
        }

        private static String whyNot() {
            return VectorWarmUp.whyNot(PROPERTY, System.getProperty(PROPERTY), LOG,
                "Adam stays vectorised where it can");
        }
    }

    /**
     * The warm-up's calls ({@link VectorWarmUp}): {@value VectorWarmUp#CALLS} kernel calls on arrays of its own of the
     * given length, zeroed again after them.
     */
    private static final class WarmUpCalls implements java.util.function.DoubleUnaryOperator {
        private final WarmUpArrays small = new WarmUpArrays(VectorWarmUp.WARM_UP_FLOATS);
        private WarmUpArrays confirm;

        @Override
        public double applyAsDouble(double floats) {
            WarmUpArrays a = floats == VectorWarmUp.WARM_UP_FLOATS ? small
                : confirm != null ? confirm : (confirm = new WarmUpArrays((int) floats));
            double nanosPerFloat = a.timedCalls();
            a.reset();
            return nanosPerFloat;
        }
    }

    /** The warm-up's own gradient and moments, in native order, and the gradient each call starts from. */
    private static final class WarmUpArrays {
        private final int n;
        private final ByteBuffer start;
        private final ByteBuffer g;
        private final ByteBuffer m;
        private final ByteBuffer v;
        private final ByteBuffer p;

        WarmUpArrays(int n) {
            this.n = n;
            start = VectorWarmUp.gradient(n);
            g = VectorWarmUp.floats(n);
            m = VectorWarmUp.floats(n);
            v = VectorWarmUp.floats(n);
            p = VectorWarmUp.floats(n);
        }

        /**
         * {@link VectorWarmUp#timedUpdaterCalls}: every other call the kernel that steps the parameters too
         * ({@link SimdAdamKernel#applyAndStep}), the others the one without.
         */
        double timedCalls() {
            return VectorWarmUp.timedUpdaterCalls(g, start, n,
                () -> SimdAdamKernel.applyAndStep(g, 0, m, 0, v, 0, p, 0, n, 0.9f, 0.999f, 1e-3f, 1e-8f, 64f),
                () -> SimdAdamKernel.apply(g, 0, m, 0, v, 0, n, 0.9f, 0.999f, 1e-3f, 1e-8f, 64f));
        }

        /** Zero moments and parameters again: they stay small. */
        void reset() {
            m.clear().put(ByteBuffer.allocate(4 * n)).clear();
            v.clear().put(ByteBuffer.allocate(4 * n)).clear();
            p.clear().put(ByteBuffer.allocate(4 * n)).clear();
        }
    }
}
