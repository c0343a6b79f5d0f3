package dev.buddy.router.train;

/** A training checkpoint that is missing, unreadable, or was made by a different run than the one resuming it. */
public final class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
