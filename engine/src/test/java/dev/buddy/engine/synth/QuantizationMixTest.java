package dev.buddy.engine.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import dev.buddy.gguf.GgmlType;

/**
 * The per-tensor types of the real shapes' K-quant mixes, checked against llama.cpp's rules (llama-quant.cpp, b4916)
 * restated for each model: {@code use_more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2}.
 */
class QuantizationMixTest {
    private static List<PlannedTensor> plan(ModelShape shape, SyntheticFileType type, boolean pure) {
        // Planning needs no vocabulary; a placeholder of the right size keeps the file untouched.
        String[] tokens = IntStream.range(0, shape.vocabSize()).mapToObj(i -> "t" + i).toArray(String[]::new);
        int[] types = new int[shape.vocabSize()];
        SyntheticVocabulary vocabulary = new SyntheticVocabulary(tokens, types, new String[0], 0);
        return SyntheticModel.plan(new SynthesisOptions(shape, type, 0, pure), vocabulary).tensors();
    }

    private static GgmlType typeOf(List<PlannedTensor> tensors, String name) {
        return tensors.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow().type();
    }

    @Test
    void llama32Q4KmRaisesAttnVAndFfnDownOfTheBlocksUseMoreBitsPicks() {
        List<PlannedTensor> tensors = plan(ModelShape.LLAMA_3_2_1B, SyntheticFileType.Q4_K_M, false);
        // n = 16: n/8 = 2, 7n/8 = 14, so blocks 0, 1, 14, 15 and 4, 7, 10, 13 ((i - 2) % 3 == 2).
        List<Integer> raised = List.of(0, 1, 4, 7, 10, 13, 14, 15);
        for (int i = 0; i < 16; i++) {
            GgmlType expected = raised.contains(i) ? GgmlType.Q6_K : GgmlType.Q4_K;
            assertEquals(expected, typeOf(tensors, "blk." + i + ".attn_v.weight"), "block " + i);
            assertEquals(expected, typeOf(tensors, "blk." + i + ".ffn_down.weight"), "block " + i);
            assertEquals(GgmlType.Q4_K, typeOf(tensors, "blk." + i + ".attn_q.weight"));
            assertEquals(GgmlType.Q4_K, typeOf(tensors, "blk." + i + ".attn_k.weight"));
            assertEquals(GgmlType.Q4_K, typeOf(tensors, "blk." + i + ".attn_output.weight"));
            assertEquals(GgmlType.Q4_K, typeOf(tensors, "blk." + i + ".ffn_gate.weight"));
            assertEquals(GgmlType.Q4_K, typeOf(tensors, "blk." + i + ".ffn_up.weight"));
            assertEquals(GgmlType.F32, typeOf(tensors, "blk." + i + ".attn_norm.weight"));
        }
        // Tied embeddings: token_embd is quantised as the output tensor would be.
        assertEquals(GgmlType.Q6_K, typeOf(tensors, "token_embd.weight"));
        assertEquals(GgmlType.F32, typeOf(tensors, "rope_freqs.weight"));
        assertTrue(tensors.stream().noneMatch(t -> t.name().equals("output.weight")));
    }

    @Test
    void qwenAndSmolLmWidthsFallBackFromKQuants() {
        // Qwen2.5-0.5B: width 896 and SmolLM2-135M: width 576 are not multiples of 256; their FFN widths are.
        // 24 and 30 blocks: n/8 = 3, so use_more_bits picks block 0 and not block 3.
        for (ModelShape shape : List.of(ModelShape.QWEN2_5_0_5B, ModelShape.SMOLLM2_135M)) {
            List<PlannedTensor> q5 = plan(shape, SyntheticFileType.Q5_K_M, false);
            assertEquals(GgmlType.Q8_0, typeOf(q5, "token_embd.weight"), shape.name());
            assertEquals(GgmlType.Q5_1, typeOf(q5, "blk.2.attn_q.weight"), shape.name());
            assertEquals(GgmlType.Q5_1, typeOf(q5, "blk.3.attn_v.weight"), shape.name());
            assertEquals(GgmlType.Q8_0, typeOf(q5, "blk.0.attn_v.weight"), shape.name());
            assertEquals(GgmlType.Q5_K, typeOf(q5, "blk.3.ffn_down.weight"), shape.name());
            assertEquals(GgmlType.Q6_K, typeOf(q5, "blk.0.ffn_down.weight"), shape.name());
            List<PlannedTensor> q6 = plan(shape, SyntheticFileType.Q6_K, false);
            assertEquals(GgmlType.Q8_0, typeOf(q6, "blk.3.ffn_up.weight"), shape.name());
            assertEquals(GgmlType.Q6_K, typeOf(q6, "blk.3.ffn_down.weight"), shape.name());
        }
    }

    @Test
    void legacyQuantsKeepTheirTypeButTheOutputGetsQ6K() {
        List<PlannedTensor> q4 = plan(ModelShape.LLAMA_3_2_1B, SyntheticFileType.Q4_0, false);
        assertEquals(GgmlType.Q6_K, typeOf(q4, "token_embd.weight"));
        assertEquals(GgmlType.Q4_0, typeOf(q4, "blk.0.attn_v.weight"));
        assertEquals(GgmlType.Q4_0, typeOf(q4, "blk.15.ffn_down.weight"));
        List<PlannedTensor> q8 = plan(ModelShape.LLAMA_3_2_1B, SyntheticFileType.Q8_0, false);
        assertTrue(q8.stream().filter(t -> t.role().isMatrix()).allMatch(t -> t.type() == GgmlType.Q8_0));
    }

    @Test
    void pureGivesEveryMatrixTheBaseTypeWhereItFits() {
        List<PlannedTensor> pure = plan(ModelShape.LLAMA_3_2_1B, SyntheticFileType.Q4_K_M, true);
        assertTrue(pure.stream().filter(t -> t.role().isMatrix()).allMatch(t -> t.type() == GgmlType.Q4_K));
        List<PlannedTensor> smol = plan(ModelShape.SMOLLM2_135M, SyntheticFileType.Q4_0, true);
        assertTrue(smol.stream().filter(t -> t.role().isMatrix()).allMatch(t -> t.type() == GgmlType.Q4_0));
    }

    @Test
    void floatTypesApplyToEveryMatrixAndVectorsStayF32() {
        for (SyntheticFileType type : List.of(SyntheticFileType.F32, SyntheticFileType.F16, SyntheticFileType.BF16)) {
            for (PlannedTensor t : plan(ModelShape.QWEN2_5_0_5B, type, false)) {
                assertEquals(t.role().isMatrix() ? type.baseType() : GgmlType.F32, t.type(), t.name());
            }
        }
    }
}
