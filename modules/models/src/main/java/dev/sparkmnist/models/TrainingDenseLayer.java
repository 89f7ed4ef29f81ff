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
 * reads; for the MLP a 128x256x784 product, a third of backpropagation's arithmetic) and hands back null, DL4J's "no
 * input gradient" (zeros where an input preprocessor reads it).
 * Other activations, dropout, weight noise, layer normalisation, masks and non-float types use DL4J's backward pass.
 *
 * <p>On the CPU backend, for float matrices in host memory, the forward pass (product, bias, ReLU) and the backward
 * pass (ReLU's derivative, the bias, weight and input gradients) run as OpenBLAS calls ({@link HostBlas}) and Java
 * loops ({@link DenseKernels}) instead of eight ND4J ops, whose set-up cost more than these small products' arithmetic:
 * the same operations (sums may add in another order), so the results equal DL4J's to float rounding.
 *
 * <p>Installed on a network's dense layers by {@link Models#forTraining}; the configuration (and so model.zip) is
 * DL4J's ordinary {@code DenseLayer}.
 */
final class TrainingDenseLayer extends DenseLayer {
    /** This step's output, from a training forward pass; null when the last forward pass was not one. */
    private transient INDArray output;
    /** False for a network's first layer: its input's gradient is not computed. */
    private final boolean inputGradient;
    /**
     * For a first layer: hand back zeros in place of its input's gradient (where an input preprocessor would read
     * it) rather than null, which DL4J takes as "no input gradient" (as for an embedding layer).
     */
    private final boolean zerosForInput;
    private transient DenseKernels kernels;

    TrainingDenseLayer(NeuralNetConfiguration conf, DataType dataType, boolean inputGradient, boolean zerosForInput) {
        super(conf, dataType);
        this.inputGradient = inputGradient;
        this.zerosForInput = zerosForInput;
    }

    /** What a first layer hands back as its input's gradient: null, or zeros where a preprocessor reads it. */
    private INDArray noInputGradient(LayerWorkspaceMgr workspaceMgr) {
        return zerosForInput ? workspaceMgr.create(ArrayType.ACTIVATION_GRAD, dataType, input.shape(), 'c') : null;
    }

    private boolean covered() {
        org.deeplearning4j.nn.conf.layers.DenseLayer c = layerConf();
        return ReluDerivative.plain(c.getActivationFn()) && c.getIDropout() == null
            && c.getWeightNoise() == null && !hasLayerNorm() && dataType == DataType.FLOAT;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        INDArray out = hostForward(workspaceMgr);
        if (out == null) {
            out = super.activate(training, workspaceMgr);
        }
        output = training && maskArray == null && covered() ? out : null;
        return out;
    }

    /**
     * DL4J's forward pass (the product, the bias, ReLU) as one OpenBLAS call and one loop on host memory; null where
     * it does not apply (DL4J's path runs, and reports bad input as it does).
     */
    private INDArray hostForward(LayerWorkspaceMgr workspaceMgr) {
        if (!HostBlas.AVAILABLE || !covered() || maskArray != null || input == null || input.rank() != 2
            || input.dataType() != DataType.FLOAT || !hasBias()) {
            return null;
        }
        return kernels().preOutput(input, getParam(DefaultParamInitializer.WEIGHT_KEY),
            getParam(DefaultParamInitializer.BIAS_KEY), true, workspaceMgr);
    }

    private DenseKernels kernels() {
        if (kernels == null) {
            kernels = new DenseKernels();
        }
        return kernels;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        INDArray out = output;
        output = null;
        if (out == null || maskArray != null || !covered() || input == null || out.size(0) != input.size(0)) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        assertInputSet(true);
        Pair<Gradient, INDArray> host = hostBackward(out, epsilon, workspaceMgr);
        if (host != null) {
            return host;
        }
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
        } else { // the pictures' gradient, which no one reads
            epsilonNext = noInputGradient(workspaceMgr);
        }
        INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        Nd4j.gemm(input.castTo(weightGrad.dataType()), delta, weightGrad, true, false, 1.0, 0.0);
        ret.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
        weightNoiseParams.clear();
        return new Pair<>(ret, epsilonNext);
    }

    /**
     * The backward pass above with ReLU's derivative and the bias gradient in one loop and the two products as
     * OpenBLAS calls on host memory; null where it does not apply (nothing written then).
     */
    private Pair<Gradient, INDArray> hostBackward(INDArray out, INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (!HostBlas.AVAILABLE || !hasBias() || input.rank() != 2 || input.dataType() != DataType.FLOAT
            || epsilon.dataType() != DataType.FLOAT || HostBlas.leading(input) == 0) {
            return null;
        }
        INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
        INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        INDArray w = getParam(DefaultParamInitializer.WEIGHT_KEY);
        if (HostBlas.leading(weightGrad) == 0 || HostBlas.leading(w) == 0 // out stands for delta, made below like it
            || !DenseKernels.reluBackwardRuns(out, epsilon, out, biasGrad)) {
            return null;
        }
        INDArray delta = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, DataType.FLOAT, out.shape(), 'c');
        if (!kernels().reluBackward(out, epsilon, delta, biasGrad)) {
            return null;
        }
        INDArray epsilonNext;
        if (inputGradient) {
            epsilonNext = kernels().inputGradient(delta, w, workspaceMgr);
        } else { // the pictures' gradient, which no one reads
            epsilonNext = noInputGradient(workspaceMgr);
        }
        kernels().blas().gemm(input, true, delta, false, weightGrad, 0f);
        Gradient ret = new DefaultGradient();
        ret.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
        ret.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
        weightNoiseParams.clear();
        return new Pair<>(ret, epsilonNext);
    }
}
