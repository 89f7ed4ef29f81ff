package dev.sparkmnist.runs;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether this JVM has begun to stop (Ctrl-C, SIGTERM, System.exit): set by a shutdown hook as the stop begins. An
 * output must not be written back once Hadoop's hook has removed its staging directory ({@link AtomicOutput}), and a
 * command's failure from then on is the stop's, not the job's (the app's one line for it).
 */
public final class JvmStop {
    private static final AtomicBoolean STOPPING = new AtomicBoolean();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> STOPPING.set(true), "jvm-stop-watch"));
        } catch (IllegalStateException e) {
            STOPPING.set(true); // first asked while the JVM already stops: no hook may be added then
        }
    }

    private JvmStop() {
    }

    /** Whether the JVM's shutdown has begun. */
    public static boolean stopping() {
        return STOPPING.get();
    }
}
