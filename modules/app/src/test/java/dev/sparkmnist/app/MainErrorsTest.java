package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.runs.Secrets;
import dev.sparkmnist.runtime.CudaCompatibility;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** How Main turns failures into exit codes and messages. */
class MainErrorsTest {
    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        private final Throwable failure;

        Boom(Throwable failure) {
            this.failure = failure;
        }

        @Override
        public Integer call() throws Exception {
            if (failure instanceof Error e) {
                throw e;
            }
            throw (Exception) failure;
        }
    }

    private static String[] run(Throwable failure) {
        CommandLine cl = Main.commandLine();
        cl.addSubcommand("boom", new Boom(failure));
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int exit = Main.execute(cl, "boom");
        return new String[] {String.valueOf(exit), err.toString()};
    }

    @Test
    void anUnsupportedGpuIsAFailureWithJustItsMessageEvenInsideASparkFailure() {
        String message = "GPU 0 (NVIDIA H100 80GB HBM3, nvidia-smi index 0) has compute capability 9.0, but ...";
        String[] direct = run(new CudaCompatibility.UnsupportedGpuException(message));
        assertEquals("1", direct[0]);
        assertEquals("error: " + message + System.lineSeparator(), direct[1]);
        RuntimeException wrapped = new RuntimeException(new SparkException("Job aborted due to stage failure",
            new CudaCompatibility.UnsupportedGpuException(message)));
        String[] fromTask = run(wrapped);
        assertEquals("1", fromTask[0]);
        assertEquals("error: " + message + System.lineSeparator(), fromTask[1]);
    }

    @Test
    void aClusterThatShrankIsAFailureWithJustItsMessage() {
        String message = "the cluster shrank: the resident engine's barrier stage needs 4 task slots at once, ...";
        String[] failed = run(new RuntimeException(new SparkException("Job 3 cancelled part of cancelled job group",
            new dev.sparkmnist.training.resident.ClusterShrankException(message))));
        assertEquals("1", failed[0]);
        assertEquals("error: " + message + System.lineSeparator(), failed[1]);
    }

    @Test
    void aStoppedSparkIsAFailureWithJustItsMessage() {
        String message = "Spark stopped the application before spark://h:7077 gave it executors: ...";
        String[] failed = run(new RuntimeException(new dev.sparkmnist.training.resident.SparkStoppedException(message)));
        assertEquals("1", failed[0]);
        assertEquals("error: " + message + System.lineSeparator(), failed[1]);
    }

    @Test
    void badOptionsExitTwoAndOtherFailuresOne() {
        assertEquals("2", run(new IllegalArgumentException("--epochs (0) must be > 0"))[0]);
        assertEquals("1", run(new IllegalStateException("disk full"))[0]);
    }

    /** Exit code and standard error of a real command line the parser refuses. */
    private static String[] parse(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        Main.installSecrets(args);
        try {
            return new String[] {String.valueOf(Main.execute(cl, args)), err.toString()};
        } finally {
            Main.installSecrets();
        }
    }

    @Test
    void anOptionTheParserRefusesIsOneLineNotTheUsage() {
        String help = "; 'spark-mnist train --help' lists the options" + System.lineSeparator();
        String[] model = parse("train", "--model", "resnet");
        assertEquals("2", model[0]);
        assertEquals("error: Invalid value for option '--model': expected one of [MLP, LENET] (case-insensitive) but"
            + " was 'resnet'" + help, model[1]);
        String[] epochs = parse("train", "--epochs", "abc");
        assertEquals("2", epochs[0]);
        assertEquals("error: Invalid value for option '--epochs': 'abc' is not an int" + help, epochs[1]);
        String[] updater = parse("train", "--updater", "rmsprop");
        assertEquals("2", updater[0]);
        assertEquals("error: --updater (rmsprop) must be one of sgd, momentum (classical), nesterov, adam" + help,
            updater[1]);
        String[] frequency = parse("train", "--averaging-frequency", "often");
        assertEquals("error: --averaging-frequency (often) must be auto or a whole number > 0" + help, frequency[1]);
        String[] typo = parse("train", "--batch-size", "64");
        assertEquals("2", typo[0]);
        assertTrue(typo[1].startsWith("error: Unknown options: '--batch-size', '64' (did you mean"
            + " --batch-size-per-worker"), typo[1]);
        assertTrue(typo[1].endsWith(help), typo[1]);
        assertEquals(1, typo[1].lines().count(), typo[1]);
        String[] top = parse("--bogus");
        assertEquals("2", top[0]);
        assertEquals("error: Unknown option: '--bogus'; 'spark-mnist --help' lists the options"
            + System.lineSeparator(), top[1]);
    }

    @Test
    void theOptionsRulesComeBeforeAnyStoreIsContacted() {
        // an address nothing listens on: checked first, it would fail as an unreachable store instead
        String[] epochs = parse("train", "--epochs", "0", "--data-dir", "hdfs://127.0.0.1:1/mnist");
        assertEquals("2", epochs[0]);
        assertEquals("error: --epochs (0) must be > 0" + System.lineSeparator(), epochs[1]);
        String[] lr = parse("train", "--learning-rate", "-1", "--data-dir", "hdfs://127.0.0.1:1/mnist");
        assertEquals("2", lr[0]);
        assertEquals("error: --learning-rate (-1.0) must be > 0" + System.lineSeparator(), lr[1]);
    }

    @Test
    void aMistypedConfKeepsItsSecretOutOfTheLine() {
        String[] typo = parse("train", "--cnf", "spark.hadoop.fs.s3a.secret.key=TOPSECRET123");
        assertEquals("2", typo[0]);
        assertEquals("error: Unknown options: '--cnf', 'spark.hadoop.fs.s3a.secret.key=" + Secrets.REDACTED + "';"
            + " 'spark-mnist train --help' lists the options" + System.lineSeparator(), typo[1]);
        String[] value = parse("train", "--epochs=TOPSECRET123", "--conf",
            "spark.hadoop.fs.s3a.secret.key=TOPSECRET123");
        assertEquals("2", value[0]);
        assertFalse(value[1].contains("TOPSECRET123"), value[1]);
        assertEquals(1, value[1].lines().count(), value[1]);
    }

    @Test
    void anErrorPicocliLetsThroughEndsInOneLineAndExitOne() {
        String[] failed = run(new NoClassDefFoundError("org/apache/spark/sql/SparkSession"));
        assertEquals("1", failed[0]);
        assertTrue(failed[1].startsWith("error: java.lang.NoClassDefFoundError: org/apache/spark/sql/SparkSession"),
            failed[1]);
        assertEquals(1, failed[1].lines().count(), "one line: " + failed[1]);
    }
}
