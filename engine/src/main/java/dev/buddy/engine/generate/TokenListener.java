package dev.buddy.engine.generate;

/** Receives generated tokens as they are produced, on the generating thread. */
@FunctionalInterface
public interface TokenListener {
    /** Ignores every token. */
    TokenListener NONE = (token, text) -> { };

    /**
     * @param token the generated token id
     * @param text  the complete characters this token finishes: may be empty while a multi-byte character is still
     *              incomplete, and may hold characters begun by earlier tokens
     */
    void onToken(int token, String text);
}
