package dev.buddy.router.lora;

/** A LoRA setting out of range (rank, alpha, targets, learning rate). */
public final class InvalidLoraOptionException extends LoraException {
    public InvalidLoraOptionException(String message) {
        super(message);
    }
}
