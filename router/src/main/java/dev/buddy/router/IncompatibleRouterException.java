package dev.buddy.router;

/**
 * A router that does not fit the model it is applied to (layer count or feature width differs). A router is trained
 * against one backbone and is never applied to another silently.
 */
public sealed class IncompatibleRouterException extends RouterException permits FingerprintMismatchException {
    public IncompatibleRouterException(String message) {
        super(message);
    }
}
