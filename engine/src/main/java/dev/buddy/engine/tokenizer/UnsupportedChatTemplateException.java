package dev.buddy.engine.tokenizer;

/** A chat template whose family Buddy does not recognise (it formats ChatML, Llama 3 and Llama 2 prompts). */
public final class UnsupportedChatTemplateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UnsupportedChatTemplateException(String message) {
        super(message);
    }
}
