package dev.sparkmnist.data.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/**
 * Watches Spark's closure cleaner while open: the closures it parsed with ASM (its DEBUG line "Cleaning indylambda
 * closure: NAME" for each), in this JVM. For tests of code that must give the cleaner nothing to parse
 * ({@code dev.sparkmnist.data.SparkJobs}); the watch's own {@link #selfCheck} shows that it sees a parse when there
 * is one.
 */
public final class ClosureCleaning implements AutoCloseable {
    private static final String CLEANER = "org.apache.spark.util.ClosureCleaner";
    private static final String PARSED = "Cleaning indylambda closure: ";
    private final List<String> parsed = new CopyOnWriteArrayList<>();
    private final LoggerContext context;
    private final AbstractAppender appender;

    private ClosureCleaning() {
        context = (LoggerContext) LogManager.getContext(false);
        appender = new AbstractAppender("closure-cleaning-watch", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                String message = event.getMessage().getFormattedMessage();
                if (message.startsWith(PARSED)) {
                    parsed.add(message.substring(PARSED.length()));
                }
            }
        };
        appender.start();
        Configuration config = context.getConfiguration();
        LoggerConfig logger = new LoggerConfig(CLEANER, Level.DEBUG, false); // DEBUG to the watch only
        logger.addAppender(appender, Level.DEBUG, null);
        config.addLogger(CLEANER, logger);
        context.updateLoggers();
    }

    /** Starts watching; close to stop. */
    public static ClosureCleaning watch() {
        return new ClosureCleaning();
    }

    /** The implementation methods of the closures the cleaner parsed since the watch began. */
    public List<String> parsed() {
        return List.copyOf(parsed);
    }

    /**
     * Runs a job through Spark's Java API ({@code parallelize(...).map(...).collect()}), whose closures the cleaner
     * parses: the watch must see them, or it could not see any.
     */
    public static List<String> selfCheck(org.apache.spark.api.java.JavaSparkContext sc) {
        try (ClosureCleaning watch = watch()) {
            sc.parallelize(List.of(1, 2, 3), 2).map(x -> x + 1).collect();
            return watch.parsed();
        }
    }

    @Override
    public void close() {
        context.getConfiguration().removeLogger(CLEANER);
        context.updateLoggers();
        appender.stop();
    }
}
