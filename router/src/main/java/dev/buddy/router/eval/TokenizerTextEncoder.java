package dev.buddy.router.eval;

import dev.buddy.engine.tokenizer.Tokenizer;
import dev.buddy.engine.tokenizer.Vocabulary;

import java.util.Objects;

/** The engine's tokenizer as evaluation's {@link TextEncoder}: plain text, no special tokens parsed or added. */
public final class TokenizerTextEncoder implements TextEncoder {
    private final Tokenizer tokenizer;

    public TokenizerTextEncoder(Tokenizer tokenizer) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    }

    @Override
    public int[] encode(String text) {
        // Control-token text inside a document stays literal, as in llama.cpp's perplexity tool (parse_special off);
        // BOS is added by the scorer or the perplexity stream when asked.
        return tokenizer.encode(text, false, false);
    }

    @Override
    public int bosToken() {
        int bos = tokenizer.vocabulary().bosId();
        return bos == Vocabulary.NO_TOKEN ? -1 : bos;
    }

    @Override
    public boolean addsBos() {
        return tokenizer.vocabulary().addBos() && bosToken() >= 0;
    }
}
