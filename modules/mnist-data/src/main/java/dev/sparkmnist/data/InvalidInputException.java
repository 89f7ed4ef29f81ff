package dev.sparkmnist.data;

/**
 * Bad input supplied by the user: a missing, corrupt or truncated data file, or an option outside its rule.
 * The message names the value and the rule; the command line maps it to exit code 2.
 */
public class InvalidInputException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
