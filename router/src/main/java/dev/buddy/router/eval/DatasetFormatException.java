package dev.buddy.router.eval;

import java.nio.file.Path;

/** A dataset file that cannot be read as its task expects; the message names the file and the 1-based line. */
public final class DatasetFormatException extends EvalException {
    public DatasetFormatException(Path file, long line, String problem) {
        super(file + ":" + line + ": " + problem);
    }

    public DatasetFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
