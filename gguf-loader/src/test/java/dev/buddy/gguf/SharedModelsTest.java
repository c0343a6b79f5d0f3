package dev.buddy.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** Reads every GGUF in ../shared/models and checks the facts that models/SOURCES.md states for it. */
class SharedModelsTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void stories260k() throws Exception {
        try (GgufFile f = GgufFile.open(TestData.require("models/stories260K.gguf"))) {
            assertEquals(3, f.version());
            assertEquals(48, f.tensors().size());
            assertEquals(19, f.metadata().size());
            assertEquals("llama", f.getString("general.architecture"));
            assertEquals(5, f.getInt("llama.block_count"));
            assertEquals(64, f.getInt("llama.embedding_length"));
            assertEquals(172, f.getInt("llama.feed_forward_length"));
            assertEquals(8, f.getInt("llama.attention.head_count"));
            assertEquals(4, f.getInt("llama.attention.head_count_kv"));
            assertEquals(8, f.getInt("llama.rope.dimension_count"));
            assertEquals(2048, f.getInt("llama.context_length"));
            assertEquals(1e-5f, f.getFloat("llama.attention.layer_norm_rms_epsilon"));
            assertEquals("llama", f.getString("tokenizer.ggml.model"));
            assertEquals(512, f.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(512, f.getFloatArray("tokenizer.ggml.scores").length);
            assertEquals(1, f.getInt("tokenizer.ggml.bos_token_id"));
            assertEquals(2, f.getInt("tokenizer.ggml.eos_token_id"));
            assertEquals(0, f.getInt("tokenizer.ggml.unknown_token_id"));
            for (TensorInfo t : f.tensors()) {
                assertEquals(GgmlType.F32, t.type(), t.name());
            }
            // SOURCES.md: output.weight is stored separately and is bit-identical to token_embd.weight.
            var emb = f.tensorData("token_embd.weight");
            var out = f.tensorData("output.weight");
            assertEquals(512L * 64 * 4, emb.byteSize());
            assertEquals(-1L, emb.mismatch(out));
            assertArrayEquals(new long[] {64, 512}, f.tensor("token_embd.weight").dims());
        }
    }

    @Test
    void tinyStoriesQ8() throws Exception {
        try (GgufFile f = GgufFile.open(TestData.require("models/TinyStories-656K-Q8_0.gguf"))) {
            assertEquals(3, f.version());
            assertEquals(20, f.tensors().size());
            assertEquals(34, f.metadata().size());
            assertEquals(7, f.getInt("general.file_type"));
            assertEquals(2, f.getInt("general.quantization_version"));
            assertEquals(2, f.getInt("llama.block_count"));
            assertEquals(128, f.getInt("llama.embedding_length"));
            assertEquals(384, f.getInt("llama.feed_forward_length"));
            assertEquals(16, f.getInt("llama.rope.dimension_count"));
            assertEquals(10000f, f.getFloat("llama.rope.freq_base"));
            assertEquals(512, f.getInt("llama.context_length"));
            assertEquals(1e-6f, f.getFloat("llama.attention.layer_norm_rms_epsilon"));
            assertEquals(2048, f.getInt("llama.vocab_size"));
            assertTrue(f.getBool("tokenizer.ggml.add_bos_token"));
            long q8 = f.tensors().stream().filter(t -> t.type() == GgmlType.Q8_0).count();
            long f32 = f.tensors().stream().filter(t -> t.type() == GgmlType.F32).count();
            assertEquals(15, q8);
            assertEquals(5, f32);
            assertFalse(f.findTensor("output.weight").isPresent(), "output is tied to token_embd");
        }
    }

    @Test
    void v1IsRejectedByName() {
        Path v1 = TestData.require("models/tinyllamas-stories-260k-f32.v1.gguf");
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(v1));
        assertTrue(e.getMessage().contains("GGUF v1 is not supported"), e.getMessage());
    }

    @Test
    void vocabOnlyFiles() throws Exception {
        try (GgufFile f = GgufFile.open(TestData.require("models/tokenizer-tests/ggml-vocab-llama-spm.gguf"))) {
            assertEquals(0, f.tensors().size());
            assertEquals(22, f.metadata().size());
            assertEquals(32000, f.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals("default", f.getString("tokenizer.ggml.pre"));
        }
        try (GgufFile f = GgufFile.open(TestData.require("models/tokenizer-tests/ggml-vocab-gpt-2.gguf"))) {
            assertEquals(16, f.metadata().size());
            assertEquals("gpt2", f.getString("tokenizer.ggml.model"));
            assertEquals(50257, f.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(50000, f.getStringArray("tokenizer.ggml.merges").length);
        }
    }

    @Test
    void closedFileFailsCleanly() throws Exception {
        GgufFile f = GgufFile.open(TestData.require("models/stories260K.gguf"));
        var slice = f.tensorData("output_norm.weight");
        assertEquals(1.0f, Math.abs(slice.get(F32, 0)) > 0 ? 1.0f : 0f);
        f.close();
        assertTrue(f.isClosed());
        assertThrows(IllegalStateException.class, () -> f.tensorData("output_norm.weight"));
        assertThrows(IllegalStateException.class, () -> slice.get(F32, 0));
        f.close(); // idempotent
    }
}
