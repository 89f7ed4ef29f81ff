package dev.sparkmnist.models;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.OutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;

/**
 * DL4J's output layer, with softmax and cross-entropy computed once a training step instead of twice, and kept
 * penalty.
 *
 * <p>DL4J's training step runs the output layer's forward pass twice (once for the gradient, once for the score,
 * each a matrix product and a bias addition) and the softmax twice, and spends about seventeen ND4J operations on a
 * 10-wide output, each with ND4J's fixed cost of 10-40 us (BENCHMARKS.md, "Per-core speed"). For softmax with
 * multi-class cross-entropy (or negative log-likelihood, the same loss), no mask and no class weights, this layer's
 * backward pass computes the forward pass once, the softmax, the loss, the output gradient (softmax minus labels) and
 * the bias gradient in one Java loop over the [minibatch x classes] values, and keeps the summed loss for the score
 * DL4J asks for next in the same step: four ND4J operations (two products, the bias addition, the weight gradient's
 * product) and the input gradient's product. The clipping of probabilities below DL4J's {@code softmaxClipEps} in the
 * loss is DL4J's; the softmax is computed in double precision and rounded, so the last bits can differ from ND4J's
 * float softmax ({@code TrainingLayersTest} checks against DL4J's layer). Other losses, activations, masks, class
 * weights, weight noise and backends other than the CPU's use DL4J's path unchanged. The forward product is
 * {@link TrainingDenseLayer#product}'s (no copy of the result).
 *
 * <p>It also keeps the L1/L2 penalty DL4J added to its last score: DL4J clears its own copy at the end of every fit,
 * so the training loss without the penalty had to compute the penalty again (a norm per weight array, about 0.2 ms a
 * step for the default LeNet-5). Read through {@link Models#scorePenalty}.
 *
 * <p>Installed on a network's output layer by {@link Models#forTraining}; the configuration (and so model.zip) is
 * DL4J's ordinary {@code OutputLayer}.
 */
final class TrainingOutputLayer extends OutputLayer {
    /** The penalty in the last score this layer computed; NaN before the first. */
    private transient double penalty = Double.NaN;
    /** The summed loss of the last fused backward pass, for the score of the same step; NaN when there is none. */
    private transient double lossSum = Double.NaN;
    // buffers reused across steps (one network trains on one thread at a time)
    private transient float[] z;
    private transient float[] y;
    private transient float[] biasGrad;

    TrainingOutputLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public void setInput(INDArray input, LayerWorkspaceMgr workspaceMgr) {
        super.setInput(input, workspaceMgr);
        lossSum = Double.NaN;
    }

    @Override
    public void setLabels(INDArray labels) {
        super.setLabels(labels);
        lossSum = Double.NaN;
    }

    @Override
    public void clear() {
        super.clear();
        lossSum = Double.NaN;
    }

    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
        double score;
        if (training && !Double.isNaN(lossSum)) { // the fused backward pass of this step computed the loss
            score = lossSum;
            if (conf().isMiniBatch()) {
                score /= getInputMiniBatchSize();
            }
            score += fullNetRegTerm;
            this.score = score;
            lossSum = Double.NaN;
        } else {
            score = super.computeScore(fullNetRegTerm, training, workspaceMgr);
        }
        penalty = fullNetRegTerm;
        return score;
    }

    @Override
    protected Pair<INDArray, INDArray> preOutputWithPreNorm(boolean training, boolean forBackprop,
                                                            LayerWorkspaceMgr workspaceMgr) {
        if (!TrainingDenseLayer.plainProduct(input, getParam(DefaultParamInitializer.WEIGHT_KEY), dataType)
            || hasLayerNorm() || layerConf().getWeightNoise() != null || maskArray != null) {
            return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
        }
        assertInputSet(forBackprop);
        applyDropOutIfNecessary(training, workspaceMgr);
        INDArray z = TrainingDenseLayer.product(input, getParam(DefaultParamInitializer.WEIGHT_KEY),
            hasBias() ? getParam(DefaultParamInitializer.BIAS_KEY) : null, workspaceMgr);
        return new Pair<>(z, z);
    }

    double penalty() {
        return penalty;
    }

    /** Softmax with cross-entropy, float, 2-d, no mask, no class weights, no weight noise, on the CPU. */
    private boolean fused() {
        org.deeplearning4j.nn.conf.layers.OutputLayer c = layerConf();
        ILossFunction loss = c.getLossFn();
        return (loss.getClass() == LossMCXENT.class || loss.getClass() == LossNegativeLogLikelihood.class)
            && ((LossMCXENT) loss).getWeights() == null && c.getActivationFn() instanceof ActivationSoftmax
            && c.getWeightNoise() == null && maskArray == null && labels != null && labels.rank() == 2
            && input.rank() == 2 && input.dataType() == DataType.FLOAT && labels.dataType() == DataType.FLOAT
            && dataType == DataType.FLOAT && hasBias() && HostArrays.CPU;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        if (!fused()) {
            lossSum = Double.NaN;
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        INDArray preOut = preOutput2d(true, workspaceMgr);
        int rows = (int) preOut.size(0);
        int classes = (int) preOut.size(1);
        int n = rows * classes;
        if (z == null || z.length < n) {
            z = new float[n];
            y = new float[n];
        }
        if (biasGrad == null || biasGrad.length != classes) {
            biasGrad = new float[classes];
        }
        HostArrays.read(preOut, z, 0);
        HostArrays.read(labels, y, 0);
        lossSum = softmaxCrossEntropy(z, y, rows, classes, ((LossMCXENT) layerConf().getLossFn()).getSoftmaxClipEps(),
            biasGrad);
        INDArray delta = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
            new long[] {rows, classes}, 'c');
        HostArrays.write(z, 0, delta);

        Gradient gradient = new DefaultGradient();
        INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        Nd4j.gemm(input, delta, weightGrad, true, false, 1.0, 0.0);
        gradient.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
        INDArray biasGradView = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
        HostArrays.write(biasGrad, 0, biasGradView);
        gradient.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGradView);

        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
            new long[] {w.size(0), rows}, 'f');
        epsilonNext = w.mmuli(delta.transpose(), epsilonNext).transpose();
        return new Pair<>(gradient, backpropDropOutIfPresent(epsilonNext));
    }

    /**
     * Softmax of each row of {@code z} (row-major, {@code rows x classes}), the cross-entropy against {@code y} as
     * DL4J's {@code LossMCXENT} computes it (probabilities below {@code clip} raised to it; above {@code 1 - clip}
     * lowered to it, in float), and the gradient with respect to {@code z}, softmax minus labels, written over
     * {@code z}; {@code biasGrad} gets its column sums. Returns the loss summed over rows (not averaged).
     */
    static double softmaxCrossEntropy(float[] z, float[] y, int rows, int classes, double clip, float[] biasGrad) {
        java.util.Arrays.fill(biasGrad, 0f);
        float low = (float) clip;
        float high = (float) (1.0 - clip);
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            int o = r * classes;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) {
                max = Math.max(max, z[o + j]);
            }
            double sum = 0;
            for (int j = 0; j < classes; j++) {
                sum += Math.exp(z[o + j] - max);
            }
            for (int j = 0; j < classes; j++) {
                float p = (float) (Math.exp(z[o + j] - max) / sum);
                float label = y[o + j];
                if (label != 0f) {
                    float clipped = p < low ? low : p > high ? high : p;
                    loss -= label * (float) Math.log(clipped);
                }
                float g = p - label;
                z[o + j] = g;
                biasGrad[j] += g;
            }
        }
        return loss;
    }
}
