package dev.sparkmnist.app;

/** The commands' exit codes: 0 ok, 2 bad input or options, 1 any other failure. */
public final class ExitCodes {
    /** Bad input or options: the user's value is at fault. */
    public static final int BAD_INPUT = 2;
    /** Any other failure. */
    public static final int FAILURE = 1;

    private ExitCodes() {
    }
}
