package dev.buddy.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** Incremental decoding across token boundaries that split UTF-8 characters. */
class StreamingDecoderTest {
    private static final String FOX = "\uD83E\uDD8A"; // U+1F98A, four UTF-8 bytes, byte-fallback tokens in Llama 2

    @Test
    void holdsBackACharacterUntilItsLastByteToken() {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        int[] ids = tokenizer.encode("a" + FOX + "b", false, false);
        StreamingDecoder decoder = tokenizer.streamingDecoder(true);
        StringBuilder emitted = new StringBuilder();
        int emptyEmissions = 0;
        for (int id : ids) {
            String piece = decoder.accept(id);
            if (piece.isEmpty()) {
                emptyEmissions++;
            }
            emitted.append(piece);
        }
        assertEquals("a" + FOX + "b", emitted.toString());
        assertEquals(3, emptyEmissions, "the fox's first three byte tokens complete nothing");
        assertEquals("", decoder.finish());
    }

    @Test
    void splitsOfAByteLevelEmojiAreHeldBack() {
        Tokenizer tokenizer = VocabularyFiles.gpt2();
        int[] ids = tokenizer.encode(FOX, false, false);
        assertTrue(ids.length > 1, "GPT-2 has no single token for this emoji");
        StreamingDecoder decoder = tokenizer.streamingDecoder(false);
        for (int i = 0; i < ids.length - 1; i++) {
            assertEquals("", decoder.accept(ids[i]));
            assertTrue(decoder.hasPendingBytes());
        }
        assertEquals(FOX, decoder.accept(ids[ids.length - 1]));
        assertFalse(decoder.hasPendingBytes());
    }

    @Test
    void anUnfinishedCharacterBecomesOneReplacementAtTheEnd() {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        int[] ids = tokenizer.encode(FOX, false, false);
        StreamingDecoder decoder = tokenizer.streamingDecoder(false);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < ids.length - 1; i++) {
            decoder.accept(ids[i], out);
        }
        decoder.finish(out);
        byte[] truncated = java.util.Arrays.copyOf(FOX.getBytes(StandardCharsets.UTF_8), 3);
        assertEquals(" " + new String(truncated, StandardCharsets.UTF_8), out.toString());
    }

    @Test
    void controlTokensAreSilentUnlessRendered() {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        int eos = tokenizer.vocabulary().eosId();
        assertEquals("", tokenizer.streamingDecoder(false).accept(eos));
        assertEquals("</s>", tokenizer.streamingDecoder(false).renderingSpecialTokens().accept(eos));
    }

    @Test
    void onlyTheFirstTokenLosesItsPrefixSpace() {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        int[] ids = tokenizer.encode("Hello world", false, false);
        StreamingDecoder decoder = tokenizer.streamingDecoder(true);
        assertEquals("Hello", decoder.accept(ids[0]));
        assertEquals(" world", decoder.accept(ids[1]));
        decoder.finish();
        assertEquals("Hello", decoder.accept(ids[0]), "finish starts a new text");
    }

    @Test
    void rejectsTokenIdsOutsideTheVocabulary() {
        Tokenizer tokenizer = VocabularyFiles.gpt2();
        StreamingDecoder decoder = tokenizer.streamingDecoder(false);
        int size = tokenizer.vocabulary().size();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> decoder.accept(size));
        assertTrue(e.getMessage().contains(String.valueOf(size)), e.getMessage());
    }
}
