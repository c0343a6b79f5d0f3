package dev.buddy.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks, before a command starts its work, that its output can be written, so that a mistyped {@code -o} fails in a
 * second with one line naming the path instead of after minutes of evaluation or training. The writers create the
 * folders that are missing, so what must hold is that the nearest folder above the output that exists is a
 * directory and writable (and that a file output is not itself a directory).
 */
public final class OutputPath {
    private OutputPath() {}

    /**
     * A file the command will write.
     *
     * @param option how the user gave it, for the message (e.g. {@code -o})
     */
    public static Path file(String option, Path file) {
        if (Files.isDirectory(file)) {
            throw new UsageException(option + " " + file + " is a directory; give the name of the file to write");
        }
        checkFolder(option, file, file.toAbsolutePath().getParent());
        return file;
    }

    /** {@link #file(String, Path)} for a file written from {@code model}, which it must not replace. */
    public static Path file(String option, Path file, Path model) {
        file(option, file);
        try {
            if (Files.exists(file) && Files.exists(model) && Files.isSameFile(file, model)) {
                throw new UsageException(option + " " + file + " is the model itself; choose another output file");
            }
        } catch (IOException e) {
            // the writer will say what is wrong with the file
        }
        return file;
    }

    /** A folder the command writes its files into, created if it does not exist yet. */
    public static Path directory(String option, Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UsageException(option + " " + dir + " is a file, not a folder; give the folder to write into");
        }
        checkFolder(option, dir, dir.toAbsolutePath());
        return dir;
    }

    private static void checkFolder(String option, Path output, Path folder) {
        Path existing = folder;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return; // not even the root exists: leave it to the writer to say what is wrong
        }
        if (!Files.isDirectory(existing)) {
            throw new UsageException(option + " " + output + ": " + existing + " is not a directory");
        }
        if (!Files.isWritable(existing)) {
            throw new UsageException(option + " " + output + ": the folder " + existing + " is not writable");
        }
    }
}
