package dev.buddy.engine.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * SentencePiece BPE as llama.cpp runs it for {@code tokenizer.ggml.model = "llama"} vocabularies (Llama 1/2).
 *
 * <p>Spaces are written as "▁" (U+2581) and, with {@code add_space_prefix}, each text fragment at the start or after a
 * special token gets a leading "▁". The text starts as one symbol per character; adjacent pairs whose concatenation is a
 * token are merged, highest {@code tokenizer.ggml.scores} first and leftmost on ties, through a priority queue. A
 * final symbol that is no token falls back to its UTF-8 bytes as {@code <0xNN>} tokens.
 */
public final class SentencePieceTokenizer extends BaseTokenizer {
    private static final char SPACE_MARK = '\u2581';

    private final float[] scores;
    /** Token for each byte value: {@code <0xNN>}, else the one-character token, else unknown (-1 when none). */
    private final int[] byteTokens = new int[256];

    public SentencePieceTokenizer(Vocabulary vocabulary) {
        super(vocabulary, SentencePieceTokenizer::spell);
        if (!vocabulary.isSentencePiece()) {
            throw new VocabularyException("SentencePiece tokenizer needs tokenizer.ggml.model = 'llama', not '"
                    + vocabulary.model() + "'");
        }
        this.scores = vocabulary.scores();
        for (int b = 0; b < 256; b++) {
            int id = index.find(byteTokenText(b));
            if (id < 0 && b < 0x80) {
                id = index.find(String.valueOf((char) b));
            }
            byteTokens[b] = id >= 0 ? id : vocabulary.unknownId();
        }
    }

    /** The text of the byte-fallback token for a byte: {@code <0xNN>} with upper-case hex digits. */
    static String byteTokenText(int b) {
        String hex = "0123456789ABCDEF";
        return "<0x" + hex.charAt(b >> 4) + hex.charAt(b & 15) + ">";
    }

    /** An ordinary piece's bytes: "▁" stands for a space. */
    private static byte[] spell(String text) {
        return text.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
    }

    @Override
    boolean dropsLeadingSpace() {
        return vocabulary.addSpacePrefix();
    }

    @Override
    protected void encodeText(String text, int start, int end, boolean afterSpecial, IntArrayList out) {
        StringBuilder escaped = new StringBuilder(end - start + 1);
        if (vocabulary.addSpacePrefix() && afterSpecial) {
            escaped.append(SPACE_MARK);
        }
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            escaped.append(c == ' ' ? SPACE_MARK : c);
        }
        new Session(escaped).run(out);
    }

    /** One merge run over one text fragment; symbols are linked code-point ranges of the escaped text. */
    private final class Session {
        private final CharSequence text;
        private final int[] starts;
        private final int[] lengths;
        private final int[] prev;
        private final int[] next;
        private final int symbolCount;
        private final MergeQueue queue = new MergeQueue();

        Session(CharSequence text) {
            this.text = text;
            int n = text.length();
            starts = new int[n];
            lengths = new int[n];
            prev = new int[n];
            next = new int[n];
            int count = 0;
            for (int offset = 0; offset < n; count++) {
                int length = Character.isHighSurrogate(text.charAt(offset)) && offset + 1 < n
                        && Character.isLowSurrogate(text.charAt(offset + 1)) ? 2 : 1;
                starts[count] = offset;
                lengths[count] = length;
                prev[count] = count - 1;
                offset += length;
                next[count] = offset == n ? -1 : count + 1;
            }
            symbolCount = count;
        }

        void run(IntArrayList out) {
            if (symbolCount == 0) {
                return;
            }
            for (int i = 1; i < symbolCount; i++) {
                tryAddBigram(i - 1, i);
            }
            while (!queue.isEmpty()) {
                int left = (int) queue.pop();
                int right = next[left];
                int size = queue.payload();
                // Skip pairs one of whose symbols has changed since the pair was queued.
                if (lengths[left] == 0 || right == -1 || lengths[right] == 0 || lengths[left] + lengths[right] != size) {
                    continue;
                }
                lengths[left] += lengths[right];
                lengths[right] = 0;
                next[left] = next[right];
                if (next[right] >= 0) {
                    prev[next[right]] = left;
                }
                tryAddBigram(prev[left], left);
                tryAddBigram(left, next[left]);
            }
            for (int i = 0; i != -1; i = next[i]) {
                emit(i, out);
            }
        }

        private void tryAddBigram(int left, int right) {
            if (left == -1 || right == -1) {
                return;
            }
            int start = starts[left];
            int end = start + lengths[left] + lengths[right];
            int token = index.find(text, start, end);
            if (token < 0) {
                return;
            }
            queue.push(priority(scores[token], left), end - start);
        }

        private void emit(int symbol, IntArrayList out) {
            int start = starts[symbol];
            int end = start + lengths[symbol];
            int token = index.find(text, start, end);
            if (token >= 0) {
                out.add(token);
                return;
            }
            // Every merged symbol is a token, so this is a single character missing from the vocabulary.
            byte[] bytes = text.subSequence(start, end).toString().getBytes(StandardCharsets.UTF_8);
            for (byte b : bytes) {
                int byteToken = byteTokens[b & 0xFF];
                if (byteToken >= 0) {
                    out.add(byteToken);
                }
            }
        }
    }

    /** Higher score first, then leftmost: llama.cpp's {@code llm_bigram_spm::comparator}. */
    private static long priority(float score, int left) {
        int bits = Float.floatToIntBits(score);
        int ordered = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return ((long) ~ordered << 32) | left;
    }
}
