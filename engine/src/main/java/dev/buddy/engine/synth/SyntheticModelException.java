package dev.buddy.engine.synth;

/** A request for a synthetic model that cannot be met: an unknown shape or type, an unusable vocabulary file. */
public final class SyntheticModelException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SyntheticModelException(String message) {
        super(message);
    }

    public SyntheticModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
