package dev.buddy.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** Llama 2's SentencePiece vocabulary against llama.cpp's test vectors and its encoding rules. */
class SentencePieceTokenizerTest {
    private static final String VOCAB = "ggml-vocab-llama-spm.gguf";

    @Test
    void matchesLlamaCppVectorsExactly() throws Exception {
        TokenizerVectors vectors = VocabularyFiles.vectors(VOCAB);
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        assertInstanceOf(SentencePieceTokenizer.class, tokenizer);
        assertFalse(vectors.inputs().isEmpty());
        List<String> mismatches = vectors.mismatches(tokenizer);
        assertEquals(List.of(), mismatches, mismatches.size() + " of " + vectors.inputs().size() + " cases differ");
    }

    @Test
    void readsTheSpecialIdsAndFlagsFromTheFile() {
        Vocabulary vocabulary = VocabularyFiles.llamaSpm().vocabulary();
        assertEquals("llama", vocabulary.model());
        assertEquals("<s>", vocabulary.token(vocabulary.bosId()));
        assertEquals("</s>", vocabulary.token(vocabulary.eosId()));
        assertEquals("<unk>", vocabulary.token(vocabulary.unknownId()));
        assertTrue(vocabulary.addBos());
        assertFalse(vocabulary.addEos());
        assertTrue(vocabulary.addSpacePrefix(), "llama.cpp's default for SentencePiece");
    }

    @Test
    void addsBosWhenTheTextStartsASequence() {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        int[] plain = tokenizer.encode("Hello world", false, false);
        int[] withBos = tokenizer.encode("Hello world", true, false);
        assertEquals(tokenizer.vocabulary().bosId(), withBos[0]);
        assertArrayEquals(plain, java.util.Arrays.copyOfRange(withBos, 1, withBos.length));
        assertArrayEquals(new int[] {tokenizer.vocabulary().bosId()}, tokenizer.encode("", true, false),
                "an empty prompt is just BOS, as in SentencePiece");
    }

    @Test
    void spellsSpacesAsLowerOneEighthBlockWithAPrefix() {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        int[] ids = tokenizer.encode("Hello world", false, false);
        assertEquals("▁Hello", tokenizer.vocabulary().token(ids[0]));
        assertEquals("▁world", tokenizer.vocabulary().token(ids[1]));
        assertEquals("Hello world", tokenizer.decode(ids), "decoding drops the prefix space encoding added");
    }

    @Test
    void controlTokensInTextAreSingleTokensOnlyWhenParsingSpecial() {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        int bos = tokenizer.vocabulary().bosId();
        int eos = tokenizer.vocabulary().eosId();
        int[] parsed = tokenizer.encode("<s>Hi</s>", false, true);
        // After a special token SentencePiece again prefixes "▁", so "Hi" encodes as at the start of a text.
        int[] hi = tokenizer.encode("Hi", false, false);
        int[] expected = IntStream.concat(IntStream.concat(IntStream.of(bos), IntStream.of(hi)), IntStream.of(eos))
                .toArray();
        assertArrayEquals(expected, parsed);

        int[] literal = tokenizer.encode("<s>Hi</s>", false, false);
        assertTrue(IntStream.of(literal).noneMatch(id -> id == bos || id == eos), "literal text stays text");
        assertEquals("<s>Hi</s>", tokenizer.decode(literal));
    }

    @Test
    void fallsBackToByteTokensForCharactersOutsideTheVocabulary() {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        String rare = "\uD83E\uDD8A"; // U+1F98A, not a Llama 2 piece
        int[] ids = tokenizer.encode(rare, false, false);
        byte[] utf8 = rare.getBytes(StandardCharsets.UTF_8);
        assertEquals(1 + utf8.length, ids.length, "the prefix ▁ and then one token per byte");
        for (int i = 0; i < utf8.length; i++) {
            assertEquals(TokenType.BYTE, tokenizer.tokenType(ids[1 + i]));
            assertEquals(String.format("<0x%02X>", utf8[i] & 0xFF), tokenizer.vocabulary().token(ids[1 + i]));
        }
        assertEquals(rare, tokenizer.decode(ids));
    }

    @Test
    void controlTokensDecodeToNothingUnlessRendered() {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        int eos = tokenizer.vocabulary().eosId();
        assertEquals("", tokenizer.decode(eos));
        assertArrayEquals("</s>".getBytes(StandardCharsets.UTF_8), tokenizer.tokenBytes(eos, true));
        assertEquals("", tokenizer.decode(tokenizer.vocabulary().unknownId()));
    }

    @Test
    void stopsOnEos() {
        Tokenizer tokenizer = VocabularyFiles.llamaSpm();
        assertTrue(tokenizer.isStopToken(tokenizer.vocabulary().eosId()));
        assertFalse(tokenizer.isStopToken(tokenizer.vocabulary().bosId()));
        assertNotEquals(0, tokenizer.stopTokens().length);
    }
}
