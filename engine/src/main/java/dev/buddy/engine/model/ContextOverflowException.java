package dev.buddy.engine.model;

/** More tokens than the KV cache's context holds. */
public final class ContextOverflowException extends RuntimeException {
    private final int requiredPositions;
    private final int contextLength;

    public ContextOverflowException(int requiredPositions, int contextLength) {
        super(requiredPositions + " tokens do not fit the context of " + contextLength
                + " tokens; shorten the prompt or raise the context size");
        this.requiredPositions = requiredPositions;
        this.contextLength = contextLength;
    }

    public int requiredPositions() {
        return requiredPositions;
    }

    public int contextLength() {
        return contextLength;
    }
}
