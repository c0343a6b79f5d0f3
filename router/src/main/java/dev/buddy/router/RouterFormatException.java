package dev.buddy.router;

/** A router file that is not a valid {@code buddy-router} GGUF: wrong architecture, missing key, bad tensor shape. */
public final class RouterFormatException extends RouterException {
    public RouterFormatException(String message) {
        super(message);
    }

    public RouterFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
