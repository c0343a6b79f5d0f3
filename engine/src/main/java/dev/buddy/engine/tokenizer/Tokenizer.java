package dev.buddy.engine.tokenizer;

/**
 * Turns text into token ids and back for one vocabulary, the way llama.cpp does for the same GGUF metadata.
 *
 * <p>Implementations are immutable and safe to share between threads.
 */
public interface Tokenizer {

    /** The tokenizer for a vocabulary's {@code tokenizer.ggml.model}. */
    static Tokenizer of(Vocabulary vocabulary) {
        return switch (vocabulary.model()) {
            case Vocabulary.MODEL_SENTENCEPIECE -> new SentencePieceTokenizer(vocabulary);
            case Vocabulary.MODEL_BYTE_PAIR -> new BytePairTokenizer(vocabulary);
            default -> throw new VocabularyException(
                    "unsupported tokenizer.ggml.model = '" + vocabulary.model() + "' (supported: llama, gpt2)");
        };
    }

    /** The vocabulary this tokenizer was built from. */
    Vocabulary vocabulary();

    /**
     * Encodes text.
     *
     * @param text         the text
     * @param addBos       whether the text starts a sequence: BOS is then added when {@code tokenizer.ggml.add_bos_token}
     *                     asks for it (and EOS when {@code add_eos_token} does), like llama.cpp's {@code add_special}
     * @param parseSpecial whether control tokens written in the text (such as {@code <|im_start|>}) become single
     *                     tokens; user-defined tokens always do
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** Encodes text that starts a sequence, with special-token text taken literally. */
    default int[] encode(String text) {
        return encode(text, true, false);
    }

    /**
     * The bytes a token stands for. Control and unknown tokens give no bytes unless {@code renderSpecial}.
     * A byte-fallback or partial byte-level token may hold an incomplete UTF-8 sequence.
     */
    byte[] tokenBytes(int token, boolean renderSpecial);

    /** A token's text on its own, control tokens as "". Use a {@link StreamingDecoder} to decode a token stream. */
    default String decode(int token) {
        return new String(tokenBytes(token, false), java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * The text of a token sequence, control tokens as "", like llama.cpp's {@code llama_detokenize} without special
     * rendering: for SentencePiece vocabularies with {@code add_space_prefix} the first token's leading space (the one
     * encoding added) is dropped. Invalid UTF-8 becomes U+FFFD, one per maximal invalid subsequence.
     */
    default String decode(int[] tokens) {
        StreamingDecoder decoder = streamingDecoder(true);
        StringBuilder text = new StringBuilder(tokens.length * 4);
        for (int token : tokens) {
            decoder.accept(token, text);
        }
        decoder.finish(text);
        return text.toString();
    }

    /**
     * A decoder for a stream of generated tokens that emits only complete UTF-8 characters.
     *
     * @param atTextStart true when the stream is the whole text (the first token's prefix space is then dropped as
     *                    {@link #decode(int[])} does); false when it continues a prompt
     */
    StreamingDecoder streamingDecoder(boolean atTextStart);

    /** The kind of a token, after llama.cpp's corrections (end-of-turn markers count as control tokens). */
    TokenType tokenType(int token);

    /** Whether generating this token ends the turn: EOS, EOT, and end-of-turn markers such as {@code <|im_end|>}. */
    boolean isStopToken(int token);

    /** All stop tokens, ascending. */
    int[] stopTokens();

    /** The end-of-turn token: {@code tokenizer.ggml.eot_token_id}, else a known marker in the vocabulary, else -1. */
    int endOfTurnId();
}
