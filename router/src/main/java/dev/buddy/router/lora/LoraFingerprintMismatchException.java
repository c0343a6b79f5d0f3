package dev.buddy.router.lora;

/** An adapter trained on a different base model (its recorded fingerprint is not this model's). */
public final class LoraFingerprintMismatchException extends LoraException {
    LoraFingerprintMismatchException(String message) {
        super(message);
    }
}
