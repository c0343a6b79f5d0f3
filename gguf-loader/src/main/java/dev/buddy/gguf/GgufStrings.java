package dev.buddy.gguf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A GGUF string array held compactly: every element's UTF-8 bytes as the file stores them, back to back in one byte
 * array, with each element's start. Immutable.
 *
 * <p>Why not {@code String[]}: a tokenizer's arrays ({@code tokenizer.ggml.tokens}, {@code tokenizer.ggml.merges}) have
 * 50k-280k entries, and as {@code String} objects each costs a header, a separate byte array and (for GPT-2's byte
 * characters, which are outside Latin-1) two bytes per character: 11.9 MB of heap for the Llama-3.2-1B shape's
 * 128,256 tokens and 50,000 merges, against about 2.4 MB here. {@link #get} decodes an element when asked, exactly as
 * {@code new String(bytes, UTF_8)} would (malformed sequences become U+FFFD).
 */
public final class GgufStrings {
    private final byte[] utf8;
    /** Element i is {@code utf8[starts[i], starts[i + 1])}; {@code size() + 1} entries. */
    private final int[] starts;

    /** Takes both arrays as they are (the parser's own, never shared). */
    GgufStrings(byte[] utf8, int[] starts) {
        this.utf8 = utf8;
        this.starts = starts;
    }

    /** The given strings, encoded as UTF-8 (an unpaired surrogate becomes '?', as {@link String#getBytes} writes). */
    public static GgufStrings of(String... values) {
        byte[][] encoded = new byte[values.length][];
        long total = 0;
        for (int i = 0; i < values.length; i++) {
            encoded[i] = Objects.requireNonNull(values[i], "string array element").getBytes(StandardCharsets.UTF_8);
            total += encoded[i].length;
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("string array holds " + total + " bytes of text, more than 2 GiB");
        }
        byte[] utf8 = new byte[(int) total];
        int[] starts = new int[values.length + 1];
        int at = 0;
        for (int i = 0; i < values.length; i++) {
            starts[i] = at;
            System.arraycopy(encoded[i], 0, utf8, at, encoded[i].length);
            at += encoded[i].length;
        }
        starts[values.length] = at;
        return new GgufStrings(utf8, starts);
    }

    /** Number of elements. */
    public int size() {
        return starts.length - 1;
    }

    /** Element {@code i}, decoded (a new string each call). */
    public String get(int i) {
        Objects.checkIndex(i, size());
        return new String(utf8, starts[i], starts[i + 1] - starts[i], StandardCharsets.UTF_8);
    }

    /** The UTF-8 bytes of all elements together. */
    public int utf8Bytes() {
        return starts[starts.length - 1];
    }

    /** The length of element {@code i} in UTF-8 bytes. */
    public int utf8Length(int i) {
        Objects.checkIndex(i, size());
        return starts[i + 1] - starts[i];
    }

    /** Copies element {@code i}'s UTF-8 bytes to {@code destination} at {@code at}. */
    public void copyUtf8(int i, byte[] destination, int at) {
        Objects.checkIndex(i, size());
        System.arraycopy(utf8, starts[i], destination, at, starts[i + 1] - starts[i]);
    }

    /** Every element, decoded. */
    public String[] toArray() {
        String[] out = new String[size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = get(i);
        }
        return out;
    }

    /** Equal when both hold the same bytes in the same elements. */
    @Override
    public boolean equals(Object o) {
        return o instanceof GgufStrings s && Arrays.equals(starts, s.starts) && Arrays.equals(utf8, s.utf8);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(starts) + Arrays.hashCode(utf8);
    }

    @Override
    public String toString() {
        return "GgufStrings[" + size() + " strings, " + utf8.length + " bytes]";
    }
}
