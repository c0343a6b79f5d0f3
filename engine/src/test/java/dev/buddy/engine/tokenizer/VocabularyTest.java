package dev.buddy.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufStrings;
import dev.buddy.gguf.GgufValueType;
import dev.buddy.gguf.GgufWriter;

/** Reading tokenizer metadata from GGUF, with llama.cpp's defaults for absent keys, and rejecting bad metadata. */
class VocabularyTest {
    @TempDir
    Path dir;

    private static final String[] TOKENS = {"<unk>", "<s>", "</s>", "a", "b", "ab"};

    private Vocabulary write(Consumer<GgufWriter> metadata) throws IOException {
        GgufWriter writer = new GgufWriter().putString("general.architecture", "llama");
        metadata.accept(writer);
        Path file = dir.resolve("vocab-" + System.nanoTime() + ".gguf");
        writer.write(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            return Vocabulary.fromGguf(gguf);
        }
    }

    @Test
    void sentencePieceDefaultsAreLlamaCpps() throws IOException {
        Vocabulary v = write(w -> w.putString(Vocabulary.KEY_MODEL, "llama").putStringArray(Vocabulary.KEY_TOKENS, TOKENS));
        assertEquals("default", v.pre());
        assertEquals(1, v.bosId());
        assertEquals(2, v.eosId());
        assertEquals(0, v.unknownId());
        assertEquals(Vocabulary.NO_TOKEN, v.eotId());
        assertTrue(v.addBos());
        assertFalse(v.addEos());
        assertTrue(v.addSpacePrefix());
        assertEquals(TokenType.NORMAL, v.type(3), "no token_type key: every token is normal");
        assertArrayEquals(new float[TOKENS.length], v.scores());
        assertEquals(Optional.empty(), v.chatTemplate());
    }

    @Test
    void explicitKeysOverrideTheDefaults() throws IOException {
        Vocabulary v = write(w -> w.putString(Vocabulary.KEY_MODEL, "llama")
                .putStringArray(Vocabulary.KEY_TOKENS, TOKENS)
                .putArray(Vocabulary.KEY_SCORES, GgufValueType.INT32, new int[] {0, 0, 0, -3, -2, -1})
                .putUInt32(Vocabulary.KEY_EOS_ID, 5)
                .putUInt32(Vocabulary.KEY_EOT_ID, 4)
                .putBool(Vocabulary.KEY_ADD_BOS, false)
                .putBool(Vocabulary.KEY_ADD_SPACE_PREFIX, false)
                .putString(Vocabulary.KEY_CHAT_TEMPLATE, "{{ x }}"));
        assertEquals(5, v.eosId());
        assertEquals(4, v.eotId());
        assertFalse(v.addBos());
        assertFalse(v.addSpacePrefix());
        assertEquals(-1f, v.scores()[5], "integer scores are accepted, as llama.cpp does");
        assertEquals(Optional.of("{{ x }}"), v.chatTemplate());
    }

    @Test
    void byteLevelDefaultsAddNoBosExceptForLlama3() throws IOException {
        Vocabulary gpt2 = write(w -> w.putString(Vocabulary.KEY_MODEL, "gpt2").putString(Vocabulary.KEY_PRE, "gpt-2")
                .putStringArray(Vocabulary.KEY_TOKENS, TOKENS).putStringArray(Vocabulary.KEY_MERGES, new String[] {"a b"}));
        assertFalse(gpt2.addBos());
        assertFalse(gpt2.addSpacePrefix());
        assertEquals(Vocabulary.NO_TOKEN, gpt2.bosId());

        Vocabulary llama3 = write(w -> w.putString(Vocabulary.KEY_MODEL, "gpt2").putString(Vocabulary.KEY_PRE, "llama-bpe")
                .putStringArray(Vocabulary.KEY_TOKENS, TOKENS).putStringArray(Vocabulary.KEY_MERGES, new String[] {"a b"})
                .putUInt32(Vocabulary.KEY_BOS_ID, 1));
        assertTrue(llama3.addBos(), "llama.cpp turns add_bos on for Llama 3 pre-tokenizers");
    }

    @Test
    void specialIdsOutsideTheVocabularyFallBackToTheDefault() throws IOException {
        Vocabulary v = write(w -> w.putString(Vocabulary.KEY_MODEL, "llama").putStringArray(Vocabulary.KEY_TOKENS, TOKENS)
                .putUInt32(Vocabulary.KEY_BOS_ID, 999));
        assertEquals(1, v.bosId());
    }

    @Test
    void rejectsFilesWithoutATokenizerOrWithBrokenArrays() {
        VocabularyException noModel = assertThrows(VocabularyException.class, () -> write(w -> { }));
        assertTrue(noModel.getMessage().contains(Vocabulary.KEY_MODEL), noModel.getMessage());

        VocabularyException unsupported = assertThrows(VocabularyException.class,
                () -> write(w -> w.putString(Vocabulary.KEY_MODEL, "bert").putStringArray(Vocabulary.KEY_TOKENS, TOKENS)));
        assertTrue(unsupported.getMessage().contains("bert"), unsupported.getMessage());

        VocabularyException shortTypes = assertThrows(VocabularyException.class,
                () -> write(w -> w.putString(Vocabulary.KEY_MODEL, "llama").putStringArray(Vocabulary.KEY_TOKENS, TOKENS)
                        .putArray(Vocabulary.KEY_TOKEN_TYPE, GgufValueType.INT32, new int[] {1, 1})));
        assertTrue(shortTypes.getMessage().contains(Vocabulary.KEY_TOKEN_TYPE), shortTypes.getMessage());

        VocabularyException noMerges = assertThrows(VocabularyException.class,
                () -> write(w -> w.putString(Vocabulary.KEY_MODEL, "gpt2").putStringArray(Vocabulary.KEY_TOKENS, TOKENS)));
        assertTrue(noMerges.getMessage().contains(Vocabulary.KEY_MERGES), noMerges.getMessage());
    }

    @Test
    void duplicateTokenTextsAreRejectedWhenBuildingATokenizer() {
        Vocabulary duplicate = new Vocabulary("llama", "default", GgufStrings.of("<unk>", "a", "a"), new float[3],
                new int[] {2, 1, 1}, GgufStrings.of(), Vocabulary.NO_TOKEN, Vocabulary.NO_TOKEN, 0, Vocabulary.NO_TOKEN,
                Vocabulary.NO_TOKEN, false, false, true, Optional.empty());
        VocabularyException e = assertThrows(VocabularyException.class, () -> Tokenizer.of(duplicate));
        assertTrue(e.getMessage().contains("duplicate"), e.getMessage());
    }
}
