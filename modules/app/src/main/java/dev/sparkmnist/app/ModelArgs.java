package dev.sparkmnist.app;

import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.HiddenActivation;
import dev.sparkmnist.models.Init;
import dev.sparkmnist.models.Loss;
import dev.sparkmnist.models.LrSchedule;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Optimizer;
import java.util.List;
import picocli.CommandLine.Option;

/** train's model options: architecture, activations, initialisation, loss, updater, learning-rate schedule. */
final class ModelArgs {
    /** Options a resumed run takes from the checkpoint, which must not be given with --resume-from. */
    static final List<String> NAMES = List.of("--model", "--activation", "--weight-init", "--loss",
        "--updater", "--learning-rate", "--momentum", "--lr-schedule", "--lr-gamma", "--lr-step-epochs",
        "--lr-milestones", "--l2", "--dropout", "--input-padding", "--random-shift");

    @Option(names = "--model", defaultValue = "lenet", paramLabel = "NAME",
        description = "mlp (784-256-128-10) or lenet (LeNet-5). Defaults to ${DEFAULT-VALUE}.")
    Architecture architecture;

    @Option(names = "--activation", defaultValue = "relu", paramLabel = "NAME",
        description = "Hidden activation: relu, leakyrelu, tanh, sigmoid. Defaults to ${DEFAULT-VALUE}.")
    HiddenActivation activation;

    @Option(names = "--weight-init", defaultValue = "xavier", paramLabel = "NAME",
        converter = ModelConverters.InitConverter.class,
        description = "xavier or relu (alias he, kaiming). Defaults to ${DEFAULT-VALUE}.")
    Init weightInit;

    @Option(names = "--loss", defaultValue = "mcxent", paramLabel = "NAME",
        description = "mcxent (cross-entropy), negativeloglikelihood, mse, bce (binary cross-entropy on sigmoid"
            + " outputs), l1 (mean absolute error), smoothl1 (PyTorch's, beta 1). Defaults to ${DEFAULT-VALUE}.")
    Loss loss;

    @Option(names = "--updater", paramLabel = "NAME", converter = ModelConverters.OptimizerConverter.class,
        description = "sgd, momentum (classical heavy-ball, as PyTorch's SGD momentum), nesterov, adam. Defaults"
            + " to adam for mlp, nesterov for lenet.")
    Optimizer optimizer;

    @Option(names = "--learning-rate", paramLabel = "LR",
        description = "Initial learning rate. Defaults to 0.03 for lenet with its default updater, 0.001 for"
            + " adam, 0.01 otherwise.")
    Double learningRate;

    @Option(names = "--momentum", defaultValue = "" + ModelOptions.MOMENTUM, paramLabel = "M",
        description = "Momentum of the momentum and nesterov updaters. Defaults to ${DEFAULT-VALUE}.")
    double momentum;

    @Option(names = "--lr-schedule", paramLabel = "KIND",
        description = "none, step, multistep, exponential (per epoch). Defaults to multistep at epochs 2,4 with"
            + " gamma 0.25 for lenet with its default updater and learning rate, none otherwise.")
    LrSchedule.Kind schedule;

    @Option(names = "--lr-gamma", defaultValue = "0.1", paramLabel = "G",
        description = "Decay factor of the schedule, in (0, 1]. Defaults to ${DEFAULT-VALUE}.")
    double gamma;

    @Option(names = "--lr-step-epochs", defaultValue = "1", paramLabel = "N",
        description = "step: decay every N epochs. Defaults to ${DEFAULT-VALUE}.")
    int stepEpochs;

    @Option(names = "--lr-milestones", split = ",", paramLabel = "E",
        description = "multistep: 0-based epochs at which the rate decays, e.g. 3,4. No default.")
    int[] milestones = new int[0];

    @Option(names = "--l2", paramLabel = "W",
        description = "L2 weight decay. Defaults to 0.001 for lenet, 0 for mlp.")
    Double l2;

    @Option(names = "--input-padding", paramLabel = "P",
        description = "lenet: zero pixels added on each side of the 28x28 digit before the first convolution,"
            + " 0-5 (2 = LeCun's 32x32 input). Defaults to 2 for lenet.")
    Integer inputPadding;

    @Option(names = "--random-shift", paramLabel = "N",
        description = "Augmentation: move each training picture by a random -N to N pixels along each axis, a new"
            + " shift every epoch (the test split is never moved), N in 0-4. Defaults to 1 for lenet, 0 for mlp.")
    Integer randomShift;

    @Option(names = "--dropout", defaultValue = "0", paramLabel = "P",
        description = "Drop probability on dense hidden layers, in [0, 1). Defaults to ${DEFAULT-VALUE}.")
    double dropout;

    /**
     * The model options these arguments resolve to: the architecture's job defaults ({@link ModelOptions#jobDefaults},
     * the one table of per-model defaults) where the user gave neither the updater nor the learning rate nor the
     * schedule, else the teaching-material rates, then the user's; L2, the input padding and the random shift default
     * to the job's for the architecture whatever the rates.
     */
    ModelOptions resolve(long seed) {
        ModelOptions base = ModelOptions.jobDefaults(architecture);
        Optimizer chosen = optimizer != null ? optimizer : base.optimizer();
        boolean baseRate = chosen == base.optimizer() && learningRate == null;
        double lr = learningRate != null ? learningRate : baseRate ? base.learningRate()
            : chosen == Optimizer.ADAM ? ModelOptions.ADAM_LEARNING_RATE : ModelOptions.SGD_LEARNING_RATE;
        LrSchedule lrSchedule = schedule == null ? (baseRate ? base.schedule() : LrSchedule.NONE)
            : schedule == LrSchedule.Kind.NONE ? LrSchedule.NONE
            : new LrSchedule(schedule, gamma, stepEpochs, milestones);
        return base.toBuilder().activation(activation).weightInit(weightInit).loss(loss).optimizer(chosen)
            .learningRate(lr).momentum(momentum).schedule(lrSchedule).l2(l2 != null ? l2 : base.l2()).dropout(dropout)
            .inputPadding(inputPadding != null ? inputPadding : base.inputPadding())
            .randomShift(randomShift != null ? randomShift : base.randomShift()).seed(seed).build();
    }
}
