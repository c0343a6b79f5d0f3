package dev.buddy.engine.tokenizer;

import dev.buddy.gguf.GgufStrings;

/**
 * Every token's text as UTF-16 characters, back to back in one array: what {@link TokenIndex} compares a region of
 * the input with. One {@code String} per token would cost a header and a byte array each (about 9 MB for a
 * 128k-token vocabulary, whose GPT-2 byte characters are outside Latin-1); this costs two bytes per character and four
 * per token.
 */
final class TokenTexts {
    private final char[] chars;
    /** Token i is {@code chars[starts[i], starts[i + 1])}. */
    private final int[] starts;

    /** Decodes each token's UTF-8 as {@code new String(bytes, UTF_8)} would (malformed sequences become U+FFFD). */
    TokenTexts(GgufStrings tokens) {
        int size = tokens.size();
        starts = new int[size + 1];
        // UTF-8 never decodes to more UTF-16 characters than it has bytes, so the byte count bounds the array.
        char[] decoded = new char[tokens.utf8Bytes()];
        int at = 0;
        for (int id = 0; id < size; id++) {
            String text = tokens.get(id);
            starts[id] = at;
            text.getChars(0, text.length(), decoded, at);
            at += text.length();
        }
        starts[size] = at;
        chars = at == decoded.length ? decoded : java.util.Arrays.copyOf(decoded, at);
    }

    int size() {
        return starts.length - 1;
    }

    /** Length of token {@code id} in UTF-16 characters. */
    int length(int id) {
        return starts[id + 1] - starts[id];
    }

    /** Character {@code i} of token {@code id}. */
    char charAt(int id, int i) {
        return chars[starts[id] + i];
    }

    /** Token {@code id}'s text (a new string). */
    String text(int id) {
        return new String(chars, starts[id], length(id));
    }

    /** {@link String#hashCode()} of token {@code id}'s text. */
    int hash(int id) {
        int hash = 0;
        for (int i = starts[id], end = starts[id + 1]; i < end; i++) {
            hash = 31 * hash + chars[i];
        }
        return hash;
    }

    /** Whether token {@code id} spells {@code text[start, start + length(id))}. */
    boolean regionEquals(int id, CharSequence text, int start) {
        for (int i = starts[id], end = starts[id + 1], j = start; i < end; i++, j++) {
            if (chars[i] != text.charAt(j)) {
                return false;
            }
        }
        return true;
    }

    /** Whether tokens {@code a} and {@code b} have the same text. */
    boolean sameText(int a, int b) {
        return java.util.Arrays.equals(chars, starts[a], starts[a + 1], chars, starts[b], starts[b + 1]);
    }

    /** Whether token {@code id} spells {@code other[start, start + length(id))}. */
    boolean regionEquals(int id, char[] other, int start) {
        return java.util.Arrays.equals(chars, starts[id], starts[id + 1], other, start, start + length(id));
    }

    /** Whether token {@code id} spells {@code text} with the character at {@code gap} left out. */
    boolean equalsWithout(int id, String text, int gap) {
        int base = starts[id];
        for (int i = 0; i < gap; i++) {
            if (chars[base + i] != text.charAt(i)) {
                return false;
            }
        }
        for (int i = gap + 1; i < text.length(); i++) {
            if (chars[base + i - 1] != text.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
