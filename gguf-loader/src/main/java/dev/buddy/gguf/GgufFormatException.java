package dev.buddy.gguf;

/**
 * A GGUF file is malformed, truncated, of an unsupported version, or lacks or mistypes a value the caller asked for.
 * The message names the file, the field and, where it applies, the byte offset.
 */
public class GgufFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GgufFormatException(String message) {
        super(message);
    }

    public GgufFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
