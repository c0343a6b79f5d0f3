package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * What the K-quant formats (Q4_K, Q5_K, Q6_K) share: Q8_K activations, and prompts of at least
 * {@link KQuantPromptGemm#MIN_TOKENS} tokens at 256/512 bits run through {@link KQuantPromptGemm}, for which each
 * format supplies its weights as exact integers in ggml's lane order and, where it has one, its min term's inputs
 * (Q4_K matrices in row groups run their own prompt tile instead, {@link Q4_KMatrix#simdRows}).
 */
abstract sealed class KQuantMatrix extends WeightMatrix permits Q4_KMatrix, Q5_KMatrix, Q6_KMatrix {

    KQuantMatrix(String name, GgmlType type, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, type, rows, cols, data, width);
    }

    @Override
    public final ActivationFormat activationFormat() {
        return ActivationFormat.Q8_K;
    }

    @Override
    void simdRows(QuantizedInput in, int rowFrom, int rowTo, float[] out, int outOffset) {
        if ((width == VectorWidth.W256 || width == VectorWidth.W512)
                && in.tokens() >= KQuantPromptGemm.MIN_TOKENS) {
            KQuantPromptGemm.rows(this, in, rowFrom, rowTo, out, outOffset);
        } else if (this instanceof RowPairs.Kernel pairs && (width == VectorWidth.W256 || width == VectorWidth.W512)) {
            // Q4_K and Q6_K: two rows per single-token kernel call
            RowPairs.rows(this, pairs, in, rowFrom, rowTo, out, outOffset);
        } else {
            super.simdRows(in, rowFrom, rowTo, out, outOffset);
        }
    }

    /**
     * Writes super-blocks {@code [sb, sb + count)} of row {@code r} as exact integer weights in lane order
     * ({@code dst[off + 256 s + 32 g + 8 k + j]} = element {@code 4j + k} of 32-element group g of super-block
     * {@code sb + s}, times its integer scale) and their fp16 {@code d} as float into {@code ds[dOff + s]}.
     */
    abstract void laneWeights(int r, int sb, int count, float[] dst, int off, float[] ds, int dOff);

    /**
     * {@link #laneWeights} for rows {@code [r0, r0 + count)}: row {@code r0 + i} to {@code dst[off + i * rowStride ..]}
     * and {@code ds[dOff + i * dStride ..]}. Whole row groups in range ({@link #laneGroupRows}) go a group at a time
     * ({@link #laneWeightGroup}), other rows one by one.
     */
    final void laneWeightRows(int r0, int count, int sb, int blocks, float[] dst, int off, int rowStride, float[] ds,
            int dOff, int dStride) {
        int group = laneGroupRows();
        int i = 0;
        while (i < count) {
            int r = r0 + i;
            if (group > 0 && r % group == 0 && i + group <= count) {
                laneWeightGroup(r, sb, blocks, dst, off + i * rowStride, rowStride, ds, dOff + i * dStride, dStride);
                i += group;
            } else {
                laneWeights(r, sb, blocks, dst, off + i * rowStride, ds, dOff + i * dStride);
                i++;
            }
        }
    }

    /** Rows of the groups this matrix's weights are stored in ({@link #laneWeightGroup}), or 0 when not grouped. */
    int laneGroupRows() {
        return 0;
    }

    /**
     * {@link #laneWeights} for the whole row group that starts at row {@code r}: row {@code r + i} to
     * {@code dst[off + i * rowStride ..]} and {@code ds[dOff + i * dStride ..]}; only called when
     * {@link #laneGroupRows} is not 0.
     */
    void laneWeightGroup(int r, int sb, int blocks, float[] dst, int off, int rowStride, float[] ds, int dOff,
            int dStride) {
        throw new IllegalStateException(name + " is not stored in row groups");
    }

    /**
     * How many float lanes ggml accumulates the min term in: 4 for Q4_K (lane k takes groups 2k and 2k+1, reduced
     * as {@code (m0 + m2) + (m1 + m3)}), 1 for Q5_K (one scalar over all eight groups), 0 for Q6_K.
     */
    abstract int minLaneCount();

    /**
     * Writes the eight 6-bit mins of super-blocks {@code [sb, sb + count)} of row {@code r} into
     * {@code mins[off + 8 s ..]} and their fp16 {@code dmin} as float into {@code dmins[dOff + s]}; only called where
     * {@link #minLaneCount()} is positive. Q4_K and Q5_K blocks both start with d, dmin and the 12 scale bytes.
     */
    void mins(int r, int sb, int count, int[] mins, int off, float[] dmins, int dOff) {
        Q4_KMatrix.mins(data, rowOffset(r), type.bytesPerBlock(), sb, count, mins, off, dmins, dOff);
    }
}
