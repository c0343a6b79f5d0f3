package dev.buddy.router.eval;

import java.nio.file.Path;

/**
 * A {@code summary.json} that cannot be merged: not JSON, not the shape {@code buddy eval} writes, for another model,
 * or a rename that does not apply. The message is one line and starts with the file.
 */
public final class SummaryFormatException extends RuntimeException {
    public SummaryFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }
}
