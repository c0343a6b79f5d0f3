package dev.buddy.router.train;

/** A training or calibration data file that cannot be used; the message names the file and, where known, the line. */
public final class TrainingDataException extends RuntimeException {
    public TrainingDataException(String message) {
        super(message);
    }

    public TrainingDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
