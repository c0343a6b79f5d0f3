package dev.buddy.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Round trips on the real Llama 2 (SentencePiece with byte fallback) and GPT-2 (byte-level BPE) vocabularies, and
 * streaming decoding against whole-sequence decoding for arbitrary cuts of the token stream.
 */
class TokenizerRoundTripProperties {

    @Property(tries = 300)
    void sentencePieceRoundTripsAnyText(@ForAll("unicodeText") String text) {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        assertEquals(text, tokenizer.decode(tokenizer.encode(text, false, false)));
    }

    @Property(tries = 300)
    void bytePairRoundTripsAnyText(@ForAll("unicodeText") String text) {
        Tokenizer tokenizer = VocabularyFiles.gpt2();
        assertEquals(text, tokenizer.decode(tokenizer.encode(text, false, false)));
    }

    @Property(tries = 200)
    void streamingEqualsWholeDecodeForAnyCutOfAnEncodedText(
            @ForAll("unicodeText") String text, @ForAll("cutSeeds") List<Integer> cuts, @ForAll boolean sentencePiece) {
        Tokenizer tokenizer = sentencePiece ? VocabularyFiles.llamaSpm() : VocabularyFiles.gpt2();
        int[] tokens = tokenizer.encode(text, false, false);
        assertEquals(tokenizer.decode(tokens), streamInChunks(tokenizer, tokens, cuts, true));
    }

    /**
     * Byte tokens {@code <0xNN>} give arbitrary byte streams, valid UTF-8 or not: streaming must match Java's
     * whole-array decoding, replacement characters included, wherever the stream is cut.
     */
    @Property(tries = 300)
    void streamingMatchesJavaUtf8DecodingOfArbitraryBytes(
            @ForAll("utf8ishBytes") byte[] bytes, @ForAll("cutSeeds") List<Integer> cuts) {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        int[] tokens = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            tokens[i] = byteToken(tokenizer, bytes[i] & 0xFF);
        }
        String expected = new String(bytes, StandardCharsets.UTF_8);
        assertEquals(expected, streamInChunks(tokenizer, tokens, cuts, false));
        // At the start of a text SentencePiece drops the first piece's leading space, even a <0x20> byte token.
        String atTextStart = expected.startsWith(" ") ? expected.substring(1) : expected;
        assertEquals(atTextStart, tokenizer.decode(tokens));
        assertEquals(atTextStart, streamInChunks(tokenizer, tokens, cuts, true));
    }

    @Property(tries = 100)
    void streamingWithoutTextStartEmitsExactlyTheTokenBytes(
            @ForAll("unicodeText") String text, @ForAll("cutSeeds") List<Integer> cuts) {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        int[] tokens = tokenizer.encode(text, false, false);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int token : tokens) {
            bytes.writeBytes(tokenizer.tokenBytes(token, false));
        }
        StreamingDecoder decoder = tokenizer.streamingDecoder(false);
        StringBuilder out = new StringBuilder();
        int position = 0;
        for (int cut : chunkEnds(tokens.length, cuts)) {
            for (; position < cut; position++) {
                decoder.accept(tokens[position], out);
            }
        }
        decoder.finish(out);
        // The prefix "▁" that encoding added stays: the stream continues a prompt.
        assertEquals(bytes.toString(StandardCharsets.UTF_8), out.toString());
    }

    private static int byteToken(Tokenizer tokenizer, int b) {
        return ByteTokens.OF_LLAMA_SPM[b];
    }

    /** The {@code <0xNN>} token of each byte in the Llama 2 vocabulary, looked up by text once. */
    private static final class ByteTokens {
        static final int[] OF_LLAMA_SPM = new int[256];

        static {
            List<String> tokens = java.util.Arrays.asList(VocabularyFiles.llamaSpm().vocabulary().tokens().toArray());
            for (int b = 0; b < 256; b++) {
                OF_LLAMA_SPM[b] = tokens.indexOf(String.format("<0x%02X>", b));
                if (OF_LLAMA_SPM[b] < 0) {
                    throw new AssertionError("no byte token for " + b);
                }
            }
        }
    }

    /** Feeds the tokens chunk by chunk, collecting what the decoder emits after each chunk. */
    private static String streamInChunks(Tokenizer tokenizer, int[] tokens, List<Integer> cuts, boolean atTextStart) {
        StreamingDecoder decoder = tokenizer.streamingDecoder(atTextStart);
        StringBuilder out = new StringBuilder();
        int position = 0;
        for (int cut : chunkEnds(tokens.length, cuts)) {
            StringBuilder chunk = new StringBuilder();
            for (; position < cut; position++) {
                chunk.append(decoder.accept(tokens[position]));
            }
            // Whatever a chunk emits is complete text: never half of a surrogate pair.
            if (chunk.length() > 0 && Character.isHighSurrogate(chunk.charAt(chunk.length() - 1))) {
                throw new AssertionError("emitted half a character: " + chunk);
            }
            out.append(chunk);
        }
        out.append(decoder.finish());
        return out.toString();
    }

    private static List<Integer> chunkEnds(int length, List<Integer> seeds) {
        List<Integer> ends = new ArrayList<>();
        for (int seed : seeds) {
            if (length > 0) {
                ends.add(Math.floorMod(seed, length + 1));
            }
        }
        ends.add(length);
        ends.sort(null);
        return ends;
    }

    @Provide
    Arbitrary<List<Integer>> cutSeeds() {
        return Arbitraries.integers().between(0, 1_000).list().ofMaxSize(8);
    }

    /** Code points from ASCII (spaces, digits, punctuation), Latin, CJK, emoji and the whole range, no surrogates. */
    @Provide
    Arbitrary<String> unicodeText() {
        Arbitrary<Integer> codePoint = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(0x20, 0x7E)),
                net.jqwik.api.Tuple.of(2, Arbitraries.of(0x09, 0x0A, 0x0D, 0x20, 0x20, 0xA0, 0x3000)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0xA0, 0x24F)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0x4E00, 0x4FFF)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0x1F300, 0x1F6FF)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0, 0x10FFFF)
                        .filter(cp -> cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE)));
        return codePoint.list().ofMaxSize(40).map(cps -> {
            StringBuilder s = new StringBuilder();
            cps.forEach(s::appendCodePoint);
            return s.toString();
        });
    }

    /** Mostly well-formed UTF-8 with truncations, stray continuation bytes, overlongs and surrogate encodings. */
    @Provide
    Arbitrary<byte[]> utf8ishBytes() {
        Arbitrary<byte[]> character = Arbitraries.integers().between(0, 0x10FFFF)
                .filter(cp -> cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE)
                .map(cp -> new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> truncated = Combinators.combine(character, Arbitraries.integers().between(0, 3))
                .as((b, n) -> java.util.Arrays.copyOf(b, Math.min(b.length, n)));
        Arbitrary<byte[]> raw = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(4);
        Arbitrary<byte[]> tricky = Arbitraries.of(
                new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new byte[] {(byte) 0xC0, (byte) 0xAF},
                new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80},
                new byte[] {(byte) 0xF0, (byte) 0x9F}, new byte[] {(byte) 0x80}, new byte[] {(byte) 0xFF});
        return Arbitraries.oneOf(character, truncated, raw, tricky).list().ofMaxSize(12).map(parts -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            parts.forEach(out::writeBytes);
            return out.toByteArray();
        });
    }
}
