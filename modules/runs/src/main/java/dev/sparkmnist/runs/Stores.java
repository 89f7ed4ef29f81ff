package dev.sparkmnist.runs;

import java.io.FileNotFoundException;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Before a command reads or writes anything, asks each store it names (HDFS, S3A, a local mount) for one path's
 * status, with a copy of the job's Hadoop configuration that does not retry (S3A's and the AWS SDK's retries, HDFS's
 * connection retries) and under a deadline ({@code --store-timeout}). A store that refuses, rejects the credentials
 * or does not answer then fails the command in seconds with one line naming the option, the path, the store and the
 * cause, where the job's own configuration (which keeps the stores' retries for transient faults during the run)
 * would retry for minutes first. A path that does not exist is not refused here: the command's own checks name it.
 */
public final class Stores {
    /** Default seconds to wait for a store's first answer. */
    public static final long DEFAULT_TIMEOUT_SECONDS = 60;
    /** The option that sets the deadline, named in the message. */
    public static final String OPTION = "--store-timeout";

    /** The job's settings overridden for the first contact only: fail on the first refusal. */
    private static final Map<String, String> NO_RETRIES = Map.of(
        "fs.s3a.attempts.maximum", "1",
        "fs.s3a.retry.limit", "1",
        "fs.s3a.retry.throttle.limit", "1",
        "fs.s3a.connection.establish.timeout", "5000",
        "ipc.client.connect.max.retries", "0",
        "ipc.client.connect.max.retries.on.timeouts", "0",
        "ipc.client.connect.timeout", "5000",
        "dfs.client.retry.policy.enabled", "false");

    private Stores() {
    }

    /** A store did not answer or refused, the store or (see {@link #userValue()}) the user's value at fault. */
    public static final class UnreachableStoreException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        /** Whether the user's value is at fault (credentials rejected, no such bucket): exit code 2. */
        private final boolean userValue;

        public UnreachableStoreException(String message, boolean userValue, Throwable cause) {
            super(message, cause);
            this.userValue = userValue;
        }

        /** Whether the user's value is at fault (credentials rejected, no such bucket) rather than the store. */
        public boolean userValue() {
            return userValue;
        }
    }

    /** Option names and paths, alternating, as a map (null paths kept: {@link #check} skips them). */
    public static Map<String, String> paths(String... optionsAndPaths) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i + 1 < optionsAndPaths.length; i += 2) {
            m.put(optionsAndPaths[i], optionsAndPaths[i + 1]);
        }
        return m;
    }

    /**
     * Checks every non-null path of {@code paths} (option name to path) within {@code timeoutSeconds} in all.
     *
     * @throws UnreachableStoreException naming the first store that refused or did not answer
     */
    public static void check(Map<String, String> paths, Configuration conf, long timeoutSeconds) {
        requireTimeout(timeoutSeconds);
        Configuration fast = new Configuration(conf);
        NO_RETRIES.forEach(fast::set);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        ExecutorService probe = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "store-check");
            t.setDaemon(true); // a store that never answers must not keep the JVM alive
            return t;
        });
        try {
            for (Map.Entry<String, String> e : paths.entrySet()) {
                if (e.getValue() != null && !e.getValue().isBlank()) {
                    check(e.getKey(), e.getValue(), fast, probe, deadline, timeoutSeconds);
                }
            }
        } finally {
            probe.shutdownNow();
        }
    }

    /** Refuses a {@value #OPTION} that is not a positive number of seconds. */
    public static void requireTimeout(long timeoutSeconds) {
        if (!(timeoutSeconds > 0)) {
            throw new IllegalArgumentException(OPTION + " (" + timeoutSeconds + ") must be > 0 seconds");
        }
    }

    private static void check(String option, String path, Configuration fast, ExecutorService probe, long deadline,
                              long timeoutSeconds) {
        Path p = new Path(path);
        Future<?> answer = probe.submit(() -> {
            URI uri = p.toUri();
            try (FileSystem fs = FileSystem.newInstance(uri.getScheme() == null ? FileSystem.getDefaultUri(fast)
                : uri, fast)) {
                fs.getFileStatus(p);
            } catch (FileNotFoundException missing) {
                // the store answered; the command's own checks name what is missing
            }
            return null;
        });
        String where = option + " (" + path + ")";
        try {
            answer.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            answer.cancel(true);
            throw new UnreachableStoreException(where + ": " + store(p, fast) + " did not answer within "
                + timeoutSeconds + " s (raise " + OPTION + " to wait longer)", false, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking " + where, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (named(cause, "org.apache.hadoop.fs.s3a.UnknownStoreException")) { // hadoop-aws may be absent
                throw new UnreachableStoreException(where + ": " + store(p, fast) + " does not exist", true, cause);
            }
            boolean denied = cause instanceof java.nio.file.AccessDeniedException
                || cause instanceof org.apache.hadoop.security.AccessControlException;
            throw new UnreachableStoreException(where + ": " + store(p, fast) + (denied ? " refused access: "
                : " cannot be reached: ") + firstLine(cause), denied, cause);
        }
    }

    /** Whether {@code t}'s class or one of its superclasses is {@code className}. */
    private static boolean named(Throwable t, String className) {
        for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
            if (c.getName().equals(className)) {
                return true;
            }
        }
        return false;
    }

    /** The store in words: its scheme and where it is (S3A: the bucket and endpoint; else the authority). */
    static String store(Path p, Configuration conf) {
        URI uri = p.toUri();
        String scheme = uri.getScheme() == null ? FileSystem.getDefaultUri(conf).getScheme() : uri.getScheme();
        if ("s3a".equals(scheme)) {
            String endpoint = conf.getTrimmed("fs.s3a.bucket." + uri.getHost() + ".endpoint",
                conf.getTrimmed("fs.s3a.endpoint", ""));
            return "the S3A bucket " + uri.getHost() + (endpoint.isEmpty() ? "" : " at " + endpoint);
        }
        if ("file".equals(scheme)) {
            return "the local file system";
        }
        return "the " + scheme + " store" + (uri.getAuthority() == null ? "" : " at " + uri.getAuthority());
    }

    /** An exception's message, first line only (S3A and HDFS append pages of advice), with its type if bare. */
    public static String firstLine(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            return t.getClass().getSimpleName();
        }
        int nl = m.indexOf('\n');
        return (nl < 0 ? m : m.substring(0, nl)).trim();
    }
}
