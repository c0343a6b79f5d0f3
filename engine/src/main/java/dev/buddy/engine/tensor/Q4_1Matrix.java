package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q4_1 weights: {@code block_q4_1}: fp16 d, fp16 m, qs[16] (nibbles as in Q4_0); 20 bytes per 32 elements, dequantised
 * as {@code q * d + m}. Products follow {@code ggml_vec_dot_q4_1_q8_1}: the input is quantised to Q8_1, each block is
 * an exact integer dot of the unpacked quants with the input quants, scaled by {@code d_w * d_x}, plus {@code m_w *
 * s_x} for the block offset ({@code s_x} is Q8_1's fp16 {@code d * sum(q)}).
 *
 * <p>Kernels: {@link LegacyQuantKernels} (scalar reference, float-lane SIMD at 128/256 bits, the 256-bit kernels at
 * 512), in ggml's AVX2 order bit for bit, at every width and for any number of tokens; why float lanes, and what
 * they cost against the earlier (inexact) kernels, is measured there.
 */
final class Q4_1Matrix extends WeightMatrix implements LanePrompt.Rows, RowPairs.Kernel {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 20;

    Q4_1Matrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q4_1, rows, cols, data, width);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_1;
    }

    /** The two quants held by byte j of the block at {@code bo}: element j (low) and element j+16 (high). */
    private int lowQuant(long bo, int j) {
        return (data.get(BYTE, bo + 4 + j) & 0x0F);
    }

    private int highQuant(long bo, int j) {
        return ((data.get(BYTE, bo + 4 + j) >> 4) & 0x0F);
    }

    /** {@code dequantize_row_q4_1}: {@code q * d + m}. */
    @Override
    public void row(int r, float[] dst, int dstOffset) {
        long off = rowOffset(r);
        for (int b = 0; b < cols / 32; b++) {
            long bo = off + (long) b * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo));
            float m = Halfs.f16ToFloat(data.get(HALF, bo + 2));
            int o = dstOffset + b * 32;
            for (int j = 0; j < 16; j++) {
                dst[o + j] = lowQuant(bo, j) * d + m;
                dst[o + j + 16] = highQuant(bo, j) * d + m;
            }
        }
    }

    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        return LegacyQuantKernels.scalarDot(LegacyQuantKernels.Layout.Q4_1, data, rowOffset(r), cols / 32, in, token,
                false);
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        int blocks = cols / 32;
        return switch (width) {
            case W128 -> LegacyQuantKernels.V128.dot(LegacyQuantKernels.Layout.Q4_1, data, rowOffset(r), blocks,
                    in.permuted, token * cols, in.d, in.s, token * blocks, false);
            case W256, W512 -> LegacyQuantKernels.V256.dotQ4_1(data, rowOffset(r), blocks, in.qs, token * cols, in.d,
                    in.s, token * blocks);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    /**
     * Single tokens at 256 bits and up run two rows per pass through {@link RowPairs}
     * ({@link LegacyQuantKernels.V256#dotQ4_1Pair}, each row's bits those of {@link LegacyQuantKernels.V256#dotQ4_1}).
     */
    @Override
    void simdRows(QuantizedInput in, int rowFrom, int rowTo, float[] out, int outOffset) {
        if (in.tokens() != 1 || (width != VectorWidth.W256 && width != VectorWidth.W512)) {
            super.simdRows(in, rowFrom, rowTo, out, outOffset);
        } else {
            RowPairs.rows(this, this, in, rowFrom, rowTo, out, outOffset);
        }
    }

    @Override
    public void dotPair(int r, long stride, QuantizedInput in, int token, float[] out, int out0, int out1) {
        int blocks = cols / 32;
        LegacyQuantKernels.V256.dotQ4_1Pair(data, rowOffset(r), stride, blocks, in.qs, token * cols, in.d, in.s,
                token * blocks, out, out0, out1);
    }

    @Override
    public void laneRow(int r, float[] dst, int at, float[] d, float[] m, int dAt) {
        LegacyQuantKernels.V256.laneWeights(LegacyQuantKernels.Layout.Q4_1, data, rowOffset(r), cols / 32, dst, at, d, m,
                dAt);
    }

    @Override
    public boolean laneMin() {
        return true;
    }

    @Override
    boolean readsPermutedInput(int tokens) {
        return true;
    }
}
