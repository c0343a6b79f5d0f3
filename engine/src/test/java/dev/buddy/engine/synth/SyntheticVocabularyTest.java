package dev.buddy.engine.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TestData;

/** Fitting GPT-2's vocabulary to a shape's size: padding, cutting, and refusing what cannot work. */
class SyntheticVocabularyTest {
    private static Path gpt2() {
        return TestData.require("models/tokenizer-tests/ggml-vocab-gpt-2.gguf");
    }

    @Test
    void paddingKeepsGpt2IdsAndAppendsReservedControlTokens() throws Exception {
        SyntheticVocabulary v = SyntheticVocabulary.fromGpt2Gguf(gpt2(), 128256);
        try (GgufFile source = GgufFile.open(gpt2())) {
            String[] original = source.getStringArray("tokenizer.ggml.tokens");
            assertEquals(Arrays.asList(original), Arrays.asList(v.tokens()).subList(0, original.length));
            assertEquals(source.getStringArray("tokenizer.ggml.merges").length, v.merges().length);
            assertEquals(source.getInt("tokenizer.ggml.eos_token_id"), v.endOfTextId());
        }
        assertEquals(128256, v.size());
        assertEquals("<|reserved_0|>", v.tokens()[50257]);
        assertEquals("<|reserved_77998|>", v.tokens()[128255]);
        assertEquals(SyntheticVocabulary.TOKEN_TYPE_CONTROL, v.tokenTypes()[50256]);
        assertEquals(SyntheticVocabulary.TOKEN_TYPE_CONTROL, v.tokenTypes()[128255]);
        assertEquals(SyntheticVocabulary.TOKEN_TYPE_NORMAL, v.tokenTypes()[50255]);
    }

    @Test
    void cuttingToSmolLm2SizeKeepsOnlyMergesWhosePartsAndResultRemain() {
        SyntheticVocabulary v = SyntheticVocabulary.fromGpt2Gguf(gpt2(), 49152);
        assertEquals(49152, v.size());
        assertEquals(49151, v.endOfTextId());
        assertEquals("<|endoftext|>", v.tokens()[49151]);
        Set<String> tokens = new HashSet<>(Arrays.asList(v.tokens()));
        assertTrue(v.merges().length > 40000, v.merges().length + " merges kept");
        for (String merge : v.merges()) {
            String[] parts = merge.split(" ", 2);
            assertTrue(tokens.contains(parts[0]) && tokens.contains(parts[1]) && tokens.contains(parts[0] + parts[1]),
                    merge);
        }
    }

    @Test
    void refusesVocabulariesThatCannotWork() {
        assertThrows(SyntheticModelException.class, () -> SyntheticVocabulary.fromGpt2Gguf(gpt2(), 200));
        Path spm = TestData.require("models/tokenizer-tests/ggml-vocab-llama-spm.gguf");
        SyntheticModelException e = assertThrows(SyntheticModelException.class,
                () -> SyntheticVocabulary.fromGpt2Gguf(spm, 50000));
        assertTrue(e.getMessage().contains("'llama' tokenizer"), e.getMessage());
        assertThrows(SyntheticModelException.class,
                () -> SyntheticVocabulary.fromGpt2Gguf(gpt2().resolveSibling("missing.gguf"), 50000));
    }
}
