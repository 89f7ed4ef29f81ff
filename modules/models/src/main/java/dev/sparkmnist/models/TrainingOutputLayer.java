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
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;

/**
 * DL4J's output layer, with the softmax computed once a training step instead of twice and the loss without ND4J
 * operations, and keeping its penalty.
 *
 * <p>DL4J's training step runs the output layer's forward pass twice (once for the gradient, once for the score:
 * each a matrix product, a copy and a bias addition) and the softmax twice, and computes the loss in ND4J
 * operations on a 10-wide output, each with ND4J's fixed cost (5-8 us for a scalar operation or a product on a
 * small array, measured in round 5; up to 40 us for some on tiny arrays in round 3): 12 operations a step more than
 * this layer (BENCHMARKS.md, "Per-core speed", round 4). For softmax with
 * multi-class cross-entropy (or negative log-likelihood, the same loss), no mask and no class weights, this layer's
 * backward pass runs DL4J's forward pass and ND4J's softmax once ({@link HostSoftmax}: the same floats without the
 * fixed cost of ND4J's softmax operation, where this libnd4j build is checked to match it), then one Java loop over
 * the [minibatch x classes] probabilities computes the output gradient (softmax minus labels, the same float
 * subtraction as DL4J's) and the loss (DL4J's {@code LossMCXENT}: probabilities clipped at {@code softmaxClipEps},
 * natural log), which it keeps for the score DL4J asks for next in the same step; the bias, weight and input
 * gradients are DL4J's own operations, run on the CPU as OpenBLAS calls and a Java loop ({@link HostBlas},
 * {@link DenseKernels}), as is the pre-output.
 * From the same pre-output the output gradient is DL4J's to the last bit; the products (the same library's) and the
 * bias gradient (summed row after row) equal DL4J's to float rounding, and on small layers bit for bit
 * ({@code TrainingOutputLayerTest}); the loss is summed in double, so the
 * reported score can differ from DL4J's in its last digits ({@code TrainingOutputLayerTest}). Other losses,
 * activations, masks, class weights, weight noise and backends other than the CPU's use DL4J's path unchanged.
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
    private transient float[] p;
    private transient float[] y;
    private transient DenseKernels kernels;

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

    double penalty() {
        return penalty;
    }

    /** The penalty a step that did not call {@link #computeScore} ({@link NativeStep}) added to the network's score. */
    void notePenalty(double value) {
        penalty = value;
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
        INDArray preOut = hostPreOutput(workspaceMgr);
        if (preOut == null) {
            preOut = preOutput2d(true, workspaceMgr);
        }
        int rows = (int) preOut.size(0);
        int classes = (int) preOut.size(1);
        int n = rows * classes;
        if (p == null || p.length < n) {
            p = new float[n];
            y = new float[n];
        }
        // ND4J's softmax, as DL4J's ActivationSoftmax runs it: the same probabilities to the last bit (HostSoftmax
        // computes them without the fixed cost of ND4J's operation where this libnd4j build matches it)
        INDArray delta = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
            new long[] {rows, classes}, 'c');
        if (!HostSoftmax.rows(preOut, delta, p, rows, classes)) {
            Nd4j.exec(new SoftMax(preOut, delta));
            HostArrays.read(delta, p, 0);
        }
        HostArrays.read(labels, y, 0);
        lossSum = gradientAndLoss(p, y, n, ((LossMCXENT) layerConf().getLossFn()).getSoftmaxClipEps());
        HostArrays.write(p, 0, delta);
        Pair<Gradient, INDArray> host = hostGradients(delta, n, classes, workspaceMgr);
        if (host != null) {
            return host;
        }

        // from here DL4J's BaseOutputLayer.getGradientsAndDelta and backpropGradient, as they are
        Gradient gradient = new DefaultGradient();
        INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        Nd4j.gemm(input, delta, weightGrad, true, false, 1.0, 0.0);
        gradient.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
        INDArray biasGradView = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
        delta.sum(biasGradView, 0);
        gradient.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGradView);

        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
            new long[] {w.size(0), rows}, 'f');
        epsilonNext = w.mmuli(delta.transpose(), epsilonNext).transpose();
        return new Pair<>(gradient, backpropDropOutIfPresent(epsilonNext));
    }

    /**
     * Over the softmax probabilities {@code p[0..n)} and labels {@code y}: writes the output gradient, {@code p - y},
     * over {@code p} and returns the cross-entropy summed over the rows as DL4J's {@code LossMCXENT} computes it
     * (probabilities below {@code clip} raised to it, above {@code 1 - clip} lowered to it, in float; log of each,
     * times its label), not averaged.
     */
    static double gradientAndLoss(float[] p, float[] y, int n, double clip) {
        float low = (float) clip;
        float high = (float) (1.0 - clip);
        double loss = 0;
        for (int i = 0; i < n; i++) {
            float q = p[i];
            float label = y[i];
            float clipped = q < low ? low : q > high ? high : q;
            loss -= label * (float) Math.log(clipped);
            p[i] = q - label;
        }
        return loss;
    }

    /** DL4J's pre-output (the product and the bias) as one OpenBLAS call and one loop; null where that cannot run. */
    private INDArray hostPreOutput(LayerWorkspaceMgr workspaceMgr) {
        if (!HostBlas.AVAILABLE || layerConf().getIDropout() != null) {
            return null;
        }
        return kernels().preOutput(input, getParam(DefaultParamInitializer.WEIGHT_KEY),
            getParam(DefaultParamInitializer.BIAS_KEY), false, workspaceMgr);
    }

    /**
     * The weight, bias and input gradients from the output gradient {@code delta} (also in {@code p[0..n)}) as two
     * OpenBLAS calls and one loop; null where that cannot run (nothing written then).
     */
    private Pair<Gradient, INDArray> hostGradients(INDArray delta, int n, int classes, LayerWorkspaceMgr workspaceMgr) {
        INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
        INDArray w = getParam(DefaultParamInitializer.WEIGHT_KEY);
        if (!HostBlas.AVAILABLE || !HostArrays.rowMajor(biasGrad) || biasGrad.length() != classes
            || HostBlas.leading(input) == 0 || HostBlas.leading(weightGrad) == 0 || HostBlas.leading(w) == 0) {
            return null;
        }
        HostArrays.write(kernels().columnSums(p, n, classes), 0, biasGrad);
        kernels().blas().gemm(input, true, delta, false, weightGrad, 0f);
        INDArray epsilonNext = kernels().inputGradient(delta, w, workspaceMgr);
        Gradient gradient = new DefaultGradient();
        gradient.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
        gradient.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
        return new Pair<>(gradient, backpropDropOutIfPresent(epsilonNext));
    }

    private DenseKernels kernels() {
        if (kernels == null) {
            kernels = new DenseKernels();
        }
        return kernels;
    }
}
