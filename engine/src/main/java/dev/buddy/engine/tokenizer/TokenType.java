package dev.buddy.engine.tokenizer;

/**
 * The kind of a vocabulary entry, as GGUF stores it in {@code tokenizer.ggml.token_type} (llama.cpp's
 * {@code llama_token_type} numbering). The kind decides how a token is matched in text and how it decodes.
 */
public enum TokenType {
    /** Id 0: no type recorded; decodes to nothing, like llama.cpp does for unsupported types. */
    UNDEFINED(0),
    /** Id 1: an ordinary piece produced by the merge algorithm. */
    NORMAL(1),
    /** Id 2: the unknown-token placeholder ({@code <unk>}); treated like a control token. */
    UNKNOWN(2),
    /** Id 3: a control token (BOS, EOS, chat markers); found in text only with {@code parseSpecial}, decodes to "". */
    CONTROL(3),
    /** Id 4: an added token that is always matched in text as a whole and decodes to its text. */
    USER_DEFINED(4),
    /** Id 5: a reserved slot; never produced, decodes to nothing. */
    UNUSED(5),
    /** Id 6: a byte-fallback token {@code <0xNN>} standing for one raw byte. */
    BYTE(6);

    private static final TokenType[] BY_ID = values();

    private final int id;

    TokenType(int id) {
        this.id = id;
    }

    /** The number GGUF stores for this type. */
    public int id() {
        return id;
    }

    /** The type for a stored number; numbers outside the known range read as {@link #UNDEFINED}, as in llama.cpp. */
    public static TokenType fromId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : UNDEFINED;
    }

    /** Control-like tokens: suppressed when decoding without special rendering, matched only with parseSpecial. */
    boolean isControlLike() {
        return this == CONTROL || this == UNKNOWN;
    }
}
