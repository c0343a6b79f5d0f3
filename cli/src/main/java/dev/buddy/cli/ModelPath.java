package dev.buddy.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The model file a command was given, checked before anything loads it: a folder given as the model used to surface
 * as the memory-mapping's "I/O error: No such device", without the path.
 */
public final class ModelPath {
    private ModelPath() {}

    /**
     * @param option how the user gave the model, for the message ({@code -m}, or empty for a positional argument)
     * @return {@code path}, which exists and is a regular file
     */
    public static Path check(String option, Path path) {
        String problem = InputFile.problem(path, "a GGUF file");
        if (problem == null) {
            return path;
        }
        if (!Files.exists(path)) {
            throw new UsageException("no such file: " + path + (option.isEmpty() ? "" : " (" + option + ")"));
        }
        throw new UsageException((option.isEmpty() ? "" : option + " ") + path + " " + problem);
    }

    /** The {@code -m/--model} option's value, checked; null when it was not given. */
    public static Path of(ParsedArgs args) {
        String text = args.string("--model");
        return text == null ? null : check("-m", args.path("model", text));
    }
}
