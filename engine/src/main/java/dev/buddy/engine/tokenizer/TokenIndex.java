package dev.buddy.engine.tokenizer;

/**
 * Text-to-id lookup over a vocabulary, answering for a region of a string or char array without building a substring.
 *
 * <p>Open addressing with linear probing over a power-of-two table. Hashes are {@link String#hashCode()} values, so
 * a key's cached hash is reused and a region hashes the same as the equal string.
 */
final class TokenIndex {
    private static final int EMPTY = -1;

    private final String[] texts;
    private final int[] slots;
    private final int mask;

    /**
     * Indexes {@code texts[id] -> id}. A text that appears twice is an error, as in llama.cpp's loader.
     */
    TokenIndex(String[] texts) {
        this.texts = texts;
        int capacity = Integer.highestOneBit(Math.max(4, texts.length) * 2) << 1;
        this.slots = new int[capacity];
        this.mask = capacity - 1;
        java.util.Arrays.fill(slots, EMPTY);
        for (int id = 0; id < texts.length; id++) {
            String text = texts[id];
            int slot = spread(text.hashCode()) & mask;
            while (slots[slot] != EMPTY) {
                if (texts[slots[slot]].equals(text)) {
                    throw new VocabularyException("duplicate token in vocabulary: '" + text + "' has ids "
                            + slots[slot] + " and " + id);
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
            String candidate = texts[id];
            if (candidate.length() == length && regionEquals(candidate, text, start)) {
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
            String candidate = texts[id];
            if (candidate.length() == length && candidate.regionMatches(0, text, 0, gap)
                    && candidate.regionMatches(gap, text, gap + 1, length - gap)) {
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
            String candidate = texts[id];
            if (candidate.length() == length && regionEquals(candidate, chars, start)) {
                return id;
            }
        }
    }

    private static boolean regionEquals(String candidate, CharSequence text, int start) {
        for (int i = 0, n = candidate.length(); i < n; i++) {
            if (candidate.charAt(i) != text.charAt(start + i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean regionEquals(String candidate, char[] chars, int start) {
        for (int i = 0, n = candidate.length(); i < n; i++) {
            if (candidate.charAt(i) != chars[start + i]) {
                return false;
            }
        }
        return true;
    }

    private static int spread(int hash) {
        // String hashes of short tokens cluster in the low bits; mix before masking.
        int h = hash * 0x9E3779B9;
        return h ^ (h >>> 15);
    }
}
