package dev.buddy.engine.tokenizer;

/**
 * Decodes a token stream to text incrementally, emitting only complete UTF-8 characters: a character split across
 * tokens (byte-fallback tokens, or byte-level pieces of an emoji) is held back until its last byte arrives.
 *
 * <p>Malformed input becomes U+FFFD exactly as {@code new String(bytes, UTF_8)} replaces it (one per maximal ill-formed
 * subpart, except that an encoded surrogate {@code ED A0..BF xx} is one U+FFFD for all three bytes, as in the JDK), so
 * the output equals decoding all bytes at once, however the stream was cut.
 * Decoding allocates nothing per token beyond the growth of the caller's {@link StringBuilder}.
 *
 * <p>Not thread-safe: one decoder per stream.
 */
public final class StreamingDecoder {
    private static final char REPLACEMENT = '\uFFFD';

    private final BaseTokenizer tokenizer;
    private final boolean dropLeadingSpace;
    private final boolean renderSpecial;

    private boolean firstToken = true;
    /** Continuation bytes still expected for the character in progress; 0 when between characters. */
    private int needed;
    private int codePoint;
    /** The allowed range of the next byte; narrower than 80..BF right after E0, ED, F0 and F4. */
    private int lowerBound = 0x80;
    private int upperBound = 0xBF;

    StreamingDecoder(BaseTokenizer tokenizer, boolean dropLeadingSpace) {
        this(tokenizer, dropLeadingSpace, false);
    }

    private StreamingDecoder(BaseTokenizer tokenizer, boolean dropLeadingSpace, boolean renderSpecial) {
        this.tokenizer = tokenizer;
        this.dropLeadingSpace = dropLeadingSpace;
        this.renderSpecial = renderSpecial;
    }

    /** A decoder like this one (fresh) that shows control tokens as their text, e.g. for logging prompts. */
    public StreamingDecoder renderingSpecialTokens() {
        return new StreamingDecoder(tokenizer, dropLeadingSpace, true);
    }

    /** Decodes one token and returns the characters it completed (possibly ""). */
    public String accept(int token) {
        StringBuilder out = new StringBuilder(16);
        accept(token, out);
        return out.toString();
    }

    /** Decodes one token and appends the characters it completed to {@code out}. */
    public void accept(int token, StringBuilder out) {
        tokenizer.checkToken(token);
        int length = tokenizer.pieceLength(token, renderSpecial);
        int from = 0;
        if (firstToken) {
            firstToken = false;
            // llama.cpp's detokenize drops one leading space of the first token only (lstrip = 1).
            if (dropLeadingSpace && length > 0 && tokenizer.pieceByte(token, 0) == ' ') {
                from = 1;
            }
        }
        for (int i = from; i < length; i++) {
            acceptByte(tokenizer.pieceByte(token, i), out);
        }
    }

    /** Ends the stream: an unfinished character becomes U+FFFD. The decoder can then start a new stream. */
    public void finish(StringBuilder out) {
        if (needed > 0) {
            out.append(REPLACEMENT);
            needed = 0;
        }
        firstToken = true;
    }

    /** Ends the stream and returns what was held back ("" or U+FFFD). */
    public String finish() {
        StringBuilder out = new StringBuilder(1);
        finish(out);
        return out.toString();
    }

    /** Whether bytes of an unfinished character are held back. */
    public boolean hasPendingBytes() {
        return needed > 0;
    }

    private void acceptByte(int b, StringBuilder out) {
        if (needed > 0) {
            if (b >= lowerBound && b <= upperBound) {
                codePoint = (codePoint << 6) | (b & 0x3F);
                lowerBound = 0x80;
                upperBound = 0xBF;
                if (--needed == 0) {
                    if (Character.isSurrogate((char) codePoint) && codePoint <= 0xFFFF) {
                        out.append(REPLACEMENT);
                    } else {
                        out.appendCodePoint(codePoint);
                    }
                }
                return;
            }
            // The held bytes are a maximal ill-formed subpart; this byte starts afresh.
            out.append(REPLACEMENT);
            needed = 0;
            lowerBound = 0x80;
            upperBound = 0xBF;
        }
        if (b < 0x80) {
            out.append((char) b);
        } else if (b >= 0xC2 && b <= 0xDF) {
            start(b & 0x1F, 1, 0x80, 0xBF);
        } else if (b == 0xE0) {
            start(b & 0x0F, 2, 0xA0, 0xBF);
        } else if (b >= 0xE1 && b <= 0xEF) {
            // ED A0..BF (an encoded surrogate) is accepted as a prefix and replaced once complete, as the JDK does.
            start(b & 0x0F, 2, 0x80, 0xBF);
        } else if (b == 0xF0) {
            start(b & 0x07, 3, 0x90, 0xBF);
        } else if (b >= 0xF1 && b <= 0xF3) {
            start(b & 0x07, 3, 0x80, 0xBF);
        } else if (b == 0xF4) {
            start(b & 0x07, 3, 0x80, 0x8F);
        } else {
            out.append(REPLACEMENT);
        }
    }

    private void start(int bits, int continuationBytes, int lower, int upper) {
        codePoint = bits;
        needed = continuationBytes;
        lowerBound = lower;
        upperBound = upper;
    }
}
