package dev.buddy.router.eval;

/** An evaluation option that cannot be used: unknown task, bad limit, window larger than the context, and so on. */
public final class InvalidEvalOptionException extends EvalException {
    public InvalidEvalOptionException(String message) {
        super(message);
    }
}
