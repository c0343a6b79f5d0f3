package dev.buddy.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import dev.buddy.gguf.GgufStrings;

/** GPT-2's byte-level BPE vocabulary against llama.cpp's test vectors and its encoding rules. */
class BytePairTokenizerTest {
    private static final String VOCAB = "ggml-vocab-gpt-2.gguf";

    @Test
    void matchesLlamaCppVectorsExactly() throws Exception {
        TokenizerVectors vectors = VocabularyFiles.vectors(VOCAB);
        Tokenizer tokenizer = VocabularyFiles.gpt2();
        assertInstanceOf(BytePairTokenizer.class, tokenizer);
        assertFalse(vectors.inputs().isEmpty());
        List<String> mismatches = vectors.mismatches(tokenizer);
        assertEquals(List.of(), mismatches, mismatches.size() + " of " + vectors.inputs().size() + " cases differ");
    }

    @Test
    void readsTheFileWithByteLevelDefaults() {
        Vocabulary vocabulary = VocabularyFiles.gpt2().vocabulary();
        assertEquals("gpt2", vocabulary.model());
        assertEquals("gpt-2", vocabulary.pre());
        assertEquals("<|endoftext|>", vocabulary.token(vocabulary.eosId()));
        assertFalse(vocabulary.addBos(), "llama.cpp adds no BOS for GPT-2 unless the file says so");
        assertFalse(vocabulary.addSpacePrefix());
        assertEquals(Vocabulary.NO_TOKEN, vocabulary.unknownId());
    }

    @Test
    void spellsBytesWithGpt2Characters() {
        Tokenizer tokenizer = VocabularyFiles.gpt2();
        int[] ids = tokenizer.encode(" world\n", false, false);
        assertEquals("Ġworld", tokenizer.vocabulary().token(ids[0]));
        assertEquals("Ċ", tokenizer.vocabulary().token(ids[1]));
        assertEquals(" world\n", tokenizer.decode(ids));
    }

    @Test
    void endOfTextIsOneTokenOnlyWhenParsingSpecial() {
        Tokenizer tokenizer = VocabularyFiles.gpt2();
        int eos = tokenizer.vocabulary().eosId();
        int[] parsed = tokenizer.encode("Hi<|endoftext|>", false, true);
        int[] hi = tokenizer.encode("Hi", false, false);
        assertArrayEquals(IntStream.concat(IntStream.of(hi), IntStream.of(eos)).toArray(), parsed);
        int[] literal = tokenizer.encode("Hi<|endoftext|>", false, false);
        assertTrue(IntStream.of(literal).noneMatch(id -> id == eos));
        assertEquals("Hi<|endoftext|>", tokenizer.decode(literal));
        assertEquals("", tokenizer.decode(eos), "control tokens decode to nothing");
        assertTrue(tokenizer.isStopToken(eos));
    }

    @Test
    void rejectsAnUnknownPreTokenizerByName() {
        Vocabulary gpt2 = VocabularyFiles.gpt2().vocabulary();
        Vocabulary unknownPre = new Vocabulary(gpt2.model(), "no-such-pre", gpt2.tokens(), gpt2.scores(),
                gpt2.tokenTypes(), gpt2.merges(), gpt2.bosId(), gpt2.eosId(), gpt2.unknownId(), gpt2.paddingId(),
                gpt2.eotId(), false, false, false, Optional.empty());
        VocabularyException e = assertThrows(VocabularyException.class, () -> Tokenizer.of(unknownPre));
        assertTrue(e.getMessage().contains("no-such-pre"), e.getMessage());
    }

    @Test
    void mergesByRankNotByLength() {
        // A three-merge vocabulary where the longest merge has the worst rank: ranks decide, lowest first.
        Tokenizer tokenizer = Tokenizer.of(
                tinyVocabulary("gpt-2", new String[] {"a", "b", "c", "ab", "bc", "abc"}, "b c", "a b", "a bc"));
        // "b c" (rank 0) merges first, then "a bc" (rank 2); "a b" (rank 1) never applies.
        assertArrayEquals(new int[] {5}, tokenizer.encode("abc", false, false));
        // Without c, "a b" applies.
        assertArrayEquals(new int[] {3}, tokenizer.encode("ab", false, false));
    }

    @Test
    void mergesThroughIntermediatesTheVocabularyLacks() {
        // "ab" is no token, yet "a b" then "ab c" builds "abc", as llama.cpp's string-keyed merges do; a word left
        // at "ab" falls back to the tokens of its bytes.
        Vocabulary vocabulary = tinyVocabulary("gpt-2", new String[] {"a", "b", "c", "abc"}, "a b", "ab c");
        Tokenizer tokenizer = Tokenizer.of(vocabulary);
        assertArrayEquals(new int[] {3}, tokenizer.encode("abc", false, false));
        assertArrayEquals(new int[] {0, 1}, tokenizer.encode("ab", false, false));
    }

    @Test
    void llama3TakesWholeWordsThatAreTokensBeforeMerging() {
        String[] tokens = {"a", "b", "c", "abc"};
        // No merge builds "abc": GPT-2 splits it into bytes, Llama 3 (ignore_merges) finds the word as a token.
        assertArrayEquals(new int[] {0, 1, 2}, Tokenizer.of(tinyVocabulary("gpt-2", tokens, "x y"))
                .encode("abc", false, false));
        assertArrayEquals(new int[] {3}, Tokenizer.of(tinyVocabulary("llama-bpe", tokens, "x y"))
                .encode("abc", false, false));
    }

    @Test
    void preTokenizersSplitDigitsTheirOwnWay() {
        String text = "ab 12345";
        assertEquals(List.of("ab", " 12345"), split("gpt-2", text));
        assertEquals(List.of("ab", " ", "123", "45"), split("llama-bpe", text));
        assertEquals(List.of("ab", " ", "1", "2", "3", "4", "5"), split("qwen2", text));
        assertEquals(List.of("ab", " ", "1", "2", "3", "4", "5"), split("smollm", text));
    }

    private static List<String> split(String pre, String text) {
        IntArrayList bounds = new IntArrayList(8);
        PreTokenizer.forName(pre).split(text, 0, text.length(), bounds);
        List<String> words = new java.util.ArrayList<>();
        for (int i = 0; i < bounds.size(); i += 2) {
            words.add(text.substring(bounds.get(i), bounds.get(i + 1)));
        }
        return words;
    }

    private static Vocabulary tinyVocabulary(String pre, String[] tokens, String... merges) {
        int[] types = new int[tokens.length];
        java.util.Arrays.fill(types, TokenType.NORMAL.id());
        return new Vocabulary("gpt2", pre, GgufStrings.of(tokens), new float[tokens.length], types,
                GgufStrings.of(merges), -1, -1, -1, -1, -1, false, false, false, Optional.empty());
    }
}
