package dev.sparkmnist.models;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Conv2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's convolution layer for a network's first layer, whose gradient with respect to the input (the pictures)
 * nobody reads: backpropagation computes only the weight and bias gradients (the weights' as one more oneDNN
 * convolution: the pictures convolved with the output gradient) and hands back zeros as the input's gradient. DL4J
 * always computes the input's gradient, which for LeNet-5's first layer (1 input channel, 24x24 outputs) was the most
 * expensive call of a training step: oneDNN's backward-data convolution plus the reorders into and out of its blocked
 * layout (BENCHMARKS.md, "Per-core speed"). The forward pass is DL4J's (oneDNN's); the gradient at the
 * pre-activation is {@link TrainingConvolutionLayer}'s. The weight and bias gradients equal DL4J's up to float
 * rounding ({@code TrainingLayersTest}).
 *
 * <p>Installed on a network's layer 0 by {@link Models#forTraining}; the configuration (and so model.zip) is
 * DL4J's ordinary {@code ConvolutionLayer}. Configurations it does not cover (strides other than 1, dilation, NHWC,
 * Same mode, dropout or weight noise) use DL4J's backpropagation unchanged.
 */
final class InputConvolutionLayer extends TrainingConvolutionLayer {
    InputConvolutionLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** What the weight gradient below is written for (and tested with): LeNet's first layer, padded or not. */
    @Override
    boolean covered() {
        org.deeplearning4j.nn.conf.layers.ConvolutionLayer c = layerConf();
        int[] dilation = c.getDilation();
        int[] stride = c.getStride();
        return super.covered() && stride[0] == 1 && stride[1] == 1 && dilation[0] == 1 && dilation[1] == 1;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (!covered()) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        assertInputSet(true);
        INDArray input = this.input.castTo(dataType);
        INDArray delta = delta(epsilon, workspaceMgr); // [mb, out, outH, outW]
        int[] pad = layerConf().getPadding();

        Gradient gradient = new DefaultGradient();
        if (hasBias()) {
            INDArray biasGradView = gradientViews.get(ConvolutionParamInitializer.BIAS_KEY);
            if (!ChannelSums.sum(delta, biasGradView)) {
                biasGradView.assign(delta.sum(0, 2, 3).reshape(biasGradView.shape()));
            }
            gradient.setGradientFor(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
        }
        // dL/dW[o,i,ky,kx] = sum over n,y,x of delta[n,o,y,x] * in[n,i,y+ky-p,x+kx-p]: itself a convolution (one
        // oneDNN call) of the padded pictures, channels and batch swapped, with delta as the kernel
        INDArray weightGradView = gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY); // [out, in, kH, kW], c
        long outDepth = weightGradView.size(0);
        long inDepth = weightGradView.size(1);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType,
            new long[] {inDepth, outDepth, weightGradView.size(2), weightGradView.size(3)}, 'c');
        Conv2DConfig weightGradient = Conv2DConfig.builder().kH(delta.size(2)).kW(delta.size(3)).sH(1).sW(1)
            .pH(pad[0]).pW(pad[1]).dH(1).dW(1).dataFormat("NCHW").weightsFormat(WeightsFormat.OIYX)
            .build();
        Nd4j.exec(new Conv2D(new INDArray[] {input.permute(1, 0, 2, 3), delta.permute(1, 0, 2, 3)},
            new INDArray[] {out}, weightGradient));
        weightGradView.assign(out.permute(1, 0, 2, 3));
        gradient.setGradientFor(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView, 'c');
        weightNoiseParams.clear();

        // the input's gradient, which no one reads: zeros of the right shape for DL4J's bookkeeping
        INDArray epsNext = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, dataType, input.shape(), 'c');
        return new Pair<>(gradient, epsNext);
    }
}
