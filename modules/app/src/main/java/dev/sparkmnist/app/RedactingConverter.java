package dev.sparkmnist.app;

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
 * Use with {@code alwaysWriteExceptions = false}, since this converter writes the exception itself.
 */
@Plugin(name = "RedactingConverter", category = PatternConverter.CATEGORY)
@ConverterKeys({"redacted"})
public final class RedactingConverter extends LogEventPatternConverter {
    private RedactingConverter() {
        super("redacted", "redacted");
    }

    /** Log4j's factory method. */
    public static RedactingConverter newInstance(String[] options) {
        return new RedactingConverter();
    }

    @Override
    public void format(LogEvent event, StringBuilder to) {
        String text = event.getMessage() == null ? "" : event.getMessage().getFormattedMessage();
        if (event.getThrown() != null) {
            StringWriter trace = new StringWriter();
            event.getThrown().printStackTrace(new PrintWriter(trace));
            text = text + System.lineSeparator() + trace.toString().stripTrailing();
        }
        to.append(Secrets.current().scrub(text));
    }
}
