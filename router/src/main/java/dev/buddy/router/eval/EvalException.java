package dev.buddy.router.eval;

/** Base of evaluation's typed, user-facing errors; each message is one line naming the problem. */
public abstract sealed class EvalException extends RuntimeException
        permits CheckpointFormatException, DatasetFormatException, InvalidEvalOptionException {
    protected EvalException(String message) {
        super(message);
    }

    protected EvalException(String message, Throwable cause) {
        super(message, cause);
    }
}
