package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.runs.Secrets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.logging.log4j.message.SimpleMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The log layout's converter: credentials out of messages and traces, the terminal's one-line form. */
class RedactingConverterTest {
    private static final String R = Secrets.REDACTED;

    @AfterEach
    void reset() {
        Secrets.install(Secrets.of(List.of(), new Properties(), Map.of()));
    }

    @Test
    void theTracesPropertyIsOneOfTheSwitchesSparkSettingsSet() {
        // Switches names it as a literal (the runtime module cannot see this one); SwitchesTest checks the others
        assertTrue(dev.sparkmnist.runtime.Switches.NAMES.contains(
            RedactingConverter.TRACES_PROPERTY.substring("sparkmnist.".length())));
    }

    @Test
    void theLogLayoutCleansMessagesAndStackTraces() {
        Secrets.install(Secrets.of(List.of("--conf", "spark.hadoop.fs.s3a.secret.key=topSecretValue"),
            new Properties(), Map.of()));
        PatternLayout layout = PatternLayout.newBuilder().withPattern("%p %redacted%n").withAlwaysWriteExceptions(false)
            .build();
        LogEvent event = Log4jLogEvent.newBuilder().setLevel(Level.ERROR).setLoggerName("t")
            .setMessage(new SimpleMessage("key topSecretValue used"))
            .setThrown(new IllegalStateException("cannot open s3a://me:topSecretValue@b/x")).build();
        String line = layout.toSerializable(event);
        assertFalse(line.contains("topSecretValue"), line);
        assertTrue(line.startsWith("ERROR key " + R + " used"), line);
        assertTrue(line.contains("IllegalStateException: cannot open s3a://me:" + R + "@b/x"), "the trace: " + line);
        assertTrue(line.contains("at dev.sparkmnist.app.RedactingConverterTest"), "the trace is kept: " + line);
        // the terminal's form: the exception's first line instead of its trace (unless SPARK_MNIST_TRACES=1)
        PatternLayout terminal = PatternLayout.newBuilder().withPattern("%p %redacted{short}%n")
            .withAlwaysWriteExceptions(false).build();
        String shortLine = terminal.toSerializable(event);
        if (!RedactingConverter.tracesRequested()) {
            assertEquals("ERROR key " + R + " used (java.lang.IllegalStateException: cannot open s3a://me:" + R
                + "@b/x; SPARK_MNIST_TRACES=1 shows the trace)" + System.lineSeparator(), shortLine);
        }
    }
}
