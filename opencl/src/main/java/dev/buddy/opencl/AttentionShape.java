package dev.buddy.opencl;

/**
 * The head geometry the RoPE and attention kernels need.
 *
 * @param heads     query heads ({@code <arch>.attention.head_count})
 * @param kvHeads   key/value heads ({@code <arch>.attention.head_count_kv}); divides {@code heads}
 * @param headDim   elements per head ({@code <arch>.attention.key_length})
 * @param ropeDims  how many leading elements of each head rotate ({@code <arch>.rope.dimension_count})
 * @param neox      true for NEOX half-split pairs (Qwen), false for interleaved pairs (Llama)
 */
public record AttentionShape(int heads, int kvHeads, int headDim, int ropeDims, boolean neox) {
    public AttentionShape {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("head_count " + heads + " must be a positive multiple of head_count_kv "
                    + kvHeads);
        }
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("head dimension must be positive and even, got " + headDim);
        }
        if (ropeDims <= 0 || ropeDims % 2 != 0 || ropeDims > headDim) {
            throw new IllegalArgumentException("rope dimension count " + ropeDims + " must be even and in (0, "
                    + headDim + "]");
        }
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }
}
