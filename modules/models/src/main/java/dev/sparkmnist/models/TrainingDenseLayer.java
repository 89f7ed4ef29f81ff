package dev.sparkmnist.models;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's dense layer with ReLU, whose backward pass does not compute the forward pass again: DL4J's layer recomputes
 * its pre-activation in backpropagation (for the MLP's first layer a 128x784x256 product, a third of the forward
 * pass's arithmetic, every step). ReLU's derivative is 1 exactly where its output is positive, so the output the
 * forward pass already made (the next layer's input, alive until backpropagation ends) gives it
 * ({@link ReluDerivative}). The bias, weight and input gradients are then DL4J's own
 * computation, and equal DL4J's ({@code TrainingLayersTest}; a zero gradient may carry the incoming one's sign).
 * As a network's first layer it does not compute the gradient with respect to its input (the pictures, which nobody
 * reads; for the MLP a 128x256x784 product, a third of backpropagation's arithmetic) and hands back zeros instead.
 * Other activations, dropout, weight noise, layer normalisation, masks and non-float types use DL4J's backward pass.
 *
 * <p>Installed on a network's dense layers by {@link Models#forTraining}; the configuration (and so model.zip) is
 * DL4J's ordinary {@code DenseLayer}.
 */
final class TrainingDenseLayer extends DenseLayer {
    /** This step's output, from a training forward pass; null when the last forward pass was not one. */
    private transient INDArray output;
    /** False for a network's first layer: its input's gradient is not computed (zeros are handed back). */
    private final boolean inputGradient;

    TrainingDenseLayer(NeuralNetConfiguration conf, DataType dataType, boolean inputGradient) {
        super(conf, dataType);
        this.inputGradient = inputGradient;
    }

    private boolean covered() {
        org.deeplearning4j.nn.conf.layers.DenseLayer c = layerConf();
        return ReluDerivative.plain(c.getActivationFn()) && c.getIDropout() == null
            && c.getWeightNoise() == null && !hasLayerNorm() && dataType == DataType.FLOAT;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        INDArray out = super.activate(training, workspaceMgr);
        output = training && maskArray == null && covered() ? out : null;
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        INDArray out = output;
        output = null;
        if (out == null || maskArray != null || !covered() || input == null || out.size(0) != input.size(0)) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        assertInputSet(true);
        INDArray delta = ReluDerivative.times(out, epsilon, dataType, workspaceMgr); // output > 0 where z > 0

        // from here DL4J's BaseLayer.backpropGradient, as it is
        Gradient ret = new DefaultGradient();
        if (hasBias()) {
            INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
            delta.sum(biasGrad, 0);
            ret.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
        }
        INDArray epsilonNext;
        if (inputGradient) {
            INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
            epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, delta.dataType(),
                new long[] {w.size(0), delta.size(0)}, 'f');
            epsilonNext = w.mmuli(delta.transpose(), epsilonNext).transpose();
        } else { // the pictures' gradient, which no one reads: zeros of the right shape for DL4J's bookkeeping
            epsilonNext = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, delta.dataType(), input.shape(), 'c');
        }
        INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        Nd4j.gemm(input.castTo(weightGrad.dataType()), delta, weightGrad, true, false, 1.0, 0.0);
        ret.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
        weightNoiseParams.clear();
        return new Pair<>(ret, epsilonNext);
    }
}
