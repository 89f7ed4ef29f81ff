package dev.sparkmnist.models;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's convolution layer with a faster backward pass for what LeNet-5 trains: the pre-activation comes from DL4J's
 * cache (kept by the forward pass, {@link Models#forTraining} turns the cache on) and ReLU's derivative is
 * {@link ReluDerivative}'s. The gradients equal DL4J's (a zero gradient may carry the sign of the incoming one). The rest is DL4J's: its oneDNN helper computes the weight, bias
 * and input gradients. Configurations it does not cover (NHWC, Same mode, dropout, weight noise, no oneDNN helper,
 * non-float types) use DL4J's backward pass unchanged.
 *
 * <p>Installed on a network's convolution layers by {@link Models#forTraining}; the configuration (and so model.zip)
 * is DL4J's ordinary {@code ConvolutionLayer}.
 */
class TrainingConvolutionLayer extends ConvolutionLayer {
    /** This step's output, from a training forward pass that kept no cache; null otherwise. */
    private transient INDArray output;

    TrainingConvolutionLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** The configurations whose backward pass this class computes. */
    boolean covered() {
        org.deeplearning4j.nn.conf.layers.ConvolutionLayer c = layerConf();
        return c.getCnn2dDataFormat() == CNN2DFormat.NCHW && convolutionMode != ConvolutionMode.Same
            && c.getIDropout() == null && c.getWeightNoise() == null && dataType == DataType.FLOAT;
    }

    /**
     * DL4J's forward pass without its copy of the pre-activation into the cache: with plain ReLU the output (ReLU
     * applied in place, as DL4J applies it) is positive exactly where the pre-activation is, so the backward pass
     * takes ReLU's derivative from the output, which stays alive until backpropagation ends (the next layer's input).
     * Other cases (and a training step whose backward pass goes DL4J's way) keep DL4J's forward pass and its cache.
     */
    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        output = null;
        if (!training || input == null || !covered() || !ReluDerivative.plain(layerConf().getActivationFn())
            || !(helper instanceof MKLDNNConvHelper) || helperCountFail > 0) {
            return super.activate(training, workspaceMgr);
        }
        applyDropOutIfNecessary(true, workspaceMgr);
        INDArray z = preOutput(true, false, workspaceMgr).getFirst();
        preOutput = null; // no cached pre-activation: a later backward pass DL4J's way computes it again
        output = layerConf().getActivationFn().getActivation(z, true); // in place, DL4J's ReLU op
        return output;
    }

    /** The output the last training forward pass kept for the backward pass, if it kept one (tests). */
    INDArray keptOutput() {
        return output;
    }

    /** The gradient at the pre-activation: the activation's derivative times the incoming gradient. */
    INDArray delta(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (epsilon.dataType() != dataType) {
            epsilon = epsilon.castTo(dataType);
        }
        INDArray out = output;
        output = null;
        if (out != null && out.size(0) == input.size(0)) { // ReLU's output: positive where the pre-activation is
            return ReluDerivative.times(out, epsilon, dataType, workspaceMgr);
        }
        INDArray z = preOutput4d(true, true, workspaceMgr).getFirst(); // the forward pass's, from the cache
        IActivation afn = layerConf().getActivationFn();
        return ReluDerivative.plain(afn) ? ReluDerivative.times(z, epsilon, dataType, workspaceMgr)
            : afn.backprop(z, epsilon).getFirst();
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (!covered() || !(helper instanceof MKLDNNConvHelper) || helperCountFail > 0) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        assertInputSet(true);
        INDArray weights = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray bias = getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, true, workspaceMgr);
        INDArray in = input.castTo(dataType);
        INDArray delta = delta(epsilon, workspaceMgr);
        org.deeplearning4j.nn.conf.layers.ConvolutionLayer c = layerConf();
        Pair<Gradient, INDArray> ret = helper.backpropGradient(in, weights, bias, delta, c.getKernelSize(),
            c.getStride(), c.getPadding(), hasBias() ? gradientViews.get(ConvolutionParamInitializer.BIAS_KEY) : null,
            gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY), c.getActivationFn(), c.getCudnnAlgoMode(),
            c.getCudnnBwdFilterAlgo(), c.getCudnnBwdDataAlgo(), convolutionMode, c.getDilation(),
            CNN2DFormat.NCHW, workspaceMgr);
        return ret != null ? ret : super.backpropGradient(epsilon, workspaceMgr);
    }
}
