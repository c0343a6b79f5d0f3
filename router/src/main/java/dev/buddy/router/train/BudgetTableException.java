package dev.buddy.router.train;

/** A budget table file that is malformed or was measured with a different model, router or data; names the line. */
public final class BudgetTableException extends RuntimeException {
    public BudgetTableException(String message) {
        super(message);
    }
}
