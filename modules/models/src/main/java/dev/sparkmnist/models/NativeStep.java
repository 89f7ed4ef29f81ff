package dev.sparkmnist.models;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Cleaner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole training step of the MLP or LeNet-5 in native code ({@code src/main/c/native_step.c}, through JNI): the
 * forward pass, softmax cross-entropy, backward pass and the updater, one call a minibatch, on the network's own
 * parameters, gradient view and updater state (checkpoints, averaging and saved models see DL4J's arrays as before).
 *
 * <p>Why: a step with no Java on its path needs no JIT. In a fresh JVM the Java step runs interpreted, then compiled
 * by C1, then by C2, over the first epoch, and C2 compiles on the cores the step trains on: a fresh JVM's first epoch
 * took 1.3-1.8x its second, a JVM that had trained before 0.9-1.16x (BENCHMARKS.md, round 37). The native step's
 * first epoch is within 1.15x of its second, and its steps are faster too (round 41).
 *
 * <p>A dense network trained with Adam or classical momentum computes the same floats as the Java step it replaces
 * ({@link TrainingStep} with {@link TrainingDenseLayer}s, {@link TrainingOutputLayer}, the vector kernels of
 * {@link SimdAdam} and {@link ClassicalMomentum}): {@code NativeStepTest} compares them bit for bit. With DL4J's
 * Nesterov momentum, or L2, its floats are within rounding of libnd4j's operations. LeNet-5's convolutions are AVX2
 * kernels of our own whose floats are within rounding of oneDNN's, not equal; {@code -D}{@value #CONV_PROPERTY}
 * {@code =false} keeps the Java step for convolutional networks.
 *
 * <p>It applies to a network set up by {@link Models#forTraining}: optionally LeNet-5's convolution blocks (5x5
 * convolutions of stride 1 with a bias and ReLU, each followed by 2x2 max pooling of stride 2, on one-channel
 * pictures), then dense ReLU layers with a bias and a softmax output layer with multi-class cross-entropy (or negative
 * log-likelihood); float parameters; {@link SimdAdam}, {@link ClassicalMomentum} or DL4J's Nesterov momentum for every
 * parameter in one updater block; no dropout, weight noise or gradient normalisation; no regularisation other than
 * one L2 coefficient on every layer's weights; no listener other than {@link SubnormalFlush}. It runs on linux-x86_64
 * with AVX2 and FMA (ND4J's backend here is built for AVX2 too), the CPU backend and ND4J's OpenBLAS reachable.
 * Anything else, a minibatch with masks or not in rows, and every network while {@code -D}{@value #PROPERTY}
 * {@code =false} is set, keeps the Java path. One object per network and thread, as {@link TrainingStep}.
 */
public final class NativeStep {
    /** The switch: false keeps the Java step. */
    public static final String PROPERTY = "sparkmnist.nativeStep";
    private static final Logger LOG = LoggerFactory.getLogger(NativeStep.class);
    /** The library inside this module's jar, built by {@code src/main/c/build.sh}. */
    static final String LIBRARY = "/dev/sparkmnist/models/native/linux-x86_64/libsparkmnist-step.so";
    private static final Cleaner CLEANER = Cleaner.create();
    /** What the log already said in this JVM. */
    private static final java.util.Set<String> SAID = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Steps this class took in this JVM, every network's (tests check that a run's steps were native). */
    static final java.util.concurrent.atomic.LongAdder STEPS = new java.util.concurrent.atomic.LongAdder();

    private final MultiLayerNetwork net;
    private final Layer[] layers;
    /** Each convolution block's shape (in_c, in_h, in_w, pad, k, out_c); empty for a dense network. */
    private final int[] convs;
    /** The dense layers' widths, their input first. */
    private final int[] sizes;
    private final org.nd4j.linalg.learning.config.IUpdater updater;
    /** The L2 coefficient on every weight (0: none). */
    private final double l2;
    /** The output layer's loss: probabilities are clipped at this for the loss (LossMCXENT's softmaxClipEps). */
    private final float clip;
    private org.deeplearning4j.nn.gradient.DefaultGradient gradient;
    private long handle;
    private int maxBatch;
    private Cleaner.Cleanable cleanable;

    /** Why native steps cannot run in this JVM, or null where they can. */
    static String unavailable() {
        return Library.WHY_NOT;
    }

    private NativeStep(MultiLayerNetwork net, int[] convs, int[] sizes,
                       org.nd4j.linalg.learning.config.IUpdater updater, double l2) {
        this.net = net;
        this.l2 = l2;
        this.layers = net.getLayers();
        this.convs = convs;
        this.sizes = sizes;
        this.updater = updater;
        LossMCXENT loss = (LossMCXENT) ((org.deeplearning4j.nn.conf.layers.OutputLayer)
            layers[layers.length - 1].conf().getLayer()).getLossFn();
        this.clip = (float) loss.getSoftmaxClipEps();
    }

    /**
     * {@code -Dsparkmnist.nativeConv=false} keeps LeNet-5's Java step (whose convolutions are oneDNN's) while the
     * dense networks' stay native: LeNet-5's native floats are within rounding of the Java step's, not the same.
     */
    static final String CONV_PROPERTY = "sparkmnist.nativeConv";

    private static boolean convAllowed() {
        return !"false".equalsIgnoreCase(System.getProperty(CONV_PROPERTY, "true").strip());
    }

    /** How many layers at the start are convolution blocks (convolution, pooling) in LeNet-5's arrangement. */
    private static int convLayers(Layer[] all) {
        int i = 0;
        while (i + 1 < all.length && all[i] instanceof TrainingConvolutionLayer && all[i + 1] instanceof MaxPoolLayer) {
            i += 2;
        }
        return i;
    }

    /**
     * The native step for {@code net}, or null where the Java path trains it (the reason logged once a JVM, with
     * the first network it applies to).
     */
    public static NativeStep of(MultiLayerNetwork net) {
        String why = Library.WHY_NOT != null ? Library.WHY_NOT : whyNot(net);
        if (why != null) {
            say("training steps run in Java: " + why);
            return null;
        }
        NativeStep step = build(net);
        say("training steps run in native code, no Java on their path (NativeStep)");
        return step;
    }

    /**
     * Whether {@link #of} would give {@code net} a native step, without saying so in the log; where the network has
     * no updater yet (DL4J's, which its first fit builds: Nesterov's momentum, the default LeNet-5 job's), without
     * building one, and so without the checks of its state.
     */
    static boolean applies(MultiLayerNetwork net) {
        return Library.WHY_NOT == null && whyNot(net, net.getUpdater(false) != null) == null;
    }

    private static void say(String line) {
        if (SAID.add(line)) {
            LOG.info("{}", line);
        }
    }

    /** Why {@code net} is not one this class trains, or null where it is. */
    static String whyNot(MultiLayerNetwork net) {
        return whyNot(net, true);
    }

    /**
     * {@link #whyNot(MultiLayerNetwork)}; with {@code updaterToo} false, without the checks of the updater's state,
     * which would build DL4J's updater where the network has none yet (its first fit builds it).
     */
    private static String whyNot(MultiLayerNetwork net, boolean updaterToo) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        Layer[] all = net.getLayers();
        if (all == null || all.length < 2) {
            return "not an initialised network of two layers or more";
        }
        if (conf.getDataType() != DataType.FLOAT || net.params() == null || net.params().dataType() != DataType.FLOAT) {
            return "not a float network";
        }
        int convLayers = convLayers(all);
        double firstL2 = l2((BaseLayer) all[0].conf().getLayer());
        if (convLayers > 0) {
            String why = convWhyNot(net, all, convLayers, firstL2);
            if (why != null) {
                return why;
            }
        }
        for (int i = convLayers; i < all.length; i++) {
            boolean last = i == all.length - 1;
            Layer l = all[i];
            if (last ? !(l instanceof TrainingOutputLayer) : !(l instanceof TrainingDenseLayer)) {
                return "layer " + i + " is not a dense layer set up for training (" + l.getClass().getSimpleName()
                    + ")";
            }
            if (conf.getInputPreProcess(i) != null && !(i == convLayers && convLayers > 0 && conf.getInputPreProcess(i)
                instanceof org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor)) {
                return "layer " + i + " has an input pre-processor";
            }
            BaseLayer c = (BaseLayer) l.conf().getLayer();
            if (last) {
                var out = (org.deeplearning4j.nn.conf.layers.OutputLayer) c;
                Class<?> loss = out.getLossFn().getClass();
                if (!(c.getActivationFn() instanceof ActivationSoftmax)
                    || loss != LossMCXENT.class && loss != LossNegativeLogLikelihood.class
                    || ((LossMCXENT) out.getLossFn()).getWeights() != null) {
                    return "the output layer is not softmax with multi-class cross-entropy";
                }
            } else if (!(c.getActivationFn() instanceof ActivationReLU)) {
                return "layer " + i + " is not ReLU";
            }
            if (!l.paramTable().containsKey("b") || !trainsAsTheStep(c, firstL2)) {
                return "layer " + i + " has dropout, weight noise, regularisation other than one L2 on the weights,"
                    + " gradient normalisation, no bias or another updater than Adam or momentum";
            }
        }
        if (updaterToo) {
            Updater updater = net.getUpdater(); // built here where DL4J's first fit would build it
            if (!(updater instanceof MultiLayerUpdater u) || u.getUpdaterBlocks().size() != 1) {
                return "not one block of the updater's state in the training updater";
            }
            UpdaterBlock block = u.getUpdaterBlocks().get(0);
            if (block.getParamOffsetStart() != 0 || block.getParamOffsetEnd() != net.numParams()
                || block.getUpdaterView() == null || block.getUpdaterView().length()
                != block.getGradientUpdater().getConfig().stateSize(net.numParams())) {
                return "the updater's state does not cover every parameter";
            }
        }
        if (!quietListeners(net.getListeners())) {
            return "a listener other than SubnormalFlush watches the steps";
        }
        return null;
    }

    /**
     * Why LeNet-5's convolution blocks ({@code all[0..convLayers)}) are not ones the native step computes;
     * {@code firstL2}: the first layer's {@link #l2}.
     */
    private static String convWhyNot(MultiLayerNetwork net, Layer[] all, int convLayers, double firstL2) {
        if (!convAllowed()) {
            return "LeNet-5's native step is switched off (-D" + CONV_PROPERTY + "=false)";
        }
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        if (convLayers != 4 || !(conf.getInputPreProcess(0)
            instanceof org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor pre)
            || pre.getNumChannels() != 1) {
            return "not LeNet-5's two convolution blocks on one-channel pictures";
        }
        for (int i = 0; i < convLayers; i += 2) {
            var c = (org.deeplearning4j.nn.conf.layers.ConvolutionLayer) all[i].conf().getLayer();
            var p = (org.deeplearning4j.nn.conf.layers.SubsamplingLayer) all[i + 1].conf().getLayer();
            int[] k = c.getKernelSize();
            int[] st = c.getStride();
            int[] pad = c.getPadding();
            int[] d = c.getDilation();
            if (k[0] != k[1] || st[0] != 1 || st[1] != 1 || pad[0] != pad[1] || d[0] != 1 || d[1] != 1
                || c.getConvolutionMode() == org.deeplearning4j.nn.conf.ConvolutionMode.Same
                || c.getCnn2dDataFormat() != org.deeplearning4j.nn.conf.CNN2DFormat.NCHW
                || !c.hasBias() || !(c.getActivationFn() instanceof ActivationReLU)
                || !trainsAsTheStep(c, firstL2)) {
                return "convolution layer " + i + " is not a ReLU convolution of stride 1 with a bias, without"
                    + " regularisation other than one L2 on the weights, trained with Adam or momentum";
            }
            if (p.getPoolingType() != org.deeplearning4j.nn.conf.layers.PoolingType.MAX
                || p.getKernelSize()[0] != 2 || p.getKernelSize()[1] != 2 || p.getStride()[0] != 2
                || p.getStride()[1] != 2 || p.getPadding()[0] != 0 || p.getPadding()[1] != 0
                || p.getConvolutionMode() == org.deeplearning4j.nn.conf.ConvolutionMode.Same) {
                return "layer " + (i + 1) + " is not 2x2 max pooling of stride 2";
            }
        }
        return null;
    }

    /**
     * Whether a layer trains as the step trains every layer: no dropout, weight noise or gradient normalisation; the
     * first layer's L2 coefficient on its weights and no other regularisation ({@code firstL2}; {@link #l2}'s NaN
     * equals nothing); an updater the step runs.
     */
    private static boolean trainsAsTheStep(BaseLayer c, double firstL2) {
        return c.getIDropout() == null && c.getWeightNoise() == null && l2(c) == firstL2
            && (c.getGradientNormalization() == null || c.getGradientNormalization() == GradientNormalization.None)
            && trainsNatively(c.getIUpdater());
    }

    /** The updaters the native step runs: Adam, classical momentum, DL4J's Nesterov momentum. */
    private static boolean trainsNatively(org.nd4j.linalg.learning.config.IUpdater u) {
        return u instanceof SimdAdam || u instanceof ClassicalMomentum
            || u != null && u.getClass() == org.nd4j.linalg.learning.config.Nesterovs.class;
    }

    /**
     * The layer's L2 coefficient on its weights (0 for none), NaN where it has other regularisation (L1, weight
     * decay, a scheduled coefficient, any on its bias).
     */
    static double l2(BaseLayer c) {
        List<org.nd4j.linalg.learning.regularization.Regularization> r = c.getRegularization();
        if (!c.getRegularizationBias().isEmpty() || r.size() > 1) {
            return Double.NaN;
        }
        if (r.isEmpty()) {
            return 0;
        }
        if (r.get(0) instanceof org.nd4j.linalg.learning.regularization.L2Regularization l2
            && l2.getL2() instanceof org.nd4j.linalg.schedule.FixedSchedule fixed) {
            return fixed.valueAt(0, 0);
        }
        return Double.NaN;
    }

    private static NativeStep build(MultiLayerNetwork net) {
        Layer[] all = net.getLayers();
        int convLayers = convLayers(all);
        int[] convs = new int[convLayers / 2 * 6];
        if (convLayers > 0) {
            var pre = (org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor)
                net.getLayerWiseConfigurations().getInputPreProcess(0);
            int h = (int) pre.getInputHeight();
            int w = (int) pre.getInputWidth();
            int channels = 1;
            for (int b = 0; b < convLayers / 2; b++) {
                var c = (org.deeplearning4j.nn.conf.layers.ConvolutionLayer) all[2 * b].conf().getLayer();
                int k = c.getKernelSize()[0];
                int pad = c.getPadding()[0];
                int[] spec = {channels, h, w, pad, k, (int) c.getNOut()};
                System.arraycopy(spec, 0, convs, 6 * b, 6);
                channels = (int) c.getNOut();
                h = (h + 2 * pad - k + 1) / 2;
                w = (w + 2 * pad - k + 1) / 2;
            }
        }
        int dense = all.length - convLayers;
        int[] sizes = new int[dense + 1];
        for (int i = 0; i < dense; i++) {
            FeedForwardLayer c = (FeedForwardLayer) all[convLayers + i].conf().getLayer();
            sizes[i] = (int) c.getNIn();
            sizes[i + 1] = (int) c.getNOut();
        }
        BaseLayer first = (BaseLayer) all[0].conf().getLayer();
        return new NativeStep(net, convs, sizes, first.getIUpdater(), l2(first));
    }

    /** Whether only listeners this step calls as the Java path does ({@link SubnormalFlush}) watch the network. */
    private static boolean quietListeners(Collection<TrainingListener> listeners) {
        if (listeners != null) {
            for (TrainingListener l : listeners) {
                if (!(l instanceof SubnormalFlush)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Fits one minibatch as {@link TrainingStep#fit} would; false (nothing changed) where this minibatch or the
     * network's state is not one the native step takes, and the caller's Java path is to fit it.
     */
    boolean fit(DataSet batch) {
        INDArray x = batch.getFeatures();
        INDArray y = batch.getLabels();
        if (batch.getFeaturesMaskArray() != null || batch.getLabelsMaskArray() != null || x == null || y == null
            || x.isAttached() || net.getLayers() != layers || x.rank() != 2 || y.rank() != 2
            || x.size(1) != (convs.length > 0 ? (long) convs[1] * convs[2] : sizes[0])
            || y.size(1) != sizes[sizes.length - 1] || x.size(0) != y.size(0)
            || !HostArrays.rowMajor(x) || !HostArrays.rowMajor(y) || x.size(0) > Integer.MAX_VALUE
            || !quietListeners(net.getListeners())) {
            return false;
        }
        INDArray params = net.params();
        INDArray view = net.getGradientsViewArray();
        Updater netUpdater = net.getUpdater();
        if (view == null || !(netUpdater instanceof MultiLayerUpdater u) || u.getUpdaterBlocks().size() != 1
            || !contiguous(params, net.numParams()) || !contiguous(view, net.numParams())) {
            return false;
        }
        INDArray state = u.getUpdaterBlocks().get(0).getUpdaterView();
        long stateSize = updater.stateSize(net.numParams());
        if (state == null || !contiguous(state, stateSize)) {
            return false;
        }
        int rows = (int) x.size(0);
        if (!buffers(rows)) {
            return false;
        }
        int iteration = net.getIterationCount();
        int epoch = net.getEpochCount();
        double lossSum;
        if (updater instanceof SimdAdam adam) {
            lossSum = step(handle, address(x), address(y), rows, address(params), address(view), address(state),
                ADAM, adam.getLearningRate(iteration, epoch), adam.getBeta1(), adam.getBeta2(), adam.getEpsilon(),
                iteration, clip, l2);
        } else if (updater instanceof ClassicalMomentum m) {
            lossSum = step(handle, address(x), address(y), rows, address(params), address(view), address(state),
                MOMENTUM, m.getLearningRate(iteration, epoch), m.getMomentum(), 0, 0, iteration, clip, l2);
        } else {
            var n = (org.nd4j.linalg.learning.config.Nesterovs) updater;
            lossSum = step(handle, address(x), address(y), rows, address(params), address(view), address(state),
                NESTEROV, n.getLearningRate(iteration, epoch), n.currentMomentum(iteration, epoch), 0, 0, iteration,
                clip, l2);
        }
        if (Double.isNaN(lossSum)) {
            return false;
        }
        if (gradient == null || gradient.gradient() != view) {
            gradient = new org.deeplearning4j.nn.gradient.DefaultGradient(view);
        }
        StepWorkspaces.setGradient(net, gradient); // net.gradient(): the flattened view, as the Java step leaves it
        net.setScore(lossSum / rows);
        if (layers[layers.length - 1] instanceof TrainingOutputLayer out) {
            out.notePenalty(penalty(handle)); // what TrainLoss takes from the score, as the Java step leaves it
        }
        Collection<TrainingListener> listeners = net.getListeners();
        for (TrainingListener l : listeners == null ? List.<TrainingListener>of() : listeners) {
            try (MemoryWorkspace scope = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                l.iterationDone(net, iteration, epoch);
            }
        }
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        conf.setIterationCount(conf.getIterationCount() + 1);
        for (Layer l : layers) {
            l.setIterationCount(net.getIterationCount());
            l.setEpochCount(epoch);
        }
        STEPS.increment();
        return true;
    }

    /** Native buffers for minibatches of up to {@code rows} rows (made once, again only for a larger minibatch). */
    private boolean buffers(int rows) {
        if (rows <= maxBatch) {
            return true;
        }
        long gemm = Library.GEMM;
        long made = create(gemm, convs, sizes, rows);
        if (made == 0) {
            return false;
        }
        if (cleanable != null) {
            cleanable.clean();
        }
        handle = made;
        maxBatch = rows;
        cleanable = CLEANER.register(this, () -> release(made));
        return true;
    }

    /** A float array of {@code length} whose elements lie next to each other in host memory. */
    private static boolean contiguous(INDArray a, long length) {
        return a.length() == length && HostArrays.rowMajor(a);
    }

    private static long address(INDArray a) {
        return a.data().address() + 4L * a.offset();
    }

    private static native double penalty(long handle);

    /** Whether this CPU has what the library's hot code is compiled for (AVX2, FMA). */
    private static native boolean supported();

    private static final int ADAM = 0;
    private static final int MOMENTUM = 1;
    private static final int NESTEROV = 2;

    private static native long create(long gemm, int[] convs, int[] sizes, int maxBatch);

    private static native void release(long handle);

    private static native double step(long handle, long x, long y, int batch, long params, long gradient,
                                      long state, int updater, double learningRate, double hyper1, double hyper2,
                                      double epsilon, int iteration, float clip, double l2);

    /** The library, loaded once a JVM: {@link #WHY_NOT} is null where it loaded and can run here. */
    private static final class Library {
        static long GEMM;
        static final String WHY_NOT = load();

        private static String load() {
            if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").strip())) {
                return "switched off (-D" + PROPERTY + "=false)";
            }
            if (!"Linux".equals(System.getProperty("os.name"))
                || !"amd64".equals(System.getProperty("os.arch"))) {
                return "the native step is built for linux-x86_64 only";
            }
            if (!HostArrays.CPU || !HostBlas.AVAILABLE) {
                return "not the CPU backend with its OpenBLAS";
            }
            if (!SimdAdam.LibM.NATIVE) { // the Java step's Adam step size would not be glibc's powf's, as the C one's
                return "glibc's powf is not reachable through JNA";
            }
            String own = System.getProperty(PROPERTY + ".library"); // a build of one's own (measurements)
            try (InputStream in = own != null ? Files.newInputStream(Path.of(own))
                : NativeStep.class.getResourceAsStream(LIBRARY)) {
                if (in == null) {
                    return "this build has no native step (" + LIBRARY + " is not on the class path)";
                }
                Path file = Files.createTempFile("sparkmnist-step", ".so");
                file.toFile().deleteOnExit();
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                System.load(file.toString());
            } catch (IOException | LinkageError | SecurityException e) {
                return "the native step's library did not load: " + e;
            }
            if (!supported()) {
                return "this CPU has not AVX2 and FMA";
            }
            org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
            org.bytedeco.javacpp.Pointer gemm = org.bytedeco.javacpp.Loader.addressof("cblas_sgemm");
            if (gemm == null || gemm.address() == 0) {
                return "OpenBLAS's cblas_sgemm was not found";
            }
            GEMM = gemm.address();
            return null;
        }
    }
}
