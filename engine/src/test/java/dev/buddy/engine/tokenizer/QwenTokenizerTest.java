package dev.buddy.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TestData;

/**
 * The Qwen 2/2.5/3 byte-level BPE (151k tokens, 151k merges, pre-tokenizer "qwen2"): a vocabulary GGUF is written
 * from the real Hugging Face {@code tokenizer.json} with {@link dev.buddy.gguf.GgufWriter}, read back with
 * {@link GgufFile}, and checked against llama.cpp's qwen2 vectors.
 */
class QwenTokenizerTest {
    @TempDir
    static Path workDir;

    private static Tokenizer tokenizer;

    @BeforeAll
    static void buildVocabularyGguf() throws Exception {
        Path json = TestData.require("models/qwen3-tokenizer/tokenizer.json");
        Path config = TestData.require("models/qwen3-tokenizer/tokenizer_config.json");
        Path gguf = workDir.resolve("qwen-vocab.gguf");
        HuggingFaceVocabularyWriter.write(json, config, "qwen2", gguf);
        try (GgufFile file = GgufFile.open(gguf)) {
            tokenizer = Tokenizer.of(Vocabulary.fromGguf(file));
        }
    }

    private static int id(String token) {
        int id = Arrays.asList(tokenizer.vocabulary().tokens().toArray()).indexOf(token);
        assertTrue(id >= 0, token + " is in the vocabulary");
        return id;
    }

    @Test
    void matchesLlamaCppVectorsExactly() throws Exception {
        TokenizerVectors vectors = TokenizerVectors.read(
                TestData.require(VocabularyFiles.DIR + "ggml-vocab-qwen2.gguf.inp"),
                TestData.require(VocabularyFiles.DIR + "ggml-vocab-qwen2.gguf.out"));
        assertFalse(vectors.inputs().isEmpty());
        List<String> mismatches = vectors.mismatches(tokenizer);
        assertEquals(List.of(), mismatches, mismatches.size() + " of " + vectors.inputs().size() + " cases differ");
    }

    @Test
    void readsTheVocabularyBack() {
        Vocabulary vocabulary = tokenizer.vocabulary();
        assertEquals("gpt2", vocabulary.model());
        assertEquals("qwen2", vocabulary.pre());
        assertFalse(vocabulary.addBos());
        assertEquals("<|im_end|>", vocabulary.token(vocabulary.eosId()));
        assertEquals(TokenType.CONTROL, tokenizer.tokenType(id("<|im_start|>")));
        assertEquals(TokenType.USER_DEFINED, tokenizer.tokenType(id("<tool_call>")));
        assertTrue(vocabulary.chatTemplate().orElseThrow().contains("<|im_start|>"));
    }

    @Test
    void addBosFollowsTheVocabularyFlag() {
        // Qwen's add_bos_token is false: starting a sequence adds nothing.
        assertArrayEquals(tokenizer.encode("Hello", false, false), tokenizer.encode("Hello", true, false));
    }

    @Test
    void parsesChatMarkersAsSingleTokens() {
        String text = "<|im_start|>user\nHi<|im_end|>\n";
        int[] ids = tokenizer.encode(text, false, true);
        int[] expected = IntStream.concat(
                IntStream.concat(IntStream.of(id("<|im_start|>")), IntStream.of(tokenizer.encode("user\nHi", false,
                        false))),
                IntStream.concat(IntStream.of(id("<|im_end|>")), IntStream.of(tokenizer.encode("\n", false, false))))
                .toArray();
        assertArrayEquals(expected, ids);
        assertEquals("user\nHi\n", tokenizer.decode(ids), "control markers decode to nothing");
        assertEquals(text, streamRenderingSpecial(ids));
    }

    @Test
    void userDefinedTokensAreMatchedEvenWithoutParseSpecial() {
        int toolCall = id("<tool_call>");
        int[] ids = tokenizer.encode("x<tool_call>y", false, false);
        assertTrue(IntStream.of(ids).anyMatch(i -> i == toolCall));
        assertEquals("x<tool_call>y", tokenizer.decode(ids), "user-defined tokens decode to their text");
    }

    @Test
    void stopTokensComeFromEosAndEndOfTurnMarkers() {
        assertTrue(tokenizer.isStopToken(id("<|im_end|>")));
        assertTrue(tokenizer.isStopToken(id("<|endoftext|>")));
        assertFalse(tokenizer.isStopToken(id("<|im_start|>")));
        assertEquals(id("<|im_end|>"), tokenizer.endOfTurnId());
    }

    @Test
    void encodesARenderedChatPrompt() {
        ChatTemplate template = ChatTemplate.forVocabulary(tokenizer.vocabulary());
        String prompt = template.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")), true);
        int[] ids = tokenizer.encode(prompt, true, true);
        long starts = IntStream.of(ids).filter(i -> i == id("<|im_start|>")).count();
        long ends = IntStream.of(ids).filter(i -> i == id("<|im_end|>")).count();
        assertEquals(3, starts, "system, user and the assistant opening");
        assertEquals(2, ends);
        assertEquals(prompt, streamRenderingSpecial(ids));
    }

    private static String streamRenderingSpecial(int[] ids) {
        StreamingDecoder decoder = tokenizer.streamingDecoder(true).renderingSpecialTokens();
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            decoder.accept(id, out);
        }
        decoder.finish(out);
        return out.toString();
    }
}
