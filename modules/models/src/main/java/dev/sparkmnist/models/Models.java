package dev.sparkmnist.models;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.schedule.ISchedule;

/** Builds DL4J configurations and initialised networks from {@link ModelOptions}. */
public final class Models {
    /** MNIST classes. */
    public static final int CLASSES = 10;
    static final int MLP_HIDDEN_1 = 256;
    static final int MLP_HIDDEN_2 = 128;
    static final int LENET_CONV_1 = 6;
    static final int LENET_CONV_2 = 16;
    static final int LENET_KERNEL = 5;
    static final int LENET_POOL = 2;
    static final int LENET_DENSE_1 = 120;
    static final int LENET_DENSE_2 = 84;

    private Models() {
    }

    /** The network configuration for these options. */
    public static MultiLayerConfiguration configuration(ModelOptions o) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
            .seed(o.seed())
            .weightInit(o.weightInit().dl4j())
            .activation(o.activation().dl4j())
            .updater(updater(o))
            .l2(o.l2())
            .list();
        if (o.architecture() == Architecture.MLP) {
            list.layer(dense(o, MLP_HIDDEN_1))
                .layer(dense(o, MLP_HIDDEN_2));
        } else {
            list.layer(new ConvolutionLayer.Builder(LENET_KERNEL, LENET_KERNEL)
                    .padding(o.inputPadding(), o.inputPadding()).nOut(LENET_CONV_1).build())
                .layer(maxPool())
                .layer(new ConvolutionLayer.Builder(LENET_KERNEL, LENET_KERNEL).nOut(LENET_CONV_2).build())
                .layer(maxPool())
                .layer(dense(o, LENET_DENSE_1))
                .layer(dense(o, LENET_DENSE_2));
        }
        list.layer(new OutputLayer.Builder().lossFunction(o.loss().function()).nOut(CLASSES)
            .activation(o.loss().outputActivation()).build());
        return list.setInputType(o.architecture().inputType()).build();
    }

    /** An initialised network for these options, set up for training ({@link #forTraining}). */
    public static MultiLayerNetwork network(ModelOptions o) {
        MultiLayerNetwork net = new MultiLayerNetwork(configuration(o));
        net.init();
        return forTraining(net);
    }

    /**
     * Sets an initialised network up to train faster with the same results, without changing its configuration's
     * layers (saved models stay DL4J's): the first layer, where it is DL4J's convolution layer, becomes an
     * {@link InputConvolutionLayer} (no gradient with respect to the pictures, which nobody reads) and the other
     * convolutions {@link TrainingConvolutionLayer}s (ReLU's derivative in two vectorised ops); dense layers
     * {@link TrainingDenseLayer}s (no second forward product in backpropagation, and as layer 0 no input gradient
     * either); max-pooling layers become
     * {@link MaxPoolLayer}s (a plain backward pass instead of oneDNN's); the output layer a {@link TrainingOutputLayer}
     * (one forward pass and softmax a step instead of two, the loss in Java, and keeps its score's L1/L2 penalty,
     * {@link #scorePenalty}); and DL4J's cache mode keeps each
     * convolution's pre-activation from the forward pass for backpropagation instead of computing the convolution
     * again; a {@link SubnormalFlush} listener keeps subnormal numbers out of the updater's state (they made every
     * Adam step slower as training went on). A network that trains with {@link SimdAdam} or {@link ClassicalMomentum}
     * gets a {@link FusedMinibatchUpdater} on the same updater state (the updater's vector kernel divides the gradient
     * by the minibatch size as it loads it) and a {@link FusedStepSgd} optimiser (the kernel takes the update from the
     * parameters too).
     * Only layer objects, listeners, that updater and the optimiser object change (same configuration, parameters,
     * gradient views and updater state).
     * Call before the updater is built on the layers; do not use on a network whose input gradient is wanted
     * ({@code MultiLayerNetwork.backpropGradient} of a network used as a layer). Idempotent. Returns {@code net}.
     */
    public static MultiLayerNetwork forTraining(MultiLayerNetwork net) {
        return forTraining(net, null);
    }

    /**
     * As {@link #forTraining(MultiLayerNetwork)}, the updater built on {@code updaterState} (used, not copied) where it
     * is not null ({@link #trainingUpdater}): for a network restored from a snapshot of its parameters and state.
     */
    public static MultiLayerNetwork forTraining(MultiLayerNetwork net, INDArray updaterState) {
        if (net.getLayers() == null || net.getLayers().length == 0) {
            return net;
        }
        replaceLayers(net);
        net.getLayerWiseConfigurations().setCacheMode(CacheMode.DEVICE);
        net.setCacheMode(CacheMode.DEVICE);
        if (net.getListeners() == null || net.getListeners().stream().noneMatch(SubnormalFlush.class::isInstance)) {
            net.addListeners(new SubnormalFlush());
        }
        org.deeplearning4j.nn.api.Updater updater = net.getUpdater(false);
        if (updaterState != null) {
            net.setUpdater(trainingUpdater(net, updaterState));
        } else if (usesFusingUpdater(net) && !(updater instanceof FusedMinibatchUpdater)) {
            net.setUpdater(trainingUpdater(net, updater == null ? null : updater.getStateViewArray()));
        }
        if (net.getUpdater(false) instanceof FusedMinibatchUpdater) {
            FusedStepSgd.install(net); // Adam's pass takes the step too; where it cannot, DL4J's optimiser stays
        }
        start(kernelsToWarm(net)); // while the run sets up, not in its first epoch
        return net;
    }

    /**
     * Starts the warm-up of the updater's Java vector kernel (Adam's, classical momentum's) for a network that DL4J's
     * own {@code fit} trains: DL4J's parameter averaging master, whose workers build their networks from the
     * configuration, with DL4J's layers and this project's updaters. {@link #forTraining} leaves it out where
     * {@link NativeStep} would train the network, which that master's workers do not use.
     */
    public static void warmUpUpdaterKernel(MultiLayerNetwork net) {
        start(updaterKernels(net));
    }

    /** The Java vector kernels whose warm-up {@link #forTraining} starts. */
    enum VectorKernel { ADAM, MOMENTUM, POOLING, CHANNEL_SUMS }

    private static void start(java.util.Set<VectorKernel> kernels) {
        for (VectorKernel k : kernels) {
            switch (k) {
                case ADAM -> SimdAdam.Kernel.start();
                case MOMENTUM -> ClassicalMomentum.warmUp();
                case POOLING -> MaxPoolLayer.warmUp();
                case CHANNEL_SUMS -> ChannelSums.warmUp();
            }
        }
    }

    /**
     * The Java vector kernels {@code net}, set up for training, will run, whose warm-ups {@link #forTraining} starts:
     * the updater's and the first convolution's bias gradient where the training step is Java's, LeNet's pooling
     * always (the evaluation's forward pass runs it). Where {@link NativeStep} will train the network, the step's
     * kernels are never called, and warming them took C2 about 0.5 s of a core and the warm-up thread 0.17 s before a
     * resident MLP's first epoch (BENCHMARKS.md, round 45). A kernel that does run later starts its own warm-up at its
     * first call.
     */
    static java.util.EnumSet<VectorKernel> kernelsToWarm(MultiLayerNetwork net) {
        boolean javaStep = !NativeStep.applies(net);
        java.util.EnumSet<VectorKernel> kernels = javaStep ? updaterKernels(net)
            : java.util.EnumSet.noneOf(VectorKernel.class);
        for (org.deeplearning4j.nn.api.Layer layer : net.getLayers()) {
            if (layer instanceof MaxPoolLayer) {
                kernels.add(VectorKernel.POOLING);
            } else if (javaStep && layer instanceof InputConvolutionLayer) {
                kernels.add(VectorKernel.CHANNEL_SUMS);
            }
        }
        return kernels;
    }

    /** The updater's kernel a Java step of {@code net} runs, if any. */
    private static java.util.EnumSet<VectorKernel> updaterKernels(MultiLayerNetwork net) {
        java.util.EnumSet<VectorKernel> kernels = java.util.EnumSet.noneOf(VectorKernel.class);
        if (trainsWith(net, SimdAdam.class)) {
            kernels.add(VectorKernel.ADAM);
        }
        if (trainsWith(net, ClassicalMomentum.class)) {
            kernels.add(VectorKernel.MOMENTUM);
        }
        return kernels;
    }

    /**
     * The updater a network set up by {@link #forTraining} trains with, on {@code updaterState} (used, not copied;
     * null: a new, initialised state): a {@link FusedMinibatchUpdater} where its parameters train with
     * {@link SimdAdam} or {@link ClassicalMomentum}, else DL4J's.
     */
    public static org.deeplearning4j.nn.updater.MultiLayerUpdater trainingUpdater(MultiLayerNetwork net,
                                                                                  INDArray updaterState) {
        return usesFusingUpdater(net) ? new FusedMinibatchUpdater(net, updaterState)
            : new org.deeplearning4j.nn.updater.MultiLayerUpdater(net, updaterState);
    }

    /**
     * Sets an initialised network up to infer faster with the same outputs: the layer objects of {@link #forTraining}
     * (their forward passes: the dense layers' product, bias and ReLU in one OpenBLAS call and one loop, LeNet-5's 2x2
     * pooling as a Java loop instead of oneDNN's with its layout conversions), without the training set-up (listeners,
     * cache mode, the updater's warm-up). A network restored only to be evaluated or to score gets the forward passes
     * the training network evaluates with, so both give the same outputs. Idempotent. Returns {@code net}.
     */
    public static MultiLayerNetwork forInference(MultiLayerNetwork net) {
        if (net.getLayers() != null && net.getLayers().length > 0) {
            replaceLayers(net);
        }
        return net;
    }

    /** Replaces DL4J's layer objects by this project's where it has one (same configuration and parameters). */
    private static void replaceLayers(MultiLayerNetwork net) {
        org.deeplearning4j.nn.api.Layer[] layers = net.getLayers();
        DataType dataType = net.getLayerWiseConfigurations().getDataType();
        boolean changed = false;
        for (int i = 0; i < layers.length; i++) {
            Class<?> type = layers[i].getClass();
            if (type == org.deeplearning4j.nn.layers.convolution.ConvolutionLayer.class) {
                layers[i] = replace(layers[i], i == 0 ? new InputConvolutionLayer(layers[i].conf(), dataType)
                    : new TrainingConvolutionLayer(layers[i].conf(), dataType));
                changed = true;
            } else if (type == org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class) {
                layers[i] = replace(layers[i], new TrainingDenseLayer(layers[i].conf(), dataType, i > 0,
                    net.getLayerWiseConfigurations().getInputPreProcess(i) != null));
                changed = true;
            } else if (type == org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer.class) {
                layers[i] = replace(layers[i], new MaxPoolLayer(layers[i].conf(), dataType));
                changed = true;
            } else if (type == org.deeplearning4j.nn.layers.OutputLayer.class) {
                layers[i] = replace(layers[i], new TrainingOutputLayer(layers[i].conf(), dataType));
                changed = true;
            }
        }
        if (changed) {
            net.setLayers(layers);
        }
    }

    /** Whether some layer of {@code net} trains with an updater that has a vector kernel ({@link FusingUpdater}). */
    private static boolean usesFusingUpdater(MultiLayerNetwork net) {
        return !updaterKernels(net).isEmpty();
    }

    /** Whether some layer of {@code net} trains with an updater of this class. */
    private static boolean trainsWith(MultiLayerNetwork net, Class<? extends IUpdater> updater) {
        for (org.deeplearning4j.nn.conf.NeuralNetConfiguration c : net.getLayerWiseConfigurations().getConfs()) {
            if (c.getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseLayer b
                && updater.isInstance(b.getIUpdater())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The L1/L2 penalty DL4J added to {@code net}'s last score (computed with that score, before the update), or NaN
     * where the network does not keep it (its output layer is not set up by {@link #forTraining}).
     */
    public static double scorePenalty(MultiLayerNetwork net) {
        return net.getLayers() != null && net.getOutputLayer() instanceof TrainingOutputLayer out
            ? out.penalty() : Double.NaN;
    }

    /** {@code by}, given {@code old}'s listeners, index, parameters and gradient views. */
    private static org.deeplearning4j.nn.api.Layer replace(org.deeplearning4j.nn.api.Layer old,
                                                           org.deeplearning4j.nn.api.Layer by) {
        by.setListeners(old.getListeners());
        by.setIndex(old.getIndex());
        if (old.numParams() > 0) {
            by.setParamsViewArray(old.params());
            by.setParamTable(old.paramTable());
            if (old.getGradientsViewArray() != null) {
                by.setBackpropGradientsViewArray(old.getGradientsViewArray());
            }
        }
        by.setConf(old.conf());
        return by;
    }

    private static DenseLayer dense(ModelOptions o, int units) {
        DenseLayer.Builder b = new DenseLayer.Builder().nOut(units);
        if (o.dropout() > 0) {
            b.dropOut(1.0 - o.dropout()); // DL4J takes the retain probability
        }
        return b.build();
    }

    private static SubsamplingLayer maxPool() {
        return new SubsamplingLayer.Builder(PoolingType.MAX)
            .kernelSize(LENET_POOL, LENET_POOL).stride(LENET_POOL, LENET_POOL).build();
    }

    static IUpdater updater(ModelOptions o) {
        ISchedule schedule = o.schedule().toDl4j(o.learningRate());
        return switch (o.optimizer()) {
            case SGD -> schedule == null ? new Sgd(o.learningRate()) : new Sgd(schedule);
            case MOMENTUM -> new ClassicalMomentum(o.learningRate(), schedule, o.momentum());
            case NESTEROV -> schedule == null ? new Nesterovs(o.learningRate(), o.momentum())
                : new Nesterovs(schedule, o.momentum());
            case ADAM -> schedule == null ? new SimdAdam(o.learningRate()) : new SimdAdam(schedule);
        };
    }
}
