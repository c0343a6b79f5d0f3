package dev.buddy.router.lora;

/** A file that is not a readable Buddy LoRA adapter, or whose tensors do not fit the model. */
public final class LoraFormatException extends LoraException {
    LoraFormatException(String message) {
        super(message);
    }

    LoraFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
