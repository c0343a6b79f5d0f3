package dev.buddy.router;

/** A router option given by the user (feature source, pooling, reroute policy) that is not recognised. */
public final class InvalidRouterOptionException extends RouterException {
    public InvalidRouterOptionException(String message) {
        super(message);
    }
}
