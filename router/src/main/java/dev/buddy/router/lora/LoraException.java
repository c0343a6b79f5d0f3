package dev.buddy.router.lora;

/** A LoRA adapter that cannot be used: a user error with a one-line message. */
public sealed class LoraException extends RuntimeException
        permits InvalidLoraOptionException, LoraFormatException, LoraFingerprintMismatchException {
    LoraException(String message) {
        super(message);
    }

    LoraException(String message, Throwable cause) {
        super(message, cause);
    }
}
