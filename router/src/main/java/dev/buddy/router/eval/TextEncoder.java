package dev.buddy.router.eval;

/** Text to token ids for evaluation. */
public interface TextEncoder {
    /** The tokens of {@code text} with no BOS or EOS added; control-token text is taken literally. */
    int[] encode(String text);

    /** The BOS token id, or -1 when the vocabulary has none. */
    int bosToken();

    /** Whether the model's vocabulary asks for BOS at the start of a sequence ({@code tokenizer.ggml.add_bos_token}). */
    boolean addsBos();
}
