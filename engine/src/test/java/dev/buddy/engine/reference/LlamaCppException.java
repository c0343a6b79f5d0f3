package dev.buddy.engine.reference;

/** A failure of the llama.cpp reference: the native library, a model load, or a call it rejected. */
public final class LlamaCppException extends RuntimeException {
    LlamaCppException(String message) {
        super(message);
    }

    LlamaCppException(String message, Throwable cause) {
        super(message, cause);
    }
}
