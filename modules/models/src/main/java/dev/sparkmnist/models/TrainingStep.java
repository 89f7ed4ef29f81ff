package dev.sparkmnist.models;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.api.layers.RecurrentLayer;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.layers.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.optimize.api.ConvexOptimizer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.optimize.solvers.StochasticGradientDescent;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One training step of a network, {@code MultiLayerNetwork.fit(DataSet)} without its per-step scaffolding: the same
 * calls on the same layers, updater, optimiser step and listeners, in the same workspaces and order, so the same
 * floats ({@code TrainingStepTest}), but without what DL4J builds again every step around them (four workspace
 * managers from builders and hash maps, a solver's call chain, a linked list of triples and a string key per
 * parameter array for a gradient map nothing reads when no layer normalises its gradient, workspace location
 * checks). That scaffolding is Java the JIT compiles late, because each of its methods runs once a step:
 * {@code MultiLayerNetwork.calcBackpropGradients} alone took 0.1 s of C2's 0.51 s in a resident MLP's second epoch
 * (BENCHMARKS.md, round 29, which also measures what this class changes). The workspace managers, built once, and the
 * backward loop over the layers are {@link StepWorkspaces}.
 *
 * <p>It applies to a feed-forward network trained with stochastic gradient descent (DL4J's optimiser or
 * {@link FusedStepSgd}), workspaces on, standard backpropagation, no frozen, wrapper or recurrent layers, no gradient
 * normalisation, and to a minibatch without masks whose features are not in a workspace; anything else, and every
 * network while the switch {@code -Dsparkmnist.trainingStep=false} is set, is fitted by DL4J's {@code fit}. What it
 * does not keep up to date: the gradient's per-parameter map ({@code net.gradient().gradientForVariable()} is empty;
 * the flattened gradient, {@code net.gradient().gradient()}, is the same array) and the optimiser's own copy of the
 * score ({@code net.score()} is set as DL4J sets it).
 *
 * <p>Where {@link NativeStep} applies (the MLP and LeNet-5 as this project configures them), the whole step runs in
 * native code instead; a minibatch it does not take comes here.
 *
 * <p>One object per network and thread; not thread-safe (neither is DL4J's {@code fit}).
 */
public final class TrainingStep {
    /** The switch: false fits every network with DL4J's {@code fit}. */
    public static final String PROPERTY = "sparkmnist.trainingStep";
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TrainingStep.class);
    /** Steps this class took itself in this JVM, every network's. */
    private static final java.util.concurrent.atomic.LongAdder STEPS = new java.util.concurrent.atomic.LongAdder();
    /** What the log already said in this JVM: one line for the step, one for each reason DL4J's fit trains. */
    private static final java.util.Set<String> SAID = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final MultiLayerNetwork net;
    /** Null where this network is fitted by DL4J's {@code fit}; else the reason is null and these are set. */
    private final String whyNot;
    private Layer[] layers;
    private InputPreProcessor[] preProcessors;
    private StepWorkspaces ws;
    private DefaultGradient gradient;
    private long leanSteps;
    private final NativeStep nativeStep;

    private TrainingStep(MultiLayerNetwork net, boolean nativeToo) {
        this.net = net;
        this.whyNot = prepare();
        this.nativeStep = whyNot == null && nativeToo ? NativeStep.of(net) : null;
        String line = whyNot == null ? "training steps run without DL4J's per-step scaffolding (TrainingStep)"
            : "training steps run DL4J's fit: " + whyNot;
        if (SAID.add(line)) {
            LOG.info("{}", line);
        }
    }

    /** Steps {@link TrainingStep}s took themselves (not through DL4J's {@code fit}) in this JVM so far. */
    public static long steps() {
        return STEPS.sum();
    }

    /** The step for {@code net} (set up by {@link Models#forTraining} or not: anything it cannot do, DL4J does). */
    public static TrainingStep of(MultiLayerNetwork net) {
        return new TrainingStep(net, true);
    }

    /** The step for {@code net} without {@link NativeStep}: its Java path (for comparisons). */
    static TrainingStep javaOnly(MultiLayerNetwork net) {
        return new TrainingStep(net, false);
    }

    /** Whether this network's steps run in native code ({@link NativeStep}) where the minibatch allows. */
    public boolean isNative() {
        return nativeStep != null;
    }

    /** Why this network's steps are DL4J's {@code fit}; null when they are this class's. */
    public String whyNot() {
        return whyNot;
    }

    /** How many steps this object took itself (not through DL4J's {@code fit}). */
    public long leanSteps() {
        return leanSteps;
    }

    /** Fits one minibatch, as {@code net.fit(batch)} (in native code where {@link NativeStep} applies). */
    public void fit(DataSet batch) {
        INDArray features = batch.getFeatures();
        if (nativeStep != null && current() && nativeStep.fit(batch)) {
            leanSteps++;
            STEPS.increment();
            return;
        }
        if (whyNot != null || batch.getFeaturesMaskArray() != null || batch.getLabelsMaskArray() != null
            || features == null || features.isAttached() || !current()) {
            net.fit(batch);
            return;
        }
        step(features, batch.getLabels());
        leanSteps++;
        STEPS.increment();
    }

    /** Whether what {@link #prepare} saw still holds (DL4J builds a new solver after {@code clear()}). */
    private boolean current() {
        return net.getLayers() == layers && solverOptimizer() instanceof StochasticGradientDescent sgd
            && sgd.getGradientsAccumulator() == null;
    }

    private ConvexOptimizer solverOptimizer() {
        try {
            return net.getOptimizer();
        } catch (NullPointerException e) { // no solver yet: DL4J's fit builds it
            return null;
        }
    }

    private String prepare() {
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").strip())) {
            return "switched off (-D" + PROPERTY + "=false)";
        }
        if (!StepWorkspaces.AVAILABLE) {
            return "this DL4J's MultiLayerNetwork has not the fields this class knows";
        }
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        Layer[] all = net.getLayers();
        if (all == null || all.length < 2) {
            return "not an initialised network of two layers or more";
        }
        if (conf.getTrainingWorkspaceMode() != WorkspaceMode.ENABLED) {
            return "training workspaces are not enabled";
        }
        if (conf.getBackpropType() != BackpropType.Standard) {
            return "not standard backpropagation";
        }
        if (!(all[all.length - 1] instanceof IOutputLayer)) {
            return "the last layer is not an output layer";
        }
        for (Layer l : all) {
            if (l instanceof FrozenLayer || l instanceof FrozenLayerWithBackprop || l instanceof BaseWrapperLayer
                || l instanceof RecurrentLayer || l instanceof MultiLayerNetwork) {
                return "layer " + l.getIndex() + " is a " + l.getClass().getSimpleName();
            }
            GradientNormalization g = l.getConfig() == null ? null : l.getConfig().getGradientNormalization();
            if (g != null && g != GradientNormalization.None) {
                return "layer " + l.getIndex() + " normalises its gradient";
            }
        }
        if (net.getGradientsViewArray() == null) {
            net.initGradientsView();
        }
        layers = all;
        preProcessors = new InputPreProcessor[all.length];
        for (int i = 0; i < all.length; i++) {
            preProcessors[i] = conf.getInputPreProcess(i);
        }
        ws = new StepWorkspaces(net);
        return null;
    }

    /** fitHelper, StochasticGradientDescent.optimize and BaseOptimizer.gradientAndScore, in their order. */
    private void step(INDArray features, INDArray labels) {
        if (net.numParams() == 0) {
            return;
        }
        net.setInput(features);
        net.setLabels(labels);
        net.setLayerMaskArrays(null, null);
        Collection<TrainingListener> listeners = net.getListeners();
        boolean listening = listeners != null && !listeners.isEmpty();
        computeGradientAndScore(features, labels, listeners, listening);
        if (listening) {
            try (MemoryWorkspace scope = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                for (TrainingListener l : listeners) {
                    l.onGradientCalculation(net);
                }
            }
        }
        ConvexOptimizer optimizer = net.getOptimizer();
        Gradient g = gradient;
        optimizer.updateGradientAccordingToParams(g, net, net.batchSize(), ws.fit);
        INDArray params = net.params();
        optimizer.getStepFunction().step(params, g.gradient());
        int iteration = net.getIterationCount();
        int epoch = net.getEpochCount();
        if (listening) {
            try (MemoryWorkspace scope = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                for (TrainingListener l : listeners) {
                    l.iterationDone(net, iteration, epoch);
                }
            }
        }
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        conf.setIterationCount(conf.getIterationCount() + 1);
        net.applyConstraints(net.getIterationCount(), net.getEpochCount());
        net.clearLayerMaskArrays();
        net.clearLayersStates();
        synchronizeCounts();
    }

    /** The network's iteration and epoch counts into its layers (DL4J's synchronizeIterEpochCounts). */
    private void synchronizeCounts() {
        int iteration = net.getIterationCount();
        int epoch = net.getEpochCount();
        for (Layer l : layers) {
            l.setIterationCount(iteration);
            l.setEpochCount(epoch);
        }
    }

    /** MultiLayerNetwork.computeGradientAndScore, its forward pass ffToLayerActivationsInWs. */
    private void computeGradientAndScore(INDArray features, INDArray labels, Collection<TrainingListener> listeners,
                                         boolean listening) {
        synchronizeCounts();
        int last = layers.length - 1;
        int batch = net.getInputMiniBatchSize();
        try (MemoryWorkspace scope = ws.score.notifyScopeEntered(ArrayType.ACTIVATIONS)) {
            List<INDArray> activations = listening ? new ArrayList<>(layers.length) : null;
            if (activations != null) {
                activations.add(features);
            }
            INDArray x = features;
            for (int i = 0; i < last; i++) {
                try (MemoryWorkspace working = ws.forward.notifyScopeEntered(ArrayType.FF_WORKING_MEM)) {
                    if (preProcessors[i] != null) {
                        x = preProcessors[i].preProcess(x, batch, ws.forward);
                    }
                    x = layers[i].activate(x, true, ws.forward);
                    if (x == null) {
                        throw new IllegalStateException("Layer " + i + " returned null activations");
                    }
                    if (activations != null) {
                        activations.add(x);
                    }
                }
            }
            if (listening) {
                for (TrainingListener tl : listeners) {
                    tl.onForwardPass(net, activations);
                }
            }
            if (preProcessors[last] != null) {
                x = preProcessors[last].preProcess(x, batch, ws.score);
            }
            layers[last].setInput(x, ws.score);
            backprop(labels);
            try (MemoryWorkspace working = ws.score.notifyScopeEntered(ArrayType.FF_WORKING_MEM)) {
                double r = net.calcRegularizationScore(true);
                net.setScore(((IOutputLayer) layers[last]).computeScore(r, true, ws.score));
            }
            if (listening) {
                try (MemoryWorkspace out = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                    for (TrainingListener tl : listeners) {
                        tl.onBackwardPass(net);
                    }
                }
            }
        }
        layers[last].clearNoiseWeightParams();
    }

    /** MultiLayerNetwork.calcBackpropGradients(null, true, false, false), without the gradient map. */
    private void backprop(INDArray labels) {
        INDArray view = net.getGradientsViewArray();
        if (view == null) {
            net.initGradientsView();
            view = net.getGradientsViewArray();
        }
        if (gradient == null || gradient.gradient() != view) {
            gradient = new DefaultGradient(view);
        }
        IOutputLayer output = (IOutputLayer) layers[layers.length - 1];
        if (labels == null && output.needsLabels()) {
            throw new IllegalStateException("No labels found");
        }
        output.setLabels(labels);
        ws.backprop(layers, preProcessors, net.getInputMiniBatchSize());
        StepWorkspaces.setGradient(net, gradient);
    }
}
