package dev.buddy.cli;

import java.io.InputStream;
import java.io.PrintStream;

/** The streams a command talks to; tests pass their own, {@link Cli#main} passes the process's. */
public record Io(InputStream in, PrintStream out, PrintStream err) {}
