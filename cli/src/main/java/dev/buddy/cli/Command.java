package dev.buddy.cli;

/**
 * A {@code buddy} subcommand. {@link Cli} parses the arguments against {@link #spec()}, answers {@code --help}, and
 * turns exceptions into one-line messages and exit codes, so an implementation only does its job.
 */
public interface Command {
    CommandSpec spec();

    /**
     * Runs the command.
     *
     * @return the process exit code, {@link Cli#EXIT_OK} on success
     * @throws Exception user errors as {@link UsageException}, {@link java.io.IOException} or a typed engine or GGUF
     *     exception, which {@link Cli} reports in one line
     */
    int run(ParsedArgs args, Io io) throws Exception;
}
