package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.LrSchedule;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Optimizer;
import dev.sparkmnist.training.TrainingOptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** How train's command line resolves to model options: the job's defaults, the teaching material's, the user's. */
class TrainDefaultsTest {
    /** Parses {@code train ARGS} as Main does and resolves the model options. */
    private static ModelOptions resolve(String... args) {
        String[] line = new String[args.length + 1];
        line[0] = "train";
        System.arraycopy(args, 0, line, 1, args.length);
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs(line);
        TrainCommand train = (TrainCommand) parsed.subcommand().commandSpec().userObject();
        return train.modelOptions();
    }

    @Test
    void helpRendersEveryOptionWithoutPicocliWarnings() {
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        String usage;
        try {
            System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
            usage = Main.commandLine().getSubcommands().get("train").getUsageMessage();
        } finally {
            System.setErr(err);
        }
        assertEquals("", captured.toString(java.nio.charset.StandardCharsets.UTF_8), "picocli warned while rendering");
        String flat = usage.replaceAll("\\s+", " "); // picocli wraps descriptions
        assertTrue(flat.contains("keeps the exchange under 5% of training (1 to 8; DL4J's master: 10). Defaults to"
            + " auto."), usage);
        assertTrue(usage.contains("--exchange-timeout=SECONDS"), usage);
        assertTrue(usage.contains("--[no-]averaging-overlap"), usage);
    }

    /**
     * The scripts pass their defaults first and the user's arguments after them: the last occurrence of an option
     * wins and no other option is lost (picocli alone dropped --output here, and train-local.sh's evaluation then
     * looked for a model that was written elsewhere).
     */
    @Test
    void aRepeatedOptionsLastOccurrenceWinsAndNothingElseIsLost() {
        CommandLine cl = Main.commandLine();
        String[] line = Main.lastWins(cl, "train", "--data-dir", "D", "--model", "lenet", "--epochs", "5", "--master",
            "local[*]", "--output", "O", "--model", "mlp", "--epochs=1", "--conf", "a=1", "--conf", "b=2",
            "--averaging-overlap", "--no-averaging-overlap", "--overwrite");
        assertEquals(java.util.List.of("train", "--data-dir", "D", "--master", "local[*]", "--output", "O", "--model",
            "mlp", "--epochs=1", "--conf", "a=1", "--conf", "b=2", "--no-averaging-overlap", "--overwrite"),
            java.util.List.of(line));
        TrainCommand t = (TrainCommand) cl.parseArgs(line).subcommand().commandSpec().userObject();
        assertEquals("O", t.output.output);
        assertTrue(t.output.overwrite);
        assertEquals(1, t.training.epochs);
        assertEquals(Architecture.MLP, t.modelOptions().architecture());
        assertFalse(t.trainingOptions().averaging().overlap());
        String[] plain = {"evaluate", "--model-path", "m.zip"};
        assertEquals(java.util.List.of(plain), java.util.List.of(Main.lastWins(Main.commandLine(), plain)));
    }

    @Test
    void averagingDefaultsToAutoAndTakesANumber() {
        CommandLine.ParseResult auto = Main.commandLine().parseArgs("train");
        TrainCommand a = (TrainCommand) auto.subcommand().commandSpec().userObject();
        assertTrue(a.trainingOptions().averaging().auto());
        assertEquals(120, a.trainingOptions().averaging().exchangeTimeoutSeconds());
        assertTrue(a.trainingOptions().averaging().overlap(), "overlap is the default");
        assertEquals(TrainingOptions.UpdaterAveraging.AUTO, a.trainingOptions().averaging().updaterAveraging());
        assertEquals(TrainingOptions.DEFAULT_UPDATER_AVERAGING, a.trainingOptions().averaging().updaterAveraging());
        CommandLine.ParseResult given = Main.commandLine().parseArgs("train", "--averaging-frequency", "7",
            "--exchange-timeout", "30", "--no-averaging-overlap", "--updater-averaging", "round");
        TrainCommand g = (TrainCommand) given.subcommand().commandSpec().userObject();
        assertEquals(7, g.trainingOptions().averaging().frequency());
        assertEquals(30, g.trainingOptions().averaging().exchangeTimeoutSeconds());
        assertFalse(g.trainingOptions().averaging().overlap());
        assertEquals(TrainingOptions.UpdaterAveraging.ROUND, g.trainingOptions().averaging().updaterAveraging());
    }

    @Test
    void noModelOptionGivesTheDefaultLenetJob() {
        ModelOptions job = resolve();
        assertEquals(ModelOptions.jobDefaults(Architecture.LENET), job);
        assertEquals(2, job.inputPadding());
        assertEquals(1, job.randomShift(), "the training pictures move by up to a pixel");
        assertEquals(1e-3, job.l2(), 0);
        assertEquals(Optimizer.NESTEROV, job.optimizer());
        assertEquals(0.03, job.learningRate(), 0);
    }

    @Test
    void teachingRatesKeepTheArchitecturesPaddingAndL2UnlessGiven() {
        ModelOptions teaching = resolve("--updater", "momentum", "--learning-rate", "0.01", "--lr-schedule", "none");
        assertEquals(Optimizer.MOMENTUM, teaching.optimizer());
        assertEquals(LrSchedule.NONE, teaching.schedule());
        assertEquals(2, teaching.inputPadding());
        assertEquals(1, teaching.randomShift());
        assertEquals(1e-3, teaching.l2(), 0);
        ModelOptions asTaught = resolve("--updater", "momentum", "--learning-rate", "0.01", "--lr-schedule", "none",
            "--input-padding", "0", "--l2", "0", "--random-shift", "0");
        assertEquals(ModelOptions.lenet(), asTaught, "the teaching material's LeNet-5, exactly");
    }

    @Test
    void theMlpHasNoPaddingAndNoL2AndRefusesPadding() {
        assertEquals(ModelOptions.mlp(), resolve("--model", "mlp"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> resolve("--model", "mlp", "--input-padding", "2"));
        assertEquals("--input-padding (2) applies to lenet only: the mlp has no convolution", e.getMessage());
        assertEquals("--input-padding (-1) must be in [0, 5]", assertThrows(IllegalArgumentException.class,
            () -> resolve("--input-padding", "-1")).getMessage());
    }

    @Test
    void theRandomShiftIsTheModelsUnlessGivenAndBounded() {
        assertEquals(0, resolve("--model", "mlp").randomShift(), "the teaching material's MLP sees the digits as they are");
        assertEquals(3, resolve("--model", "mlp", "--random-shift", "3").randomShift());
        assertEquals(0, resolve("--random-shift", "0").randomShift());
        assertEquals(4, resolve("--random-shift", "4").randomShift());
        assertEquals("--random-shift (5) must be in [0, 4]: MNIST's digits fill a 20x20 box in the middle of 28x28, so"
            + " a larger shift cuts them", assertThrows(IllegalArgumentException.class,
            () -> resolve("--random-shift", "5")).getMessage());
        assertEquals("--random-shift (-1) must be in [0, 4]: MNIST's digits fill a 20x20 box in the middle of 28x28,"
            + " so a larger shift cuts them", assertThrows(IllegalArgumentException.class,
            () -> resolve("--random-shift", "-1")).getMessage());
        assertTrue(ModelArgs.NAMES.contains("--random-shift"), "a resumed run takes the checkpoint's");
        assertEquals(ModelOptions.MAX_RANDOM_SHIFT, dev.sparkmnist.data.RandomShift.MAX_PIXELS,
            "the option's bound and the reader's");
    }

    /** The Spark ML estimator's parameters resolve to the model options the same command-line options give. */
    @Test
    void theSparkMlEstimatorResolvesItsParametersAsTheCommandLineDoes() {
        java.util.function.Supplier<dev.sparkmnist.scoring.DigitClassifier> fresh =
            dev.sparkmnist.scoring.DigitClassifier::new;
        assertEquals(resolve(), fresh.get().modelOptions());
        assertEquals(resolve("--model", "mlp"), fresh.get().setModel("mlp").modelOptions());
        assertEquals(resolve("--updater", "momentum", "--learning-rate", "0.01", "--input-padding", "0", "--l2", "0",
            "--random-shift", "0"), fresh.get().setUpdater("momentum").setLearningRate(0.01).setInputPadding(0).setL2(0)
            .setRandomShift(0).modelOptions());
        assertEquals(resolve("--model", "mlp", "--random-shift", "2"),
            fresh.get().setModel("mlp").setRandomShift(2).modelOptions());
        assertEquals(resolve("--updater", "adam"), fresh.get().setUpdater("adam").modelOptions());
        assertEquals(resolve("--updater", "nesterov"), fresh.get().setUpdater("nesterov").modelOptions());
        assertEquals(resolve("--learning-rate", "0.05"), fresh.get().setLearningRate(0.05).modelOptions());
        assertEquals(resolve("--model", "mlp", "--activation", "tanh", "--weight-init", "he", "--loss", "mse",
            "--dropout", "0.2", "--seed", "7"), fresh.get().setModel("mlp").setActivation("tanh").setWeightInit("he")
            .setLoss("mse").setDropout(0.2).setSeed(7).modelOptions());
        CommandLine.ParseResult cli = Main.commandLine().parseArgs("train");
        assertEquals(((TrainCommand) cli.subcommand().commandSpec().userObject()).trainingOptions(),
            fresh.get().trainingOptions(), "the training defaults");
        CommandLine.ParseResult given = Main.commandLine().parseArgs("train", "--epochs", "3", "--engine", "dl4j",
            "--batch-size-per-worker", "16", "--averaging-frequency", "4", "--rounds-per-stage", "5",
            "--exchange-timeout", "30", "--no-averaging-overlap", "--updater-averaging", "round",
            "--num-partitions", "3", "--threads-per-task", "2",
            "--eval-batch-size", "250", "--normalization", "scale", "--seed", "9");
        assertEquals(((TrainCommand) given.subcommand().commandSpec().userObject()).trainingOptions(),
            fresh.get().setEpochs(3).setEngine("dl4j").setBatchSizePerWorker(16).setAveragingFrequency(4)
                .setRoundsPerStage(5).setExchangeTimeout(30).setAveragingOverlap(false).setUpdaterAveraging("round")
                .setNumPartitions(3)
                .setThreadsPerTask(2).setEvalBatchSize(250).setNormalization("scale").setSeed(9).trainingOptions());
        assertEquals("updaterAveraging (epoch) must be auto, round or stage", assertThrows(IllegalArgumentException.class,
            () -> fresh.get().setUpdaterAveraging("epoch").trainingOptions()).getMessage());
        assertEquals("updater (rmsprop) must be sgd, momentum, nesterov or adam", assertThrows(
            IllegalArgumentException.class, () -> fresh.get().setUpdater("rmsprop").modelOptions()).getMessage());
        assertEquals("--input-padding (2) applies to lenet only: the mlp has no convolution", assertThrows(
            IllegalArgumentException.class, () -> fresh.get().setModel("mlp").setInputPadding(2).modelOptions())
            .getMessage());
    }
}
