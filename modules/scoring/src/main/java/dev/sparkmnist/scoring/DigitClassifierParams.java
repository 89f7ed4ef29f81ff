package dev.sparkmnist.scoring;

import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.HiddenActivation;
import dev.sparkmnist.models.Init;
import dev.sparkmnist.models.Loss;
import dev.sparkmnist.models.LrSchedule;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Optimizer;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.training.TrainingOptions;
import java.util.Locale;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;

/**
 * {@link DigitClassifier}'s parameters, named as the CLI's options (camel case) with the CLI's defaults, and how they
 * resolve to the model and training options, validated by the same records.
 */
public abstract class DigitClassifierParams extends Estimator<DigitClassifierModel> {
    private static final long serialVersionUID = 1L;
    private final String uid;
    private final Param<String> featuresCol;
    private final Param<String> labelCol;
    private final Param<String> model;
    private final IntParam epochs;
    private final IntParam batchSizePerWorker;
    private final IntParam averagingFrequency;
    private final IntParam numPartitions;
    private final LongParam seed;
    private final Param<String> normalization;
    private final DoubleParam validationFraction;
    private final Param<String> activation;
    private final Param<String> weightInit;
    private final Param<String> loss;
    private final Param<String> updater;
    private final DoubleParam learningRate;
    private final DoubleParam l2;
    private final DoubleParam dropout;
    private final IntParam inputPadding;

    DigitClassifierParams(String uid) {
        this.uid = uid;
        TrainingOptions d = TrainingOptions.defaults();
        featuresCol = new Param<>(this, "featuresCol", "the 784 pixels (0..255) of each digit: vector or array");
        labelCol = new Param<>(this, "labelCol", "the class of each digit, 0..9");
        model = new Param<>(this, "model", "lenet (LeNet-5) or mlp (784-256-128-10), with the job's defaults");
        epochs = new IntParam(this, "epochs", "passes over the training rows (--epochs)");
        batchSizePerWorker = new IntParam(this, "batchSizePerWorker", "minibatch size on each worker"
            + " (--batch-size-per-worker)");
        averagingFrequency = new IntParam(this, "averagingFrequency", "minibatches per worker between averagings, 0"
            + " for auto (--averaging-frequency)");
        numPartitions = new IntParam(this, "numPartitions", "workers, 0 = total executor cores (--num-partitions)");
        seed = new LongParam(this, "seed", "one seed for weights and data order (--seed)");
        normalization = new Param<>(this, "normalization", "standardize or scale (--normalization)");
        validationFraction = new DoubleParam(this, "validationFraction", "the share of rows held out for the"
            + " evaluation after each epoch, in (0, 1)");
        activation = new Param<>(this, "activation", "hidden activation: relu, leakyrelu, tanh, sigmoid"
            + " (--activation; default relu)");
        weightInit = new Param<>(this, "weightInit", "xavier or relu (--weight-init; default xavier)");
        loss = new Param<>(this, "loss", "mcxent, negativeloglikelihood, mse, bce, l1, smoothl1 (--loss; default"
            + " mcxent)");
        updater = new Param<>(this, "updater", "sgd, momentum, nesterov, adam (--updater; default: the model's)");
        learningRate = new DoubleParam(this, "learningRate", "initial learning rate (--learning-rate; default: the"
            + " model's with its updater, else 0.001 for adam and 0.01 otherwise, without a schedule)");
        l2 = new DoubleParam(this, "l2", "L2 weight decay (--l2; default: the model's)");
        dropout = new DoubleParam(this, "dropout", "drop probability on dense hidden layers (--dropout; default 0)");
        inputPadding = new IntParam(this, "inputPadding", "lenet: zero pixels around the digit (--input-padding;"
            + " default: the model's)");
        setDefault(featuresCol, "features");
        setDefault(labelCol, "label");
        setDefault(model, "lenet");
        setDefault(epochs, d.epochs());
        setDefault(batchSizePerWorker, d.batching().perWorker());
        setDefault(averagingFrequency, TrainingOptions.AUTO_AVERAGING);
        setDefault(numPartitions, d.workers().count());
        setDefault(seed, d.seed());
        setDefault(normalization, "standardize");
        setDefault(validationFraction, 0.1);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> featuresCol() {
        return featuresCol;
    }

    public Param<String> labelCol() {
        return labelCol;
    }

    public Param<String> model() {
        return model;
    }

    public IntParam epochs() {
        return epochs;
    }

    public IntParam batchSizePerWorker() {
        return batchSizePerWorker;
    }

    public IntParam averagingFrequency() {
        return averagingFrequency;
    }

    public IntParam numPartitions() {
        return numPartitions;
    }

    public LongParam seed() {
        return seed;
    }

    public Param<String> normalization() {
        return normalization;
    }

    public DoubleParam validationFraction() {
        return validationFraction;
    }

    public DigitClassifier setModel(String value) {
        return (DigitClassifier) set(model, value);
    }

    public DigitClassifier setEpochs(int value) {
        return (DigitClassifier) set(epochs, value);
    }

    public DigitClassifier setBatchSizePerWorker(int value) {
        return (DigitClassifier) set(batchSizePerWorker, value);
    }

    public DigitClassifier setAveragingFrequency(int value) {
        return (DigitClassifier) set(averagingFrequency, value);
    }

    public DigitClassifier setNumPartitions(int value) {
        return (DigitClassifier) set(numPartitions, value);
    }

    public DigitClassifier setSeed(long value) {
        return (DigitClassifier) set(seed, value);
    }

    public DigitClassifier setNormalization(String value) {
        return (DigitClassifier) set(normalization, value);
    }

    public DigitClassifier setValidationFraction(double value) {
        return (DigitClassifier) set(validationFraction, value);
    }

    public DigitClassifier setFeaturesCol(String value) {
        return (DigitClassifier) set(featuresCol, value);
    }

    public DigitClassifier setLabelCol(String value) {
        return (DigitClassifier) set(labelCol, value);
    }

    public Param<String> activation() {
        return activation;
    }

    public DigitClassifier setActivation(String value) {
        return (DigitClassifier) set(activation, value);
    }

    public Param<String> weightInit() {
        return weightInit;
    }

    public DigitClassifier setWeightInit(String value) {
        return (DigitClassifier) set(weightInit, value);
    }

    public Param<String> loss() {
        return loss;
    }

    public DigitClassifier setLoss(String value) {
        return (DigitClassifier) set(loss, value);
    }

    public Param<String> updater() {
        return updater;
    }

    public DigitClassifier setUpdater(String value) {
        return (DigitClassifier) set(updater, value);
    }

    public DoubleParam learningRate() {
        return learningRate;
    }

    public DigitClassifier setLearningRate(double value) {
        return (DigitClassifier) set(learningRate, value);
    }

    public DoubleParam l2() {
        return l2;
    }

    public DigitClassifier setL2(double value) {
        return (DigitClassifier) set(l2, value);
    }

    public DoubleParam dropout() {
        return dropout;
    }

    public DigitClassifier setDropout(double value) {
        return (DigitClassifier) set(dropout, value);
    }

    public IntParam inputPadding() {
        return inputPadding;
    }

    public DigitClassifier setInputPadding(int value) {
        return (DigitClassifier) set(inputPadding, value);
    }

    /** The model options these parameters resolve to (validated as the CLI's are). */
    public ModelOptions modelOptions() {
        Architecture architecture = choice(model, Architecture.class, "lenet or mlp");
        ModelOptions base = ModelOptions.jobDefaults(architecture);
        ModelOptions.Builder b = base.toBuilder().seed((Long) $(seed));
        // as the CLI: the model's own rates unless the updater, the rate or the schedule is chosen; then the
        // teaching material's rate for the updater, without a schedule, then what is chosen
        Optimizer optimizer = isSet(updater) ? choice(updater, Optimizer.class, "sgd, momentum, nesterov or adam")
            : base.optimizer();
        if (optimizer != base.optimizer() || isSet(learningRate)) {
            b.optimizer(optimizer).schedule(LrSchedule.NONE).learningRate(isSet(learningRate) ? (Double) $(learningRate)
                : optimizer == Optimizer.ADAM ? ModelOptions.ADAM_LEARNING_RATE : ModelOptions.SGD_LEARNING_RATE);
        }
        if (isSet(activation)) {
            b.activation(choice(activation, HiddenActivation.class, "relu, leakyrelu, tanh or sigmoid"));
        }
        if (isSet(weightInit)) {
            String w = $(weightInit).toLowerCase(Locale.ROOT);
            b.weightInit(w.equals("he") || w.equals("kaiming") ? Init.RELU : choice(weightInit, Init.class,
                "xavier or relu"));
        }
        if (isSet(loss)) {
            b.loss(choice(loss, Loss.class, "mcxent, negativeloglikelihood, mse, bce, l1 or smoothl1"));
        }
        if (isSet(l2)) {
            b.l2((Double) $(l2));
        }
        if (isSet(dropout)) {
            b.dropout((Double) $(dropout));
        }
        if (isSet(inputPadding)) {
            b.inputPadding((Integer) $(inputPadding));
        }
        return b.build();
    }

    private <E extends Enum<E>> E choice(Param<String> param, Class<E> type, String allowed) {
        try {
            return Enum.valueOf(type, $(param).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(param.name() + " (" + $(param) + ") must be " + allowed, e);
        }
    }

    /** The training options these parameters resolve to (validated as the CLI's are). */
    public TrainingOptions trainingOptions() {
        TrainingOptions d = TrainingOptions.defaults();
        Normalization norm;
        try {
            norm = Normalization.valueOf($(normalization).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("normalization (" + $(normalization) + ") must be standardize or"
                + " scale", e);
        }
        return new TrainingOptions((Integer) $(epochs), (Long) $(seed), new TrainingOptions.Input(norm, 0, 0),
            new TrainingOptions.Batching((Integer) $(batchSizePerWorker), d.batching().eval()),
            d.averaging().withFrequency((Integer) $(averagingFrequency)),
            new TrainingOptions.Workers((Integer) $(numPartitions), 0, GpuBinding.Policy.OPTIONAL), d.dl4j());
    }
}
