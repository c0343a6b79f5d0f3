package dev.buddy.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** What is wrong with a path given as a file to read, in words that fit after the path in a message. */
public final class InputFile {
    private InputFile() {}

    /**
     * @param kind what the file should be, e.g. {@code "a GGUF file"}
     * @return null when {@code path} is a regular file; else "does not exist", "is a directory, not KIND" or "is not
     *         a regular file, so not KIND"
     */
    public static String problem(Path path, String kind) {
        if (Files.isRegularFile(path)) {
            return null;
        }
        if (Files.isDirectory(path)) {
            return "is a directory, not " + kind;
        }
        return Files.exists(path) ? "is not a regular file, so not " + kind : "does not exist";
    }
}
