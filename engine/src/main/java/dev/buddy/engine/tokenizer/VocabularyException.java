package dev.buddy.engine.tokenizer;

/** A vocabulary that cannot be turned into a tokenizer: missing or inconsistent metadata, or an unsupported kind. */
public final class VocabularyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VocabularyException(String message) {
        super(message);
    }
}
