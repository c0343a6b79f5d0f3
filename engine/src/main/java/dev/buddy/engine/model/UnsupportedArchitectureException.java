package dev.buddy.engine.model;

/** {@code general.architecture} names a model family Buddy does not implement. */
public final class UnsupportedArchitectureException extends ModelLoadException {
    public UnsupportedArchitectureException(String message) {
        super(message);
    }
}
