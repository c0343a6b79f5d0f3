package dev.buddy.engine.tokenizer;

/**
 * Text-to-id lookup over a vocabulary, answering for a region of a string or char array without building a substring.
 *
 * <p>Open addressing with linear probing over a power-of-two table. Hashes are {@link String#hashCode()} values, so
 * a key's cached hash is reused and a region hashes the same as the equal string.
 */
final class TokenIndex {
    private static final int EMPTY = -1;

    private final TokenTexts texts;
    private final int[] slots;
    private final int mask;

    /**
     * Indexes {@code texts[id] -> id}. A text that appears twice is an error, as in llama.cpp's loader.
     */
    TokenIndex(TokenTexts texts) {
        this.texts = texts;
        int size = texts.size();
        int capacity = Integer.highestOneBit(Math.max(4, size) * 2) << 1;
        this.slots = new int[capacity];
        this.mask = capacity - 1;
        java.util.Arrays.fill(slots, EMPTY);
        for (int id = 0; id < size; id++) {
            int slot = spread(texts.hash(id)) & mask;
            while (slots[slot] != EMPTY) {
                int other = slots[slot];
                if (texts.sameText(other, id)) {
                    throw new VocabularyException("duplicate token in vocabulary: '" + texts.text(id) + "' has ids "
                            + other + " and " + id);
                }
                slot = (slot + 1) & mask;
            }
            slots[slot] = id;
        }
    }

    /** The id of a whole string, or -1. */
    int find(String text) {
        return find(text, 0, text.length());
    }

    /** The id of {@code text[start, end)}, or -1. */
    int find(CharSequence text, int start, int end) {
        int hash = 0;
        for (int i = start; i < end; i++) {
            hash = 31 * hash + text.charAt(i);
        }
        int length = end - start;
        for (int slot = spread(hash) & mask; ; slot = (slot + 1) & mask) {
            int id = slots[slot];
            if (id == EMPTY) {
                return -1;
            }
            if (texts.length(id) == length && texts.regionEquals(id, text, start)) {
                return id;
            }
        }
    }

    /**
     * The id of {@code text} with the character at {@code gap} left out, or -1: looks up the result of a merge line
     * {@code "left right"} without building {@code "leftright"}.
     */
    int findWithout(String text, int gap) {
        int hash = 0;
        for (int i = 0; i < text.length(); i++) {
            if (i != gap) {
                hash = 31 * hash + text.charAt(i);
            }
        }
        int length = text.length() - 1;
        for (int slot = spread(hash) & mask; ; slot = (slot + 1) & mask) {
            int id = slots[slot];
            if (id == EMPTY) {
                return -1;
            }
            if (texts.length(id) == length && texts.equalsWithout(id, text, gap)) {
                return id;
            }
        }
    }

    /** The id of {@code chars[start, end)}, or -1. */
    int find(char[] chars, int start, int end) {
        int hash = 0;
        for (int i = start; i < end; i++) {
            hash = 31 * hash + chars[i];
        }
        int length = end - start;
        for (int slot = spread(hash) & mask; ; slot = (slot + 1) & mask) {
            int id = slots[slot];
            if (id == EMPTY) {
                return -1;
            }
            if (texts.length(id) == length && texts.regionEquals(id, chars, start)) {
                return id;
            }
        }
    }

    private static int spread(int hash) {
        // String hashes of short tokens cluster in the low bits; mix before masking.
        int h = hash * 0x9E3779B9;
        return h ^ (h >>> 15);
    }
}
