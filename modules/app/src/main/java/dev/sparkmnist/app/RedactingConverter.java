package dev.sparkmnist.app;

import dev.sparkmnist.runs.Secrets;
import dev.sparkmnist.runs.Stores;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.config.plugins.Plugin;
import org.apache.logging.log4j.core.pattern.ConverterKeys;
import org.apache.logging.log4j.core.pattern.LogEventPatternConverter;
import org.apache.logging.log4j.core.pattern.PatternConverter;

/**
 * Log4j 2 pattern converter {@code %redacted}: the event's message and, when it carries one, its exception's stack
 * trace, cleaned of credentials ({@link Secrets}), for the log layout in {@code conf/log4j2.properties}
 * ({@code %m%n%ex} would print a secret that reached a message or an exception, ours or Spark's and Hadoop's).
 * {@code %redacted{short}}, the terminal's, gives an exception's first line instead of its trace (Spark logs a
 * 20-line trace for failures the job then reports in one line), unless {@value #TRACES_ENV}=1 or the system
 * property {@value #TRACES_PROPERTY}=true asks for traces. Use with {@code alwaysWriteExceptions = false}, since this
 * converter writes the exception itself.
 */
@Plugin(name = "RedactingConverter", category = PatternConverter.CATEGORY)
@ConverterKeys({"redacted"})
public final class RedactingConverter extends LogEventPatternConverter {
    /** The environment variable that turns stack traces on in the short form. */
    public static final String TRACES_ENV = "SPARK_MNIST_TRACES";
    /** The system property that does the same. */
    public static final String TRACES_PROPERTY = "sparkmnist.traces";
    private final boolean traces;

    private RedactingConverter(boolean traces) {
        super("redacted", "redacted");
        this.traces = traces;
    }

    /** Log4j's factory method; {@code short} as the option leaves stack traces out unless asked for. */
    public static RedactingConverter newInstance(String[] options) {
        boolean shortForm = options != null && options.length > 0 && "short".equals(options[0]);
        return new RedactingConverter(!shortForm || tracesRequested());
    }

    /** Whether the user asked for stack traces ({@value #TRACES_ENV}=1 or {@value #TRACES_PROPERTY}=true). */
    static boolean tracesRequested() {
        return "1".equals(System.getenv(TRACES_ENV)) || Boolean.getBoolean(TRACES_PROPERTY);
    }

    /** An exception as one line: its class and its message's first line (a Spark job's carries a whole trace). */
    static String oneLine(Throwable t) {
        String message = t.getMessage();
        return t.getClass().getName() + (message == null || message.isBlank() ? "" : ": " + Stores.firstLine(t));
    }

    @Override
    public void format(LogEvent event, StringBuilder to) {
        String text = event.getMessage() == null ? "" : event.getMessage().getFormattedMessage();
        if (event.getThrown() != null && !traces) {
            text = text + " (" + oneLine(event.getThrown()) + "; " + TRACES_ENV + "=1 shows the trace)";
        } else if (event.getThrown() != null) {
            StringWriter trace = new StringWriter();
            event.getThrown().printStackTrace(new PrintWriter(trace));
            text = text + System.lineSeparator() + trace.toString().stripTrailing();
        }
        to.append(Secrets.current().scrub(text));
    }
}
