package dev.buddy.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

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
            return user(fileSystem(e));
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

    /**
     * What went wrong with which file. Many of these exceptions carry no reason (FileAlreadyExistsException from
     * creating a folder where a file stands, NotDirectoryException), so the file system is asked what the path is.
     */
    static String fileSystem(FileSystemException e) {
        String file = e.getFile();
        String other = e.getOtherFile() != null ? " (and " + e.getOtherFile() + ")" : "";
        if (file == null) {
            return "file system error: " + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName())
                    + other;
        }
        Path path;
        try {
            path = Path.of(file);
        } catch (InvalidPathException invalid) {
            return file + ": " + (e.getReason() != null ? e.getReason() : "invalid path") + other;
        }
        Path notADirectory = nonDirectoryAbove(path);
        if (notADirectory != null) {
            return file + ": " + notADirectory + " is not a directory" + other;
        }
        String what;
        if (e instanceof NotDirectoryException) {
            what = "is not a directory";
        } else if (e instanceof FileAlreadyExistsException) {
            what = Files.isDirectory(path) ? "already exists, as a directory"
                    : Files.exists(path) ? "already exists, as a file (not a directory)" : "already exists";
        } else if (e instanceof DirectoryNotEmptyException) {
            what = "is a directory that is not empty";
        } else if (e.getReason() != null) {
            what = e.getReason();
        } else if (Files.isDirectory(path)) {
            what = "is a directory";
        } else if (!Files.exists(path)) {
            what = "does not exist";
        } else {
            what = "cannot be accessed (" + e.getClass().getSimpleName() + ")";
        }
        return file + ": " + what + other;
    }

    /** The nearest existing path above {@code path} when that is not a directory (so nothing under it can exist). */
    private static Path nonDirectoryAbove(Path path) {
        for (Path p = path.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                return Files.isDirectory(p) ? null : p;
            }
        }
        return null;
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
