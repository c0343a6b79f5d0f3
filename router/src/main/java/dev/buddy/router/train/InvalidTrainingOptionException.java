package dev.buddy.router.train;

/** A training setting out of range (a user error, reported as one line). */
public final class InvalidTrainingOptionException extends RuntimeException {
    public InvalidTrainingOptionException(String message) {
        super(message);
    }
}
