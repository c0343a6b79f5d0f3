package dev.buddy.cli;

/**
 * The user asked for something the command line cannot do: an unknown command or option, a missing or malformed
 * value. {@link Cli} prints the one-line message and exits with {@link Cli#EXIT_USAGE}.
 */
public final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
