package dev.sparkmnist.app;

import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Creates the job's Spark configuration, its Hadoop configuration and its Spark context. The master comes from
 * spark-submit or --master, never from code. The driver's own file I/O (validating the data, outputs, checkpoints,
 * provenance) uses the Hadoop configuration Spark derives from the same settings ({@code spark.hadoop.*}, S3
 * credentials from the environment), before the context exists and after: one configuration for driver and executors.
 */
final class SparkContexts {
    /** Used only when neither spark-submit nor --master names a master: the embedded local mode. */
    static final String EMBEDDED_MASTER = "local[*]";
    private static final String LOOPBACK = "127.0.0.1";
    /** OpenMP's wait policy for executors unless set. */
    static final String OMP_WAIT_POLICY = "PASSIVE";
    /** Executor heartbeat interval unless set: how often progress within an epoch reaches the driver. */
    static final String HEARTBEAT_INTERVAL = "2s";
    /**
     * Largest task result sent straight back with the task's status unless set: a resident stage's worker 0 returns
     * the averaged network (the MLP with Adam: 2.8 MB), which at Spark's 1 MiB went through the block manager (stored,
     * fetched by the driver, removed). Spark caps it at {@code spark.rpc.message.maxSize} (128 MiB by default).
     */
    static final String MAX_DIRECT_RESULT_SIZE = "64m";

    private SparkContexts() {
    }

    /**
     * The Hadoop configuration of these Spark settings, as {@code SparkContext.hadoopConfiguration()} will be: built
     * by Spark's own {@code SparkHadoopUtil.newConfiguration}, so a {@code spark.hadoop.*} setting reaches the
     * driver's reads and writes too, and no Spark context is needed (single-JVM runs, checks before Spark starts).
     * Local files ({@code file://}) get their permissions without a {@code chmod} process
     * ({@link dev.sparkmnist.runs.PosixLocalFileSystem}) unless {@code spark.hadoop.fs.file.impl} names another
     * implementation. This is the driver's first Hadoop file system, so Hadoop's cache serves it to Spark's driver
     * (and, in local mode, its tasks) as well.
     */
    static org.apache.hadoop.conf.Configuration hadoop(SparkConf conf) {
        return dev.sparkmnist.runs.PosixLocalFileSystem.use(
            org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(conf));
    }

    /**
     * The Hadoop configuration of spark-submit's settings (its {@code spark.hadoop.*}) for a command that starts no
     * Spark ({@code predict}, {@code report}): no driver, so Spark's loopback warnings are left out as in a local run.
     */
    static org.apache.hadoop.conf.Configuration hadoopWithoutSpark() {
        quietLoopbackWarnings();
        return hadoop(new SparkConf());
    }

    /**
     * The settings of spark-submit (system properties) plus {@code --conf} pairs, master resolved and checked; the
     * project's switches among them ({@code spark.sparkmnist.*}) checked and set in this JVM.
     */
    static SparkConf conf(String appName, String master, List<String> confPairs) {
        if (drivesOnLoopback(master, confPairs)) {
            quietLoopbackWarnings(); // before the first SparkConf: loading Spark's settings logs them
        }
        SparkConf conf = new SparkConf().setAppName(appName);
        for (String pair : confPairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--conf (" + pair + ") must have the form key=value");
            }
            conf.set(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        if (master != null && !master.isBlank()) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster(EMBEDDED_MASTER);
        }
        // Local mode needs no network: keep the driver on the loopback interface instead of the machine's address.
        String resolved = conf.get("spark.master");
        if (driverInThisJvmOnly(resolved)) {
            conf.setIfMissing("spark.driver.host", LOOPBACK);
            conf.setIfMissing("spark.driver.bindAddress", LOOPBACK);
        }
        checkMaster(resolved);
        // Progress within an epoch travels with executor heartbeats (running tasks' accumulator values): every 2 s
        // instead of Spark's 10 s, a few small RPCs per executor, unless the user chose.
        conf.setIfMissing("spark.executor.heartbeatInterval", HEARTBEAT_INTERVAL);
        // A network that comes back as a task result (the resident stage's, DL4J's master's aggregates) travels with
        // the task's status instead of through the block manager: one message instead of a store, a fetch and a
        // removal (BENCHMARKS.md, round 25: 60-90 ms of a resident MLP's epoch 1 in local mode, 10-30 ms later).
        conf.setIfMissing("spark.task.maxDirectResultSize", MAX_DIRECT_RESULT_SIZE);
        // Executor JVMs (cluster modes) start ND4J with one OpenMP thread per task core, and OpenMP threads that sleep
        // instead of spinning between parallel regions (spinning took the cores OpenBLAS's threads needed: the MLP in
        // one JVM trained 1.5x slower; BENCHMARKS.md, OpenMP threads per task thread).
        conf.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", conf.get("spark.task.cpus", "1"));
        conf.setIfMissing("spark.executorEnv.OMP_WAIT_POLICY", OMP_WAIT_POLICY);
        // --conf spark.sparkmnist.NAME=true|false: checked, and this JVM's switch from here (executors: TaskSetup)
        dev.sparkmnist.runtime.Switches.apply(conf);
        // OpenBLAS's kernels for this JVM's CPU, chosen before anything here loads ND4J (executors: TaskSetup)
        dev.sparkmnist.runtime.OpenBlasCore.chooseBeforeLoad();
        return conf;
    }

    /** The jars the build writes for spark-submit (the app and its libraries, Spark and Hadoop left out). */
    static final List<String> SUBMIT_JARS = List.of("spark-mnist-submit.jar", "spark-mnist-submit-cuda.jar");

    /**
     * Gives a cluster's executors the app's classes when this JVM was not started by spark-submit (which names its
     * jar in {@code spark.jars}): a driver run as {@code java -cp "spark-mnist.jar:lib/*" ... --master spark://...}
     * ({@code scripts/spark-mnist}) set nothing there, and every executor failed the stage with a
     * {@code ClassNotFoundException} of the engine's classes, four attempts, then the job. {@code spark.jars} becomes
     * the spark-submit jar beside the jar this class came from (the app's, {@code modules/app/target/}), which Spark
     * serves to the executors as it serves spark-submit's; without one, a one-line refusal that names the ways to
     * run it. Local masters (local-cluster included: its tests set the executors' class path) and a {@code spark.jars}
     * of the user's are left as they are.
     */
    static void shipAppClasses(SparkConf conf, java.nio.file.Path codeSource) {
        String master = conf.get("spark.master");
        if (master.startsWith("local") || !conf.get("spark.jars", "").isBlank()) {
            return;
        }
        java.nio.file.Path jar = submitJar(codeSource);
        if (jar == null) {
            throw new IllegalArgumentException("--master (" + master + ") runs executors in JVMs of their own, which"
                + " need the app's classes: submit the job with scripts/spark-submit (scripts/submit-cluster.sh for a"
                + " standalone master), or give --conf spark.jars=PATH/spark-mnist-submit.jar");
        }
        conf.set("spark.jars", jar.toUri().toString());
        org.slf4j.LoggerFactory.getLogger(SparkContexts.class).info("spark.jars set to {}: the executors load the app's"
            + " classes from it (this JVM was not started by spark-submit)", jar);
    }

    /** The spark-submit jar: {@code codeSource} itself when it is one, else one beside it; null when there is none. */
    static java.nio.file.Path submitJar(java.nio.file.Path codeSource) {
        if (codeSource == null || !java.nio.file.Files.isRegularFile(codeSource)) {
            return null; // classes from a directory (the build's own tests): no jar to give
        }
        if (SUBMIT_JARS.contains(codeSource.getFileName().toString())) {
            return codeSource;
        }
        for (String name : SUBMIT_JARS) {
            java.nio.file.Path beside = codeSource.resolveSibling(name);
            if (java.nio.file.Files.isRegularFile(beside)) {
                return beside;
            }
        }
        return null;
    }

    /** Where this class was loaded from (a jar, or the build's class directory); null when that is unknown. */
    private static java.nio.file.Path codeSource() {
        try {
            java.security.CodeSource source = SparkContexts.class.getProtectionDomain().getCodeSource();
            return source == null ? null : java.nio.file.Path.of(source.getLocation().toURI());
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /** The log4j2 configuration {@link #quietLoopbackWarnings} last filtered (a reconfiguration starts anew). */
    private static Object quietedIn;
    /** The logger of Spark's {@code Utils}, which logs the loopback warnings. */
    static final String SPARK_UTILS_LOGGER = "org.apache.spark.util.Utils";
    /** Spark's two warnings about a host name that resolves to a loopback address (Spark 3.5's words). */
    static final String LOOPBACK_WARNINGS = "Your hostname, .* resolves to a loopback address: .*"
        + "|Set SPARK_LOCAL_IP if you need to bind to another address";

    /**
     * Whether {@link #conf} will keep this run's driver on 127.0.0.1: a local master (not local-cluster) from
     * {@code --master}, a {@code --conf spark.master} or spark-submit's property ({@value #EMBEDDED_MASTER} when none
     * names one), and no {@code spark.driver.host} of the user's. Decided before any SparkConf exists.
     */
    static boolean drivesOnLoopback(String master, List<String> confPairs) {
        String m = master != null && !master.isBlank() ? master
            : given(confPairs, "spark.master", System.getProperty("spark.master", EMBEDDED_MASTER));
        return driverInThisJvmOnly(m)
            && given(confPairs, "spark.driver.host", System.getProperty("spark.driver.host")) == null;
    }

    /** A local master whose tasks all run in this JVM (local-cluster's executors are JVMs of their own). */
    private static boolean driverInThisJvmOnly(String master) {
        return master.startsWith("local") && !master.startsWith("local-cluster");
    }

    /** The value of the last pair for {@code key} ({@link #conf} sets them in order), else {@code orElse}. */
    private static String given(List<String> confPairs, String key, String orElse) {
        String value = orElse;
        for (String pair : confPairs) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).trim().equals(key)) {
                value = pair.substring(eq + 1).trim();
            }
        }
        return value;
    }

    /**
     * Keeps Spark's two warnings about this machine's name resolving to a loopback address ("Your hostname, H
     * resolves to a loopback address: 127.0.1.1; using A instead (on interface I)", "Set SPARK_LOCAL_IP if you need to
     * bind to another address") out of a local run's log. Spark logs them as its settings first load, where /etc/hosts
     * maps the host's name to a loopback address (Debian and Ubuntu do, to 127.0.1.1), before every command's first
     * line, a bad input's one line included; a local run's driver, which {@link #conf} keeps on 127.0.0.1, uses
     * neither that name nor the address Spark chose instead. Setting {@code SPARK_LOCAL_IP} would silence them too, but
     * would also bind Spark's UI to that address. Only those two messages, and only in this JVM's log4j2 context; a
     * JVM without log4j2's core keeps them. Cluster runs keep them: there the address matters.
     */
    static synchronized void quietLoopbackWarnings() {
        try {
            if (!(org.apache.logging.log4j.LogManager.getContext(false)
                instanceof org.apache.logging.log4j.core.LoggerContext ctx)
                || ctx.getConfiguration() == quietedIn) { // once per configuration: every command calls it
                return;
            }
            org.apache.logging.log4j.core.Filter filter = org.apache.logging.log4j.core.filter.RegexFilter.createFilter(
                LOOPBACK_WARNINGS, null, false, org.apache.logging.log4j.core.Filter.Result.DENY,
                org.apache.logging.log4j.core.Filter.Result.NEUTRAL);
            org.apache.logging.log4j.core.config.Configuration config = ctx.getConfiguration();
            org.apache.logging.log4j.core.config.LoggerConfig parent = config.getLoggerConfig(SPARK_UTILS_LOGGER);
            if (parent.getName().equals(SPARK_UTILS_LOGGER)) {
                parent.addFilter(filter);
            } else {
                // a logger of its own with the filter, passing everything else on to the configured one's appenders
                org.apache.logging.log4j.core.config.LoggerConfig own =
                    new org.apache.logging.log4j.core.config.LoggerConfig(SPARK_UTILS_LOGGER, parent.getLevel(), true);
                own.addFilter(filter);
                config.addLogger(SPARK_UTILS_LOGGER, own);
            }
            ctx.updateLoggers();
            quietedIn = config;
        } catch (IllegalAccessException | LinkageError | RuntimeException e) {
            // another logging back end: Spark's warnings stay as Spark logs them
        }
    }

    /** Starts Spark with these settings (from {@link #conf}) and, on a cluster, waits for its first executor. */
    static JavaSparkContext create(SparkConf conf) {
        String resolved = conf.get("spark.master");
        shipAppClasses(conf, codeSource());
        JavaSparkContext sc;
        try {
            sc = new JavaSparkContext(conf);
        } catch (Exception e) { // Scala throws SparkException (checked in Java) undeclared
            if (e instanceof org.apache.spark.SparkException && e.getMessage() != null
                && e.getMessage().startsWith("Could not parse Master URL")) {
                throw new IllegalArgumentException(badMaster(resolved) + " (Spark: " + e.getMessage() + ")", e);
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("cannot start Spark: " + e.getMessage(), e);
        }
        warmMetrics();
        try {
            // a cluster that gives the job no executor: one line, where the first job would wait for ever
            dev.sparkmnist.training.resident.Slots.requireExecutors(sc);
            return sc;
        } catch (RuntimeException e) {
            sc.stop();
            throw e;
        }
    }

    /**
     * Takes this JVM's executor metrics once, on a daemon thread, as the run sets up: the driver's first heartbeat
     * (and in local mode the executor's) takes them 2-4 s after Spark starts, often in the first epoch, and the first
     * time loads their classes and starts a process ({@code getconf PAGESIZE}, which Spark's process-tree metrics run
     * whether or not they are on): 30-40 ms of a resident MLP's epoch 1 on 2 cores (BENCHMARKS.md, round 42). Spark's
     * internal API: where it differs, nothing is done (a debug line).
     */
    static Thread warmMetrics() {
        Thread t = new Thread(() -> {
            try {
                org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
                if (env != null) {
                    org.apache.spark.executor.ExecutorMetrics$.MODULE$.getCurrentMetrics(env.memoryManager());
                }
            } catch (RuntimeException | LinkageError e) {
                org.slf4j.LoggerFactory.getLogger(SparkContexts.class).debug("executor metrics not warmed: {}",
                    e.toString());
            }
        }, "warm-executor-metrics");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static final java.util.regex.Pattern LOCAL =
        java.util.regex.Pattern.compile("local(\\[(\\*|\\d+)(,\\d+)?])?");
    private static final java.util.regex.Pattern LOCAL_CLUSTER =
        java.util.regex.Pattern.compile("local-cluster\\[\\d+,\\d+,\\d+]");

    /**
     * Refuses local master URLs Spark would fail on with a stack trace (a typo, {@code local[0]}); other schemes
     * (spark://, yarn, k8s://, cluster-manager plug-ins) are Spark's to parse, and a URL it cannot parse is turned
     * into the same one-line error.
     */
    static void checkMaster(String master) {
        if (!master.startsWith("local")) {
            if (master.startsWith("spark://") || master.equals("yarn") || master.startsWith("k8s://")
                || master.startsWith("mesos://") || pluggedIn(master)) {
                return;
            }
            // refused here, before Spark logs its own 20-line trace for the same URL
            throw new IllegalArgumentException(badMaster(master));
        }
        if (LOCAL_CLUSTER.matcher(master).matches()) {
            return;
        }
        java.util.regex.Matcher m = LOCAL.matcher(master);
        if (!m.matches()) {
            throw new IllegalArgumentException(badMaster(master));
        }
        if ("0".equals(m.group(2)) || (m.group(3) != null && Integer.parseInt(m.group(3).substring(1)) < 1)) {
            throw new IllegalArgumentException("--master (" + master + ") must run at least one task: in local[N]"
                + " and local[N,F], N and F must be >= 1");
        }
    }

    /** Whether a cluster manager on the class path (Spark's ServiceLoader plug-in point) takes this URL. */
    static boolean pluggedIn(String master) {
        try {
            for (org.apache.spark.scheduler.ExternalClusterManager m : java.util.ServiceLoader.load(
                org.apache.spark.scheduler.ExternalClusterManager.class,
                Thread.currentThread().getContextClassLoader())) {
                if (m.canCreate(master)) {
                    return true;
                }
            }
        } catch (java.util.ServiceConfigurationError e) {
            return true; // a plug-in that cannot even load: let Spark report it
        }
        return false;
    }

    /** The task threads of a local master (local = 1, local[*] = all cores, local[N] and local[N,F] = N); 1 else. */
    static int localThreads(String master) {
        java.util.regex.Matcher m = LOCAL.matcher(master);
        if (!m.matches() || m.group(2) == null) {
            return 1;
        }
        return m.group(2).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(m.group(2));
    }

    private static String badMaster(String master) {
        return "--master (" + master + ") is not a master URL Spark accepts: local, local[N], local[*], local[N,F],"
            + " spark://HOST:PORT, yarn or k8s://URL";
    }
}
