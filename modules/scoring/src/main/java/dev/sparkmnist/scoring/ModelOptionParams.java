package dev.sparkmnist.scoring;

import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.HiddenActivation;
import dev.sparkmnist.models.Init;
import dev.sparkmnist.models.Loss;
import dev.sparkmnist.models.LrSchedule;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Optimizer;
import dev.sparkmnist.training.TrainingOptions;
import java.util.Locale;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;

/**
 * {@code DigitClassifier}'s model parameters, named as the CLI's model options (camel case), unset meaning the CLI's
 * default, and how they resolve to {@link ModelOptions} as the command line does (validated by the same record).
 */
public abstract class ModelOptionParams extends Estimator<DigitClassifierModel> {
    private static final long serialVersionUID = 1L;
    private final String uid;
    private final Param<String> model;
    private final LongParam seed;
    private final Param<String> activation;
    private final Param<String> weightInit;
    private final Param<String> loss;
    private final Param<String> updater;
    private final DoubleParam learningRate;
    private final DoubleParam l2;
    private final DoubleParam dropout;
    private final IntParam inputPadding;
    private final IntParam randomShift;

    ModelOptionParams(String uid) {
        this.uid = uid;
        model = new Param<>(this, "model", "lenet (LeNet-5) or mlp (784-256-128-10), with the job's defaults (--model)");
        seed = new LongParam(this, "seed", "one seed for weights and data order (--seed)");
        activation = new Param<>(this, "activation", "hidden activation: relu, leakyrelu, tanh, sigmoid (--activation; default relu)");
        weightInit = new Param<>(this, "weightInit", "xavier or relu, alias he, kaiming (--weight-init; default xavier)");
        loss = new Param<>(this, "loss", "mcxent, negativeloglikelihood, mse, bce, l1, smoothl1 (--loss; default mcxent)");
        updater = new Param<>(this, "updater", "sgd, momentum, nesterov, adam (--updater; default: the model's)");
        learningRate = new DoubleParam(this, "learningRate", "initial learning rate (--learning-rate; default: the model's with its updater, else 0.001 for adam and 0.01 otherwise, without a schedule)");
        l2 = new DoubleParam(this, "l2", "L2 weight decay (--l2; default: the model's)");
        dropout = new DoubleParam(this, "dropout", "drop probability on dense hidden layers (--dropout; default 0)");
        inputPadding = new IntParam(this, "inputPadding", "lenet: zero pixels around the digit (--input-padding; default: the model's)");
        randomShift = new IntParam(this, "randomShift", "augmentation: the most pixels a training picture is moved by along each axis, 0-4 (--random-shift; default: the model's)");
        setDefault(model, "lenet");
        setDefault(seed, TrainingOptions.defaults().seed());
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> model() {
        return model;
    }

    public LongParam seed() {
        return seed;
    }

    public Param<String> activation() {
        return activation;
    }

    public Param<String> weightInit() {
        return weightInit;
    }

    public Param<String> loss() {
        return loss;
    }

    public Param<String> updater() {
        return updater;
    }

    public DoubleParam learningRate() {
        return learningRate;
    }

    public DoubleParam l2() {
        return l2;
    }

    public DoubleParam dropout() {
        return dropout;
    }

    public IntParam inputPadding() {
        return inputPadding;
    }

    public IntParam randomShift() {
        return randomShift;
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
        if (isSet(randomShift)) {
            b.randomShift((Integer) $(randomShift));
        }
        return b.build();
    }

    <E extends Enum<E>> E choice(Param<String> param, Class<E> type, String allowed) {
        try {
            return Enum.valueOf(type, $(param).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(param.name() + " (" + $(param) + ") must be " + allowed, e);
        }
    }
}
