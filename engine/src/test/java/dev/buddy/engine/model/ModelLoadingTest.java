package dev.buddy.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.engine.e2e.GgufEdit;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufValue;
import dev.buddy.gguf.GgufValueType;
import dev.buddy.gguf.TestData;

class ModelLoadingTest {

    private static Path stories() {
        return TestData.require("models/stories260K.gguf");
    }

    private static ModelLoadException loadFails(Path p) {
        return assertThrows(ModelLoadException.class, () -> {
            try (Model m = Model.load(p)) {
                m.spec();
            }
        });
    }

    @Test
    void readsSpecFromMetadata() throws IOException {
        try (Model m = Model.load(stories()); GgufFile f = GgufFile.open(stories())) {
            ModelSpec s = m.spec();
            assertEquals(Architecture.LLAMA, s.architecture());
            assertEquals(f.getInt("llama.block_count"), s.blockCount());
            assertEquals(f.getInt("llama.embedding_length"), s.embeddingLength());
            assertEquals(f.getInt("llama.feed_forward_length"), s.feedForwardLength());
            assertEquals(f.getInt("llama.attention.head_count"), s.headCount());
            assertEquals(f.getInt("llama.attention.head_count_kv"), s.headCountKv());
            assertEquals(s.embeddingLength() / s.headCount(), s.headDim());
            assertEquals(f.getInt("llama.rope.dimension_count"), s.rope().dimensions());
            assertEquals(f.getFloat("llama.attention.layer_norm_rms_epsilon"), s.rmsEps());
            assertEquals(f.getStringArray("tokenizer.ggml.tokens").length, s.vocabSize());
            assertEquals(RopeStyle.NORMAL, s.rope().style());
            assertFalse(s.tiedEmbeddings(), "stories260K stores output.weight");
            assertFalse(s.qkvBias());
            assertFalse(s.qkNorm());
            assertNull(s.rope().freqFactors());
        }
    }

    @Test
    void missingOutputWeightMeansTiedEmbeddings() throws IOException {
        Path p = TestData.require("models/TinyStories-656K-Q8_0.gguf");
        try (Model m = Model.load(p)) {
            assertTrue(m.spec().tiedEmbeddings());
            assertSame(m.weights().tokenEmbedding(), m.weights().output());
        }
    }

    @Test
    void unsupportedArchitectureListsTheSupportedOnes(@TempDir Path dir) throws IOException {
        Path p = GgufEdit.copy(stories(), dir.resolve("gemma.gguf"),
                Map.of("general.architecture", new GgufValue(GgufValueType.STRING, "gemma")), Function.identity());
        ModelLoadException e = loadFails(p);
        assertTrue(e instanceof UnsupportedArchitectureException);
        assertTrue(e.getMessage().contains("'gemma'"), e.getMessage());
        assertTrue(e.getMessage().contains("llama, qwen2, qwen3"), e.getMessage());
    }

    @Test
    void missingTensorIsNamed(@TempDir Path dir) throws IOException {
        Path p = GgufEdit.copy(stories(), dir.resolve("missing.gguf"), Map.of(),
                name -> name.equals("blk.1.ffn_up.weight") ? null : name);
        ModelLoadException e = loadFails(p);
        assertTrue(e.getMessage().contains("'blk.1.ffn_up.weight'"), e.getMessage());
        assertTrue(e.getMessage().contains("172 rows"), e.getMessage());
    }

    @Test
    void misShapedTensorIsNamedWithTheExpectedShape(@TempDir Path dir) throws IOException {
        Path p = GgufEdit.copy(stories(), dir.resolve("shape.gguf"),
                Map.of("llama.feed_forward_length", new GgufValue(GgufValueType.UINT32, 100)), Function.identity());
        ModelLoadException e = loadFails(p);
        assertTrue(e.getMessage().contains("'blk.0.ffn_gate.weight'"), e.getMessage());
        assertTrue(e.getMessage().contains("[64, 100]"), e.getMessage());
    }

    @Test
    void unsupportedTensorTypeIsNamed(@TempDir Path dir) throws IOException {
        // IQ4_NL: a valid GGML type (32-element blocks fit the 64-wide rows) that Buddy has no kernel for.
        byte[] iq4 = new byte[(int) GgmlType.IQ4_NL.byteSize(64 * 64)];
        Path p = GgufEdit.copy(stories(), dir.resolve("iq4.gguf"), Map.of(), Function.identity(),
                Map.of("blk.0.attn_q.weight", new GgufEdit.Replacement(GgmlType.IQ4_NL, new long[] {64, 64}, iq4)));
        ModelLoadException e = loadFails(p);
        assertTrue(e.getMessage().contains("'blk.0.attn_q.weight'"), e.getMessage());
        assertTrue(e.getMessage().contains("IQ4_NL"), e.getMessage());
        assertTrue(e.getMessage().contains("Q4_K"), e.getMessage());
    }

    @Test
    void perLayerHeadCountsAreRejectedClearly(@TempDir Path dir) throws IOException {
        Path p = GgufEdit.copy(stories(), dir.resolve("heads.gguf"), Map.of("llama.attention.head_count",
                new GgufValue(GgufValueType.ARRAY, new GgufValue.GgufArray(GgufValueType.UINT32,
                        new int[] {8, 8, 8, 8, 8}))), Function.identity());
        ModelLoadException e = loadFails(p);
        assertTrue(e.getMessage().contains("llama.attention.head_count"), e.getMessage());
    }
}
