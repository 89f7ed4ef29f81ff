package dev.sparkmnist.app;

/** The commands' exit codes: 0 ok, 2 bad input or options, 1 any other failure, 130 stopped by a signal. */
public final class ExitCodes {
    /** Bad input or options: the user's value is at fault. */
    public static final int BAD_INPUT = 2;
    /** Any other failure. */
    public static final int FAILURE = 1;
    /** Stopped by Ctrl-C or a termination signal before the command ended (the shell's 128 + SIGINT). */
    public static final int STOPPED = 130;

    private ExitCodes() {
    }
}
