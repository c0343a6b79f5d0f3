package dev.buddy.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * How an exception that escaped a command is reported: one line and an exit code.
 *
 * <p>User errors (exit {@link Cli#EXIT_USAGE}): usage mistakes, file-system problems, and every exception type
 * declared under {@code dev.buddy}, since the project's convention is that those are typed, one-line user errors
 * (a malformed GGUF, an unsupported tensor type, a prompt longer than the context). Anything else is a bug in Buddy
 * (exit {@link Cli#EXIT_INTERNAL}) and says how to get the stack trace.
 */
record Failure(int exitCode, String message) {
    static final String DEBUG_HINT = "run with BUDDY_DEBUG=1 for the stack trace";

    static Failure of(Throwable t) {
        if (t instanceof UncheckedIOException u && u.getCause() != null) {
            return of(u.getCause());
        }
        if (t instanceof NoSuchFileException e) {
            return user("no such file: " + e.getFile());
        }
        if (t instanceof AccessDeniedException e) {
            return user("permission denied: " + e.getFile());
        }
        if (t instanceof FileSystemException e) {
            return user(e.getFile() + ": " + (e.getReason() != null ? e.getReason() : "cannot be accessed"));
        }
        if (t instanceof IOException e) {
            return user("I/O error: " + describe(e));
        }
        if (t.getClass().getName().startsWith("dev.buddy.") && t instanceof RuntimeException) {
            return user(describe(t));
        }
        if (t instanceof OutOfMemoryError) {
            return new Failure(Cli.EXIT_INTERNAL, "out of memory (" + describe(t) + "); give the JVM more, e.g."
                    + " BUDDY_JAVA_OPTS=-Xmx16g ./buddy ...");
        }
        return new Failure(Cli.EXIT_INTERNAL, "internal error: " + t.getClass().getName()
                + (t.getMessage() != null ? ": " + oneLine(t.getMessage()) : "") + "; " + DEBUG_HINT);
    }

    private static Failure user(String message) {
        return new Failure(Cli.EXIT_USAGE, oneLine(message));
    }

    private static String describe(Throwable t) {
        return t.getMessage() != null ? oneLine(t.getMessage()) : t.getClass().getSimpleName();
    }

    /** Messages may quote file content; keep the report on one line whatever they hold. */
    static String oneLine(String s) {
        return s.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
