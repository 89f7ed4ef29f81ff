package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void badOptionsExitTwoAndOtherFailuresOne() {
        assertEquals("2", run(new IllegalArgumentException("--epochs (0) must be > 0"))[0]);
        assertEquals("1", run(new IllegalStateException("disk full"))[0]);
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
