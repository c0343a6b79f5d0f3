package dev.buddy.router;

/** A budget outside its valid range for the model, or no budget where the router cannot predict one. */
public final class InvalidBudgetException extends RouterException {
    public InvalidBudgetException(String message) {
        super(message);
    }
}
