package dev.sparkmnist.app;

import dev.sparkmnist.runs.Secrets;
import dev.sparkmnist.runs.Stores;
import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.runtime.CudaCompatibility;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point for {@code java -jar} and {@code spark-submit}. Exit codes: 0 ok, 2 bad input or options, 1 failure. */
@Command(name = "spark-mnist", mixinStandardHelpOptions = true, version = "spark-mnist 0.1.0",
    subcommands = {TrainCommand.class, EvaluateCommand.class, ReportCommand.class, PredictCommand.class,
        ScoreCommand.class},
    description = "Train and evaluate MNIST networks on Apache Spark with DL4J parameter averaging.")
public final class Main implements java.util.concurrent.Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    public static void main(String[] args) throws org.apache.spark.SparkUserAppException {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        dev.sparkmnist.runs.JvmStop.stopping(); // its shutdown hook marks the stop for the handler below
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopping(args, done), "spark-mnist-stopping"));
        int code;
        try {
            code = execute(args);
        } finally {
            done.countDown();
        }
        if (inYarnApplicationMaster()) {
            // YARN's ApplicationMaster runs this method on a thread of its own and reports the application's final
            // status when it returns: System.exit, even exit(0), would end it as FAILED ("Shutdown hook called
            // before final status was reported"). It reports a SparkUserAppException's code as the failure's.
            if (code != 0) {
                throw new org.apache.spark.SparkUserAppException(code);
            }
            return;
        }
        System.exit(code);
    }

    /** Whether the stopped command's one line is out (by the handler, or by the hook for a run without Spark). */
    private static final java.util.concurrent.atomic.AtomicBoolean STOP_SAID =
        new java.util.concurrent.atomic.AtomicBoolean();
    /** How long the JVM's stop waits for the command to end (its output's staging removed, its line printed). */
    private static final long STOP_GRACE_MILLIS = 2000;

    /**
     * The shutdown hook of a command's JVM (Ctrl-C, SIGTERM): gives a command that is still running
     * {@link #STOP_GRACE_MILLIS} to end (a Spark run ends at once as Spark's own hook stops its context: the handler
     * says it was stopped, and the output's staging directory goes), then says it for a run that did not end (one
     * JVM, training on).
     */
    private static void stopping(String[] args, java.util.concurrent.CountDownLatch done) {
        try {
            if (done.getCount() > 0 && !done.await(STOP_GRACE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                sayStopped(args.length > 0 ? args[0] : "the command", System.err::println);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The stopped command's one line, once, whoever comes first: the failed command's handler or the hook. */
    private static void sayStopped(String command, java.util.function.Consumer<String> err) {
        if (STOP_SAID.compareAndSet(false, true)) {
            err.accept("error: " + command + " was stopped (Ctrl-C or a termination signal) before it ended: its"
                + " output was not written");
        }
    }

    /** Whether this driver runs inside YARN's ApplicationMaster (YARN cluster deploy mode), which sets these. */
    static boolean inYarnApplicationMaster() {
        return System.getProperty("spark.yarn.app.id") != null
            && "cluster".equals(System.getProperty("spark.submit.deployMode"));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int execute(String... args) {
        installSecrets(args);
        return execute(commandLine(), args);
    }

    /**
     * Runs a command line; an {@link Error} (a class missing from the cluster's Spark, memory exhausted), which
     * picocli lets through, also ends in one line and exit 1 instead of a stack trace on the terminal.
     */
    static int execute(CommandLine cl, String... args) {
        try {
            return cl.execute(lastWins(cl, args));
        } catch (Error e) {
            LOG.error("the command failed", e);
            cl.getErr().println(Secrets.current().scrub("error: " + RedactingConverter.oneLine(e))
                + (RedactingConverter.tracesRequested() ? "" : " (" + RedactingConverter.TRACES_ENV + "=1 shows the"
                + " stack trace)"));
            return ExitCodes.FAILURE;
        }
    }

    /** Makes this process's credentials (these arguments, system properties, environment) ones no output shows. */
    static void installSecrets(String... args) {
        Secrets.install(Secrets.of(java.util.List.of(args), System.getProperties(), System.getenv()));
    }

    /**
     * The arguments without the earlier occurrences of any single-valued option that a subcommand's arguments repeat:
     * the last one wins, as {@code setOverwrittenOptionsAllowed} promises and the scripts rely on (they pass their
     * defaults first, then the user's arguments). Picocli 4.7 breaks that promise in argument groups: after a repeated
     * option, the next option of a group already matched starts a new instance of that group and drops what it held
     * ({@code train --output O --epochs 5 --epochs 1 --overwrite} lost {@code --output}). Options that take several
     * values or a varying number of them ({@code --conf}) are left as they are.
     */
    static String[] lastWins(CommandLine cl, String... args) {
        CommandLine sub = args.length == 0 ? null : cl.getSubcommands().get(args[0]);
        if (sub == null) {
            return args;
        }
        CommandLine.Model.CommandSpec spec = sub.getCommandSpec();
        java.util.List<int[]> spans = new java.util.ArrayList<>(); // {start, end, kept}
        java.util.Map<String, Integer> last = new java.util.HashMap<>();
        int i = 1;
        while (i < args.length && !"--".equals(args[i])) {
            String a = args[i];
            int eq = a.indexOf('=');
            String name = eq > 0 ? a.substring(0, eq) : a;
            CommandLine.Model.OptionSpec o = !a.startsWith("-") ? null : spec.findOption(name) != null
                ? spec.findOption(name) : spec.negatedOptionsMap().get(name); // --no-X is X
            if (o == null || o.isMultiValue() || o.arity().min() != o.arity().max()) {
                i += o == null ? 1 : 1 + (eq > 0 ? 0 : o.arity().min());
                continue;
            }
            int end = Math.min(args.length, i + 1 + (eq > 0 ? 0 : o.arity().max()));
            Integer earlier = last.put(o.longestName(), spans.size());
            if (earlier != null) {
                spans.get(earlier)[2] = 0;
            }
            spans.add(new int[] {i, end, 1});
            i = end;
        }
        java.util.List<String> out = new java.util.ArrayList<>(java.util.Arrays.asList(args));
        for (int k = spans.size() - 1; k >= 0; k--) {
            int[] span = spans.get(k);
            if (span[2] == 0) {
                out.subList(span[0], span[1]).clear();
            }
        }
        return out.toArray(new String[0]);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setOverwrittenOptionsAllowed(true); // scripts pass defaults first; a later repetition wins
        cl.setParameterExceptionHandler(Main::badOption);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // once the JVM stops, Spark's hook stops the context under the running job: its failure ("Job 0
            // cancelled because SparkContext was shut down") is the stop's, not the job's
            if (dev.sparkmnist.runs.JvmStop.stopping()) {
                LOG.debug("{} failed as the JVM stopped", cmd.getCommandName(), ex);
                sayStopped(cmd.getCommandName(), cmd.getErr()::println);
                return ExitCodes.STOPPED;
            }
            IllegalArgumentException bad = badInput(ex);
            if (bad != null) {
                cmd.getErr().println(Secrets.current().scrub("error: " + bad.getMessage()));
                return ExitCodes.BAD_INPUT;
            }
            CudaCompatibility.UnsupportedGpuException gpu = cause(ex, CudaCompatibility.UnsupportedGpuException.class);
            if (gpu != null) {
                cmd.getErr().println(Secrets.current().scrub("error: " + gpu.getMessage()));
                return ExitCodes.FAILURE;
            }
            Stores.UnreachableStoreException store = cause(ex, Stores.UnreachableStoreException.class);
            if (store != null) {
                LOG.debug("{} failed", cmd.getCommandName(), ex);
                cmd.getErr().println(Secrets.current().scrub("error: " + store.getMessage()));
                return store.userValue() ? ExitCodes.BAD_INPUT : ExitCodes.FAILURE;
            }
            // the cluster cannot run the job (it shrank, or Spark stopped the application): its message alone
            IllegalStateException lost = cause(ex, dev.sparkmnist.training.resident.ClusterShrankException.class);
            if (lost == null) {
                lost = cause(ex, dev.sparkmnist.training.resident.SparkStoppedException.class);
            }
            if (lost != null) {
                LOG.debug("{} failed", cmd.getCommandName(), ex);
                cmd.getErr().println(Secrets.current().scrub("error: " + lost.getMessage()));
                return ExitCodes.FAILURE;
            }
            LOG.error("{} failed", cmd.getCommandName(), ex);
            cmd.getErr().println(Secrets.current().scrub("error: " + RedactingConverter.oneLine(ex))
                + (RedactingConverter.tracesRequested() ? "" : " (" + RedactingConverter.TRACES_ENV + "=1 shows the"
                + " stack trace)"));
            return ExitCodes.FAILURE;
        });
        return cl;
    }

    /**
     * An option the parser refuses (unknown, a value of the wrong type, one missing): one line, as every other bad
     * input gets, instead of picocli's default of the line followed by the command's whole usage (230 lines for
     * {@code train}), with picocli's suggestions for a mistyped option and where the options are listed; cleaned of
     * secrets, since a mistyped {@code --conf} leaves its {@code key=value} in the line. Exit 2.
     */
    static int badOption(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        // a converter of ours that refuses a value names the option and the rule first: its line, without picocli's
        // "Invalid value for option ...: cannot convert ..." around it
        Throwable own = ex.getCause();
        String message = own != null && own.getMessage() != null && own.getMessage().startsWith("--")
            ? own.getMessage() : ex.getMessage();
        message = String.join(" ", message.strip().split("\\s*\\R\\s*"));
        StringBuilder line = new StringBuilder("error: ").append(message);
        if (ex instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()) {
            line.append(" (did you mean ").append(String.join(" or ", unmatched.getSuggestions())).append("?)");
        }
        line.append("; '").append(cmd.getCommandSpec().qualifiedName()).append(" --help' lists the options");
        cmd.getErr().println(Secrets.current().scrub(line.toString()));
        return ExitCodes.BAD_INPUT;
    }

    /** The user-input error behind a failure, if any (also when wrapped, e.g. by a Spark task failure). */
    static IllegalArgumentException badInput(Throwable ex) {
        InvalidInputException input = cause(ex, InvalidInputException.class);
        if (input != null) {
            return input;
        }
        // Option validation in the records throws plain IllegalArgumentException before any work starts.
        return ex instanceof IllegalArgumentException e ? e : null;
    }

    /** The first exception of this type in the cause chain (the exception itself included), or null. */
    static <T extends Throwable> T cause(Throwable ex, Class<T> type) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    /** No subcommand: print usage and fail, so a script with a typo does not pass silently. */
    @Override
    public Integer call() {
        CommandLine.usage(this, System.err);
        return ExitCodes.BAD_INPUT;
    }
}
