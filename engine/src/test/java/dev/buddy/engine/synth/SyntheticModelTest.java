package dev.buddy.engine.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TensorInfo;
import dev.buddy.gguf.TestData;
import dev.buddy.gguf.codec.BlockCodecs;

/** Synthetic GGUFs: layout and metadata as planned, data as the codecs make it, and llama.cpp loads and runs them. */
class SyntheticModelTest {
    private static final String GPT2_VOCAB = "models/tokenizer-tests/ggml-vocab-gpt-2.gguf";

    @TempDir
    Path tmp;

    private static SyntheticModel model(ModelShape shape, SyntheticFileType type, long seed) {
        SyntheticVocabulary vocabulary = SyntheticVocabulary.fromGpt2Gguf(TestData.require(GPT2_VOCAB),
                shape.vocabSize());
        return SyntheticModel.plan(new SynthesisOptions(shape, type, seed, false), vocabulary);
    }

    private Path write(SyntheticModel model, String fileName) throws IOException {
        Path file = tmp.resolve(fileName);
        model.write(file, SynthesisProgress.NONE);
        return file;
    }

    /** The tensors a llama-architecture GGUF of this shape has, in llama.cpp's names and GGUF dims (ne0 first). */
    private static List<String> expectedTensors(ModelShape s) {
        long dim = s.embeddingLength();
        long kv = (long) s.headCountKv() * (dim / s.headCount());
        long ffn = s.feedForwardLength();
        List<String> out = new ArrayList<>();
        out.add("token_embd.weight " + List.of(dim, (long) s.vocabSize()));
        for (int i = 0; i < s.blockCount(); i++) {
            String b = "blk." + i + ".";
            out.add(b + "attn_norm.weight " + List.of(dim));
            out.add(b + "attn_q.weight " + List.of(dim, dim));
            out.add(b + "attn_k.weight " + List.of(dim, kv));
            out.add(b + "attn_v.weight " + List.of(dim, kv));
            out.add(b + "attn_output.weight " + List.of(dim, dim));
            out.add(b + "ffn_norm.weight " + List.of(dim));
            out.add(b + "ffn_gate.weight " + List.of(dim, ffn));
            out.add(b + "ffn_up.weight " + List.of(dim, ffn));
            out.add(b + "ffn_down.weight " + List.of(ffn, dim));
        }
        out.add("output_norm.weight " + List.of(dim));
        if (!s.tiedEmbeddings()) {
            out.add("output.weight " + List.of(dim, (long) s.vocabSize()));
        }
        return out;
    }

    private static String describe(TensorInfo t) {
        return t.name() + " " + Arrays.stream(t.dims()).boxed().toList();
    }

    /**
     * The type llama-quantize (b4916, llama_tensor_get_type) gives each tensor of the tiny shape, whose widths are
     * whole K-quant super-blocks and which has a separate output.weight: vectors F32; output.weight Q6_K unless the
     * file type is Q8_0; for Q4_K_M/Q5_K_M, attn_v and ffn_down of block 1 (the last eighth of 2 blocks) Q6_K.
     */
    private static GgmlType expectedTinyType(SyntheticFileType type, String name, int rank) {
        if (rank == 1) {
            return GgmlType.F32;
        }
        if (!type.isQuantized()) {
            return type.baseType();
        }
        if (name.equals("output.weight")) {
            return type == SyntheticFileType.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q6_K;
        }
        boolean kMix = type == SyntheticFileType.Q4_K_M || type == SyntheticFileType.Q5_K_M;
        if (kMix && (name.equals("blk.1.attn_v.weight") || name.equals("blk.1.ffn_down.weight"))) {
            return GgmlType.Q6_K;
        }
        return type.baseType();
    }

    /**
     * One tiny file per type (writing dominates the cost): tensors, types and metadata as the shape and llama.cpp's
     * mix rules say, data as the reference codecs encode the generated values, and llama.cpp loads and runs it.
     */
    @ParameterizedTest
    @EnumSource(SyntheticFileType.class)
    void tinyFileIsLaidOutAsPlannedHoldsTheEncodedValuesAndRunsInLlamaCpp(SyntheticFileType type) throws IOException {
        ModelShape shape = ModelShape.TINY;
        SyntheticModel model = model(shape, type, 7);
        Path file = write(model, "tiny-" + type.cliName() + ".gguf");

        try (GgufFile gguf = GgufFile.open(file)) {
            assertEquals(expectedTensors(shape), gguf.tensors().stream().map(SyntheticModelTest::describe).toList());
            for (TensorInfo t : gguf.tensors()) {
                assertEquals(expectedTinyType(type, t.name(), t.dims().length), t.type(), t.name());
            }
            assertEquals("llama", gguf.getString("general.architecture"));
            assertEquals(type.llamaFileType(), gguf.getInt("general.file_type"));
            assertEquals(shape.blockCount(), gguf.getInt("llama.block_count"));
            assertEquals(shape.embeddingLength(), gguf.getInt("llama.embedding_length"));
            assertEquals(shape.feedForwardLength(), gguf.getInt("llama.feed_forward_length"));
            assertEquals(shape.headCount(), gguf.getInt("llama.attention.head_count"));
            assertEquals(shape.headCountKv(), gguf.getInt("llama.attention.head_count_kv"));
            assertEquals(shape.ropeFreqBase(), gguf.getFloat("llama.rope.freq_base"));
            assertEquals(shape.rmsNormEps(), gguf.getFloat("llama.attention.layer_norm_rms_epsilon"));
            assertEquals(shape.vocabSize(), gguf.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals("gpt2", gguf.getString("tokenizer.ggml.model"));
            for (String name : List.of("token_embd.weight", "blk.1.attn_v.weight", "blk.0.ffn_down.weight",
                    "blk.1.ffn_norm.weight", "output.weight")) {
                assertRowsAreEncodedValues(model, gguf, name);
            }
        }
        try (LlamaCppReference llama = LlamaCppReference.open(file)) {
            assertEquals(shape.vocabSize(), llama.vocabularySize());
            int[] prompt = llama.tokenize("The quick brown fox jumps over the lazy dog", true);
            assertEquals(llama.bosToken(), prompt[0]);
            int[] generated = llama.greedy(prompt, 8);
            assertEquals(8, generated.length);
            assertLogitsSpread(llama.nextTokenLogits(prompt));
        }
    }

    /** First, middle and last row of a tensor hold exactly the reference codec's encoding of the generated values. */
    private static void assertRowsAreEncodedValues(SyntheticModel model, GgufFile gguf, String name) {
        PlannedTensor planned = model.tensor(name);
        TensorInfo info = gguf.tensor(name);
        MemorySegment data = gguf.tensorData(info);
        long rowBytes = info.type().byteSize(planned.rowLength());
        for (int row : new int[] {0, planned.rowCount() / 2, planned.rowCount() - 1}) {
            float[] values = new float[planned.rowLength()];
            model.fillRow(planned, row, values);
            byte[] expected = BlockCodecs.quantize(info.type(), values);
            byte[] actual = data.asSlice(row * rowBytes, rowBytes).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(expected, actual, name + " row " + row);
        }
    }

    @Test
    void generatedValuesHaveTheIntendedScales() {
        SyntheticModel model = model(ModelShape.TINY, SyntheticFileType.F32, 3);
        PlannedTensor ffnDown = model.tensor("blk.0.ffn_down.weight"); // fan-in 512
        PlannedTensor norm = model.tensor("blk.0.attn_norm.weight");
        double[] weights = moments(model, ffnDown);
        double[] norms = moments(model, norm);
        assertEquals(0, weights[0], 0.002);
        assertEquals(1 / Math.sqrt(512), weights[1], 0.002);
        assertEquals(1, norms[0], 0.01);
        assertTrue(norms[1] > 0.02 && norms[1] < 0.1, "norm spread " + norms[1]);
    }

    private static double[] moments(SyntheticModel model, PlannedTensor t) {
        float[] row = new float[t.rowLength()];
        double sum = 0;
        double squares = 0;
        for (int r = 0; r < t.rowCount(); r++) {
            model.fillRow(t, r, row);
            for (float v : row) {
                sum += v;
                squares += (double) v * v;
            }
        }
        double n = t.elementCount();
        double mean = sum / n;
        return new double[] {mean, Math.sqrt(squares / n - mean * mean)};
    }

    @Test
    void sameSeedGivesTheSameBytesAndAnotherSeedOtherWeights() throws IOException {
        Path a = write(model(ModelShape.TINY, SyntheticFileType.F16, 5), "a.gguf");
        Path b = write(model(ModelShape.TINY, SyntheticFileType.F16, 5), "b.gguf");
        Path c = write(model(ModelShape.TINY, SyntheticFileType.F16, 6), "c.gguf");
        assertEquals(-1, Files.mismatch(a, b));
        try (GgufFile x = GgufFile.open(a); GgufFile y = GgufFile.open(c)) {
            for (TensorInfo t : x.tensors()) {
                assertNotEquals(-1, x.tensorData(t).mismatch(y.tensorData(y.tensor(t.name()))), t.name());
            }
        }
    }

    /** Random weights must still rank tokens: many distinct logits, spread well beyond rounding noise. */
    private static void assertLogitsSpread(float[] logits) {
        double sum = 0;
        double squares = 0;
        for (float l : logits) {
            assertTrue(Float.isFinite(l), "finite logits");
            sum += l;
            squares += (double) l * l;
        }
        double mean = sum / logits.length;
        double std = Math.sqrt(squares / logits.length - mean * mean);
        long distinct = Arrays.stream(box(logits)).distinct().count();
        assertTrue(std > 0.1, "logit standard deviation " + std);
        assertTrue(distinct > logits.length / 2, distinct + " distinct logits of " + logits.length);
    }

    private static Float[] box(float[] values) {
        Float[] boxed = new Float[values.length];
        for (int i = 0; i < values.length; i++) {
            boxed[i] = values[i];
        }
        return boxed;
    }

    @Test
    void truncatedVocabularyTokenizesAndRoundTripsThroughLlamaCpp() throws IOException {
        Path file = write(model(ModelShape.TINY, SyntheticFileType.Q8_0, 1), "tiny.gguf");
        String text = "Hello world, this is a synthetic model speaking; 1234567890 ümlaut 🦙.";
        try (LlamaCppReference llama = LlamaCppReference.open(file)) {
            int[] ids = llama.tokenize(text, false);
            assertTrue(Arrays.stream(ids).allMatch(id -> id < ModelShape.TINY.vocabSize()));
            assertEquals(text, llama.detokenize(ids));
        }
    }

    /**
     * With the whole GPT-2 vocabulary kept (and padded with reserved tokens), llama.cpp tokenizes exactly as its own
     * GPT-2 tokenizer test vectors say.
     */
    @Test
    void paddedGpt2VocabularyMatchesLlamaCppsTokenizerVectors() throws IOException {
        ModelShape shape = new ModelShape("vocab-test", "llama", 64, 1, 2, 1, 128, 50300, 512, 10000f, 1e-5f, false,
                true, null, false, false);
        Path file = write(model(shape, SyntheticFileType.Q8_0, 1), "vocab.gguf");
        String[] inputs = Files.readString(TestData.require(GPT2_VOCAB + ".inp")).split("\n__ggml_vocab_test__\n", -1);
        String[] outputs = Files.readString(TestData.require(GPT2_VOCAB + ".out")).split("\n", -1);
        try (LlamaCppReference llama = LlamaCppReference.open(file)) {
            assertEquals(50300, llama.vocabularySize());
            assertEquals(50256, llama.bosToken());
            assertEquals("<|endoftext|>", llama.piece(50256));
            assertEquals("<|reserved_0|>", llama.piece(50257));
            assertEquals("<|reserved_42|>", llama.piece(50299));
            int checked = 0;
            for (int i = 0; i < inputs.length - 1; i++) {
                int[] expected = outputs[i].isBlank() ? new int[0]
                        : Arrays.stream(outputs[i].strip().split(" ")).mapToInt(Integer::parseInt).toArray();
                assertArrayEquals(expected, llama.tokenize(inputs[i], false), "input " + i + ": " + inputs[i]);
                checked++;
            }
            assertEquals(outputs.length - 1, checked);
        }
    }

    /** Qwen2-style: biases, NeoX RoPE, tied embeddings and widths that force llama.cpp's K-quant fallbacks. */
    @Test
    void qwen2ShapeWithFallbackTypesLoadsAndRunsInLlamaCpp() throws IOException {
        ModelShape shape = new ModelShape("qwen-test", "qwen2", 384, 2, 6, 2, 512, 4096, 4096, 1_000_000f, 1e-6f,
                true, true, null, false, false);
        SyntheticModel model = model(shape, SyntheticFileType.Q4_K_M, 1);
        // Width 384 is not a whole 256-element super-block: Q4_K falls back to Q5_0, Q6_K to Q8_0 (llama.cpp's
        // convert_incompatible_tensor); ffn_down rows are 512 long and keep Q4_K/Q6_K.
        assertEquals(GgmlType.Q8_0, model.tensor("token_embd.weight").type());
        assertEquals(GgmlType.Q5_0, model.tensor("blk.0.attn_q.weight").type());
        assertEquals(GgmlType.Q5_0, model.tensor("blk.0.attn_v.weight").type());
        assertEquals(GgmlType.Q8_0, model.tensor("blk.1.attn_v.weight").type());
        assertEquals(GgmlType.Q4_K, model.tensor("blk.0.ffn_down.weight").type());
        assertEquals(GgmlType.Q6_K, model.tensor("blk.1.ffn_down.weight").type());
        assertEquals(GgmlType.F32, model.tensor("blk.0.attn_k.bias").type());
        Path file = write(model, "qwen.gguf");
        try (GgufFile gguf = GgufFile.open(file)) {
            assertEquals("qwen2", gguf.getString("general.architecture"));
            assertArrayEquals(new long[] {128}, gguf.tensor("blk.1.attn_v.bias").dims());
            assertFalse(gguf.findTensor("output.weight").isPresent());
        }
        try (LlamaCppReference llama = LlamaCppReference.open(file)) {
            int[] prompt = llama.tokenize("Once upon a time", false);
            assertEquals(6, llama.greedy(prompt, 6).length);
            assertLogitsSpread(llama.nextTokenLogits(prompt));
        }
    }
}
