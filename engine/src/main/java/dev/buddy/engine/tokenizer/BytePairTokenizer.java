package dev.buddy.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import dev.buddy.gguf.GgufStrings;

/**
 * Byte-level BPE as llama.cpp runs it for {@code tokenizer.ggml.model = "gpt2"} vocabularies (GPT-2, Llama 3, Qwen,
 * SmolLM).
 *
 * <p>Text is split into words by the {@link PreTokenizer} that {@code tokenizer.ggml.pre} names. Each word's UTF-8 bytes
 * start as one symbol per byte (spelled with GPT-2's byte characters, see {@link ByteLevel}); adjacent symbols are
 * merged by {@code tokenizer.ggml.merges} rank, lowest rank first and leftmost on ties, through a priority queue over a
 * linked symbol list.
 */
public final class BytePairTokenizer extends BaseTokenizer {
    private final PreTokenizer preTokenizer;
    private final MergeRanks ranks;
    /** Symbol id of each byte's character: its token id, or an id above the vocabulary when only merges name it. */
    private final int[] byteSymbols = new int[256];
    /** Token id of each byte's character, -1 when the vocabulary lacks it. */
    private final int[] byteTokens = new int[256];

    public BytePairTokenizer(Vocabulary vocabulary) {
        super(vocabulary, BytePairTokenizer::spell);
        if (!vocabulary.isBytePair()) {
            throw new VocabularyException("byte-level BPE tokenizer needs tokenizer.ggml.model = 'gpt2', not '"
                    + vocabulary.model() + "'");
        }
        this.preTokenizer = PreTokenizer.forName(vocabulary.pre());

        // Strings that merges mention but the vocabulary lacks get ids past its end, so every symbol has an id and a
        // malformed merge list still merges exactly as llama.cpp's string-keyed table would.
        Map<String, Integer> extraSymbols = new HashMap<>();
        GgufStrings merges = vocabulary.merges();
        ranks = new MergeRanks(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String merge = merges.get(rank);
            // llama.cpp splits at the first space after the first character.
            int space = merge.indexOf(' ', 1);
            if (space < 0) {
                continue;
            }
            int left = index.find(merge, 0, space);
            int right = index.find(merge, space + 1, merge.length());
            int result = index.findWithout(merge, space);
            if (left < 0 || right < 0 || result < 0) {
                // Only malformed vocabularies get here; build the strings for the rare misses.
                String leftText = merge.substring(0, space);
                String rightText = merge.substring(space + 1);
                left = left >= 0 ? left : extraSymbol(leftText, extraSymbols);
                right = right >= 0 ? right : extraSymbol(rightText, extraSymbols);
                result = result >= 0 ? result : extraSymbol(leftText + rightText, extraSymbols);
            }
            ranks.put(rank, left, right, result);
        }
        for (int b = 0; b < 256; b++) {
            String spelled = String.valueOf(ByteLevel.charOf(b));
            byteTokens[b] = index.find(spelled);
            Integer extra = extraSymbols.get(spelled);
            byteSymbols[b] = byteTokens[b] >= 0 ? byteTokens[b] : extra != null ? extra : -1;
        }
    }

    private int extraSymbol(String text, Map<String, Integer> extraSymbols) {
        Integer id = extraSymbols.get(text);
        if (id == null) {
            id = vocabulary.size() + extraSymbols.size();
            extraSymbols.put(text, id);
        }
        return id;
    }

    /** An ordinary piece's bytes: each character spells one byte (see {@link ByteLevel}). */
    private static byte[] spell(String text) {
        byte[] bytes = new byte[text.length()];
        int n = 0;
        for (int i = 0; i < text.length(); i++) {
            int b = ByteLevel.byteOf(text.charAt(i));
            if (b < 0) {
                // Not a byte-level character: keep the character itself rather than dropping it.
                return text.getBytes(StandardCharsets.UTF_8);
            }
            bytes[n++] = (byte) b;
        }
        return bytes;
    }

    @Override
    protected void encodeText(String text, int start, int end, boolean afterSpecial, IntArrayList out) {
        IntArrayList words = new IntArrayList(16);
        preTokenizer.split(text, start, end, words);
        Session session = new Session();
        for (int i = 0; i < words.size(); i += 2) {
            byte[] word = text.substring(words.get(i), words.get(i + 1)).getBytes(StandardCharsets.UTF_8);
            session.encodeWord(word, out);
        }
    }

    /** Merge state for one call, reused across its words. */
    private final class Session {
        private int[] ids = new int[64];
        private int[] starts = new int[64];
        private int[] lengths = new int[64];
        private int[] prev = new int[64];
        private int[] next = new int[64];
        private final MergeQueue queue = new MergeQueue();

        void encodeWord(byte[] word, IntArrayList out) {
            int n = word.length;
            if (preTokenizer.ignoreMerges()) {
                // Llama 3: a word that is a token as a whole is taken whole, even where merges would not build it.
                char[] spelled = new char[n];
                for (int i = 0; i < n; i++) {
                    spelled[i] = ByteLevel.charOf(word[i] & 0xFF);
                }
                int whole = index.find(spelled, 0, n);
                if (whole >= 0) {
                    out.add(whole);
                    return;
                }
            }
            ensureCapacity(n);
            for (int i = 0; i < n; i++) {
                ids[i] = byteSymbols[word[i] & 0xFF];
                starts[i] = i;
                lengths[i] = 1;
                prev[i] = i - 1;
                next[i] = i + 1 == n ? -1 : i + 1;
            }
            for (int i = 1; i < n; i++) {
                tryAddPair(i - 1, i);
            }
            while (!queue.isEmpty()) {
                long priority = queue.pop();
                int rank = (int) (priority >>> 32);
                int left = (int) priority;
                int right = next[left];
                // Skip pairs one of whose symbols has changed since the pair was queued (llama.cpp compares texts;
                // ids name texts one to one).
                if (lengths[left] == 0 || right == -1
                        || ids[left] != ranks.left(rank) || ids[right] != ranks.right(rank)) {
                    continue;
                }
                ids[left] = ranks.result(rank);
                lengths[left] += lengths[right];
                lengths[right] = 0;
                next[left] = next[right];
                if (next[right] >= 0) {
                    prev[next[right]] = left;
                }
                tryAddPair(prev[left], left);
                tryAddPair(left, next[left]);
            }
            int vocabularySize = vocabulary.size();
            for (int i = 0; i != -1 && n > 0; i = next[i]) {
                int id = ids[i];
                if (id >= 0 && id < vocabularySize) {
                    out.add(id);
                    continue;
                }
                // A symbol that is no token: emit its bytes' tokens, skipping bytes the vocabulary cannot spell.
                for (int j = starts[i], end = starts[i] + lengths[i]; j < end; j++) {
                    int byteToken = byteTokens[word[j] & 0xFF];
                    if (byteToken >= 0) {
                        out.add(byteToken);
                    }
                }
            }
        }

        private void tryAddPair(int left, int right) {
            if (left == -1 || right == -1 || ids[left] < 0 || ids[right] < 0) {
                return;
            }
            int rank = ranks.rank(ids[left], ids[right]);
            if (rank >= 0) {
                // Lowest rank first, then leftmost: llama.cpp's llm_bigram_bpe::comparator.
                queue.push(((long) rank << 32) | left, 0);
            }
        }

        private void ensureCapacity(int n) {
            if (ids.length < n) {
                int capacity = Math.max(n, ids.length * 2);
                ids = new int[capacity];
                starts = new int[capacity];
                lengths = new int[capacity];
                prev = new int[capacity];
                next = new int[capacity];
            }
        }
    }
}
