package dev.buddy.router;

/** Base of the router's typed, user-facing errors; each message is one line naming the problem. */
public abstract sealed class RouterException extends RuntimeException
        permits InvalidBudgetException, InvalidRouterOptionException, RouterFormatException,
        IncompatibleRouterException {
    protected RouterException(String message) {
        super(message);
    }

    protected RouterException(String message, Throwable cause) {
        super(message, cause);
    }
}
