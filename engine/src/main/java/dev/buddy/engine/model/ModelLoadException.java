package dev.buddy.engine.model;

/** A GGUF file that Buddy cannot run: unsupported architecture, missing or mis-shaped tensor, bad hyper-parameter. */
public class ModelLoadException extends RuntimeException {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
