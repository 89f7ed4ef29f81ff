package dev.sparkmnist.models;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The workspace managers {@code MultiLayerNetwork.fit} builds from builders every step, built once for a network by
 * {@link TrainingStep}: the same workspaces (DL4J's names, which are protected in {@code MultiLayerNetwork}), the same
 * settings (the network's own configuration objects) and the network's map of helper workspace pointers, each array
 * type where DL4J's {@code fitHelper}, {@code ffToLayerActivationsInWs}, {@code computeGradientAndScore} and
 * {@code calcBackpropGradients} put it, and that last method's loop over the layers. It also writes the network's protected last gradient. Where this DL4J's
 * {@code MultiLayerNetwork} lacks the fields read here, {@link #AVAILABLE} is false and DL4J's {@code fit} trains.
 */
final class StepWorkspaces {
    private static final VarHandle GRADIENT;
    private static final VarHandle HELPER_WORKSPACES;
    private static final VarHandle WORKING_MEM_CONFIG;
    private static final VarHandle ACT_X_CONFIG;
    /** Whether the fields read here exist (DL4J 1.0.0-M2's). */
    static final boolean AVAILABLE;

    static {
        VarHandle[] h = new VarHandle[4];
        try {
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(MultiLayerNetwork.class,
                MethodHandles.lookup());
            h[0] = lookup.findVarHandle(MultiLayerNetwork.class, "gradient", Gradient.class);
            h[1] = lookup.findVarHandle(MultiLayerNetwork.class, "helperWorkspaces", Map.class);
            h[2] = lookup.findVarHandle(MultiLayerNetwork.class, "WS_LAYER_WORKING_MEM_CONFIG",
                WorkspaceConfiguration.class);
            h[3] = lookup.findVarHandle(MultiLayerNetwork.class, "WS_LAYER_ACT_X_CONFIG",
                WorkspaceConfiguration.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            h = new VarHandle[4]; // another DL4J version: DL4J's fit trains
        }
        GRADIENT = h[0];
        HELPER_WORKSPACES = h[1];
        WORKING_MEM_CONFIG = h[2];
        ACT_X_CONFIG = h[3];
        AVAILABLE = h[0] != null && h[1] != null && h[2] != null && h[3] != null;
    }

    /** fitHelper's: the updater's working memory. */
    final LayerWorkspaceMgr fit;
    /** ffToLayerActivationsInWs's: the forward pass. */
    final LayerWorkspaceMgr forward;
    /** computeGradientAndScore's: the activations' scope, the output layer's input, the score. */
    final LayerWorkspaceMgr score;
    /** calcBackpropGradients's for even and odd layers: activation gradients in two alternating workspaces. */
    final LayerWorkspaceMgr even;
    final LayerWorkspaceMgr odd;

    @SuppressWarnings("unchecked")
    StepWorkspaces(MultiLayerNetwork net) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        Map<String, Pointer> helpers = (Map<String, Pointer>) HELPER_WORKSPACES.get(net);
        WorkspaceConfiguration working = (WorkspaceConfiguration) WORKING_MEM_CONFIG.get(net);
        WorkspaceConfiguration actX = (WorkspaceConfiguration) ACT_X_CONFIG.get(net);
        String all = Names.ALL_LAYERS_ACT;
        WorkspaceConfiguration allConf = Names.ALL_LAYERS_ACT_CONFIG;
        fit = LayerWorkspaceMgr.builder()
            .with(ArrayType.INPUT, all, allConf)
            .with(ArrayType.ACTIVATIONS, all, allConf)
            .with(ArrayType.UPDATER_WORKING_MEM, all, allConf)
            .build();
        fit.setHelperWorkspacePointers(helpers);
        forward = LayerWorkspaceMgr.builder()
            .with(ArrayType.INPUT, all, allConf)
            .with(ArrayType.ACTIVATIONS, all, allConf)
            .with(ArrayType.FF_WORKING_MEM, Names.LAYER_WORKING_MEM, working)
            .with(ArrayType.RNN_FF_LOOP_WORKING_MEM, Names.RNN_LOOP_WORKING_MEM, Names.RNN_LOOP_WORKING_MEM_CONFIG)
            .build();
        if (conf.getCacheMode() != CacheMode.NONE) { // as ffToLayerActivationsInWs tests it
            forward.setWorkspace(ArrayType.FF_CACHE, all, allConf);
            forward.setWorkspace(ArrayType.BP_WORKING_MEM, Names.LAYER_WORKING_MEM, working);
        }
        forward.setHelperWorkspacePointers(helpers);
        score = LayerWorkspaceMgr.builder() // computeGradientAndScore sets no helper pointers on it either
            .with(ArrayType.INPUT, all, allConf)
            .with(ArrayType.ACTIVATIONS, all, allConf)
            .with(ArrayType.FF_WORKING_MEM, Names.LAYER_WORKING_MEM, working)
            .with(ArrayType.BP_WORKING_MEM, Names.LAYER_WORKING_MEM, working)
            .with(ArrayType.RNN_FF_LOOP_WORKING_MEM, Names.RNN_LOOP_WORKING_MEM, Names.RNN_LOOP_WORKING_MEM_CONFIG)
            .with(ArrayType.RNN_BP_LOOP_WORKING_MEM, Names.RNN_LOOP_WORKING_MEM, Names.RNN_LOOP_WORKING_MEM_CONFIG)
            .build();
        if (conf.getCacheMode() != null) { // as computeGradientAndScore tests it
            score.setWorkspace(ArrayType.FF_CACHE, all, allConf);
        }
        even = backprop(Names.LAYER_ACT_1, working, actX, helpers);
        odd = backprop(Names.LAYER_ACT_2, working, actX, helpers);
    }

    private static LayerWorkspaceMgr backprop(String actGrad, WorkspaceConfiguration working,
                                              WorkspaceConfiguration actX, Map<String, Pointer> helpers) {
        LayerWorkspaceMgr m = LayerWorkspaceMgr.builder()
            .with(ArrayType.ACTIVATIONS, Names.LAYER_WORKING_MEM, working)
            .with(ArrayType.INPUT, Names.ALL_LAYERS_ACT, Names.ALL_LAYERS_ACT_CONFIG)
            .with(ArrayType.ACTIVATION_GRAD, actGrad, actX)
            .with(ArrayType.FF_WORKING_MEM, Names.LAYER_WORKING_MEM, working)
            .with(ArrayType.BP_WORKING_MEM, Names.LAYER_WORKING_MEM, working)
            .with(ArrayType.RNN_FF_LOOP_WORKING_MEM, Names.RNN_LOOP_WORKING_MEM, Names.RNN_LOOP_WORKING_MEM_CONFIG)
            .with(ArrayType.RNN_BP_LOOP_WORKING_MEM, Names.RNN_LOOP_WORKING_MEM, Names.RNN_LOOP_WORKING_MEM_CONFIG)
            .build();
        m.setHelperWorkspacePointers(helpers);
        return m;
    }

    /**
     * calcBackpropGradients's loop from the output layer (its labels set) to the first, without the gradient map:
     * each layer's backward pass (then its input preprocessor's) with its activation gradient in the workspace of its
     * parity, opened before the layer and closed after the layer below it has read it; the first layer's input
     * gradient is dropped. The workspace current before is current again after, whatever happens.
     */
    void backprop(Layer[] layers, InputPreProcessor[] preProcessors, int batch) {
        MemoryWorkspace initial = Nd4j.getMemoryManager().getCurrentWorkspace();
        MemoryWorkspace closeNext = null;
        MemoryWorkspace opened = null;
        try {
            INDArray eps = null;
            for (int i = layers.length - 1; i >= 0; i--) {
                LayerWorkspaceMgr mgr = i % 2 == 0 ? even : odd;
                opened = mgr.notifyScopeEntered(ArrayType.ACTIVATION_GRAD);
                try (MemoryWorkspace bp = mgr.notifyScopeEntered(ArrayType.BP_WORKING_MEM)) {
                    // opened out of nesting order: closing either makes the initial workspace current again
                    opened.setPreviousWorkspace(initial);
                    bp.setPreviousWorkspace(initial);
                    eps = layers[i].backpropGradient(eps, mgr).getSecond();
                    if (preProcessors[i] != null) {
                        eps = preProcessors[i].backprop(eps, batch, mgr);
                    }
                    if (i == 0) {
                        eps = null;
                    }
                    if (closeNext != null) {
                        closeNext.close();
                    }
                    closeNext = opened;
                    opened = null;
                }
            }
        } finally {
            try {
                if (closeNext != null) {
                    closeNext.close();
                }
            } finally {
                try {
                    if (opened != null) {
                        opened.close();
                    }
                } finally {
                    Nd4j.getMemoryManager().setCurrentWorkspace(initial);
                }
            }
        }
    }

    /** Sets the network's last gradient, as calcBackpropGradients's caller does ({@code net.gradient()}). */
    static void setGradient(MultiLayerNetwork net, Gradient gradient) {
        GRADIENT.set(net, gradient);
    }

    /** DL4J's workspace names and the settings shared by every network (protected in MultiLayerNetwork). */
    private abstract static class Names extends MultiLayerNetwork {
        static final String ALL_LAYERS_ACT = WS_ALL_LAYERS_ACT;
        static final String LAYER_WORKING_MEM = WS_LAYER_WORKING_MEM;
        static final String LAYER_ACT_1 = WS_LAYER_ACT_1;
        static final String LAYER_ACT_2 = WS_LAYER_ACT_2;
        static final String RNN_LOOP_WORKING_MEM = WS_RNN_LOOP_WORKING_MEM;
        static final WorkspaceConfiguration ALL_LAYERS_ACT_CONFIG = WS_ALL_LAYERS_ACT_CONFIG;
        static final WorkspaceConfiguration RNN_LOOP_WORKING_MEM_CONFIG = WS_RNN_LOOP_WORKING_MEM_CONFIG;

        private Names() {
            super((MultiLayerConfiguration) null);
        }
    }
}
