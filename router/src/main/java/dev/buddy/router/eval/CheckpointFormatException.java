package dev.buddy.router.eval;

import java.nio.file.Path;

/** An evaluation checkpoint ({@link EvalCheckpoint}) that cannot be read back; the message names the file. */
public final class CheckpointFormatException extends EvalException {
    public CheckpointFormatException(Path file, String problem) {
        super(file + ": " + problem + " (not a checkpoint buddy eval wrote; remove it to start over)");
    }
}
