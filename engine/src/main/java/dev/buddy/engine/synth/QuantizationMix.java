package dev.buddy.engine.synth;

import dev.buddy.gguf.GgmlType;

/**
 * Which GGML type each tensor gets for a {@link SyntheticFileType}: llama.cpp's {@code llama-quantize} rules
 * ({@code llama_tensor_get_type} in src/llama-quant.cpp, build b4916), restricted to the file types and dense
 * Llama/Qwen2 tensors Buddy writes, so a synthetic file has the same type mix a real one would.
 *
 * <ul>
 *   <li>Vectors (norms, biases, rope_freqs) stay F32; llama.cpp quantises only tensors with two or more dims.</li>
 *   <li>F32/F16/BF16: every matrix, token_embd and output included, has that type (as {@code convert_hf_to_gguf.py
 *       --outtype} writes them).</li>
 *   <li>Quantised types: every matrix gets the base type, except
 *     <ul>
 *       <li>{@code output.weight}, or {@code token_embd.weight} when the embeddings are tied (llama.cpp then quantises
 *           the embedding "with the quantization of the output tensor"): Q6_K, unless the base is Q8_0 (kept), or the
 *           row length is not a multiple of the base block size (Q8_0);</li>
 *       <li>Q4_K_M and Q5_K_M: {@code attn_v} and {@code ffn_down} of the blocks {@link #useMoreBits} picks are
 *           Q6_K (the first and last eighth of the blocks and every third one between);</li>
 *     </ul>
 *   </li>
 *   <li>Fallback: a K-quant on a row length that is not a multiple of 256 becomes Q4_K→Q5_0, Q5_K→Q5_1,
 *       Q6_K→Q8_0, exactly as llama.cpp's {@code convert_incompatible_tensor}. So Qwen2.5-0.5B (width 896) and
 *       SmolLM2-135M (576) Q4_K_M files are mostly Q5_0 with Q8_0 embeddings, as real ones are.</li>
 *   <li>{@code pure} (llama-quantize {@code --pure}): every matrix gets the base type, with the same fallback so the
 *       file stays valid (llama.cpp itself would abort on such a row length).</li>
 * </ul>
 * Counters are block indices: llama.cpp visits tensors sorted by block number (its weight_name_comparer), so its
 * {@code i_attention_wv}/{@code i_ffn_down} counters equal the block index for these dense models.
 */
public final class QuantizationMix {
    private QuantizationMix() {}

    /**
     * The type llama-quantize would give this tensor.
     *
     * @param fileType the requested file type
     * @param role the tensor's role
     * @param layer its block, or -1 for global tensors
     * @param blockCount the model's block count
     * @param rowLength ne0, the row length
     * @param hasOutputTensor whether the model has a separate output.weight
     * @param pure apply the base type to every matrix (llama-quantize --pure)
     */
    public static GgmlType typeOf(SyntheticFileType fileType, TensorRole role, int layer, int blockCount,
                                  int rowLength, boolean hasOutputTensor, boolean pure) {
        if (!role.isMatrix()) {
            return GgmlType.F32;
        }
        GgmlType type = fileType.baseType();
        if (!fileType.isQuantized() || pure) {
            return compatible(type, rowLength);
        }
        boolean outputQuantisation = role == TensorRole.OUTPUT
                || (!hasOutputTensor && role == TensorRole.TOKEN_EMBEDDING);
        if (outputQuantisation) {
            if (rowLength % type.blockSize() != 0) {
                type = GgmlType.Q8_0;
            } else if (type != GgmlType.Q8_0) {
                type = GgmlType.Q6_K;
            }
        } else if ((role == TensorRole.ATTENTION_V || role == TensorRole.FFN_DOWN)
                && (fileType == SyntheticFileType.Q4_K_M || fileType == SyntheticFileType.Q5_K_M)
                && useMoreBits(layer, blockCount)) {
            type = GgmlType.Q6_K;
        }
        return compatible(type, rowLength);
    }

    /**
     * llama.cpp's {@code use_more_bits}: the first and last eighth of the blocks, and every third block between them.
     */
    public static boolean useMoreBits(int layer, int blockCount) {
        return layer < blockCount / 8 || layer >= 7 * blockCount / 8 || (layer - blockCount / 8) % 3 == 2;
    }

    /** llama.cpp's fallback for a K-quant whose super-block does not divide the row. */
    private static GgmlType compatible(GgmlType type, int rowLength) {
        if (rowLength % type.blockSize() == 0) {
            return type;
        }
        GgmlType fallback = switch (type) {
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> throw new SyntheticModelException("row length " + rowLength + " is not a whole number of "
                    + type + " blocks of " + type.blockSize());
        };
        if (rowLength % fallback.blockSize() != 0) {
            return GgmlType.F16;
        }
        return fallback;
    }
}
