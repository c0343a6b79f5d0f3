package dev.buddy.router.baseline;

/** Calibration input that cannot be used: empty, or too short to measure a next-token loss. */
public final class CalibrationException extends RuntimeException {
    public CalibrationException(String message) {
        super(message);
    }
}
