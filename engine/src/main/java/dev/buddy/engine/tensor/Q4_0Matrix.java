package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q4_0 weights: {@code block_q4_0}: fp16 d, qs[16] (element j in the low nibble of qs[j], element j+16 in the high
 * nibble); 18 bytes per 32 elements, dequantised as {@code (q - 8) * d}. Products follow {@code
 * ggml_vec_dot_q4_0_q8_0}: the input is quantised to Q8_0, each block is an exact integer dot of the unpacked quants
 * with the input quants, scaled by {@code d_w * d_x} and summed in float.
 *
 * <p>Kernels: {@link LegacyQuantKernels} (scalar reference, float-lane SIMD at 128/256 bits, the 256-bit kernels at
 * 512), in ggml's AVX2 order bit for bit (the vec_dot order, or for 8k rows the repacked gemv/gemm order, see
 * {@link #wholeBlockSums}), at every width and for any number of tokens; why float lanes, and what they cost
 * against the earlier (inexact) kernels, is measured there. Single tokens on matrices of 8k rows run eight rows at a
 * time through {@link Q4_0RowGroups}, one accumulator lane per row as in ggml's repacked gemv.
 */
final class Q4_0Matrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 18;

    /**
     * llama.cpp b4916 (x86 with AVX2) repacks a Q4_0 matrix whose row count is a multiple of 8 into
     * {@code block_q4_0x8} and multiplies it with {@code ggml_gemv_q4_0_8x8_q8_0} / {@code ggml_gemm_q4_0_8x8_q8_0}:
     * one accumulator per (row, token) fed with whole-block integer sums. Other row counts go through
     * {@code ggml_vec_dot_q4_0_q8_0} (tinyBLAS for batches, same order). Measured on the synthetic llama model: with
     * the vec_dot order every row-multiple-of-8 matrix left logits 1e-6 apart; with this split they are identical.
     */
    private final boolean wholeBlockSums;

    Q4_0Matrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q4_0, rows, cols, data, width);
        this.wholeBlockSums = rows % 8 == 0;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_0;
    }

    /** The two quants held by byte j of the block at {@code bo}: element j (low) and element j+16 (high). */
    private int lowQuant(long bo, int j) {
        return (data.get(BYTE, bo + 2 + j) & 0x0F) - 8;
    }

    private int highQuant(long bo, int j) {
        return ((data.get(BYTE, bo + 2 + j) >> 4) & 0x0F) - 8;
    }

    /** {@code dequantize_row_q4_0}: {@code (q - 8) * d}. */
    @Override
    public void row(int r, float[] dst, int dstOffset) {
        long off = rowOffset(r);
        for (int b = 0; b < cols / 32; b++) {
            long bo = off + (long) b * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo));
            int o = dstOffset + b * 32;
            for (int j = 0; j < 16; j++) {
                dst[o + j] = lowQuant(bo, j) * d;
                dst[o + j + 16] = highQuant(bo, j) * d;
            }
        }
    }

    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        return LegacyQuantKernels.scalarDot(LegacyQuantKernels.Layout.Q4_0, data, rowOffset(r), cols / 32, in, token,
                wholeBlockSums);
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        int blocks = cols / 32;
        return switch (width) {
            case W128 -> LegacyQuantKernels.V128.dot(LegacyQuantKernels.Layout.Q4_0, data, rowOffset(r), blocks,
                    in.permuted, token * cols, in.d, in.s, token * blocks, wholeBlockSums);
            case W256, W512 -> LegacyQuantKernels.V256.dot(LegacyQuantKernels.Layout.Q4_0, data, rowOffset(r), blocks,
                    in.permuted, token * cols, in.d, in.s, token * blocks, wholeBlockSums);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    @Override
    void simdDot4(int r, QuantizedInput in, int token, float[] out, int outIndex) {
        switch (width) {
            case W256, W512 -> LegacyQuantKernels.V256.dot4(LegacyQuantKernels.Layout.Q4_0, data, rowOffset(r),
                    cols / 32, in, token, out, outIndex, rows, wholeBlockSums);
            default -> super.simdDot4(r, in, token, out, outIndex);
        }
    }

    @Override
    boolean readsPermutedInput(int tokens) {
        return true;
    }

    @Override
    boolean readsBlockSums() {
        return wholeBlockSums;
    }

    /**
     * Per-thread scratch of the 8-row kernel, so that a decode step allocates nothing: its block scales in
     * {@code [0, 8)}, its eight results in {@code [8, 16)}.
     */
    private static final ThreadLocal<float[]> GROUP_SCRATCH = ThreadLocal.withInitial(() -> new float[16]);

    /**
     * Tokens that the 4-token tile does not take (every token of a decode step) run eight rows at a time through
     * {@link Q4_0RowGroups} when this matrix sums whole blocks; its per-row results are the single-row kernel's bits.
     *
     * <p>The eight rows of a group are spread over the range, {@code (rowTo - rowFrom) / 8} rows apart, not
     * adjacent: eight adjacent rows are eight streams a few hundred bytes to a page apart, which this machine's
     * prefetchers follow badly. Measured with the kernel alone on 8192x2048 Q4_0 (one thread, alternating runs,
     * thread CPU time): adjacent rows 2.67 GB/s, rows 1024 apart 3.77 GB/s (1.41x), rows 8 apart 3.45 GB/s.
     */
    @Override
    void simdRows(QuantizedInput in, int rowFrom, int rowTo, float[] out, int outOffset) {
        int tokens = in.tokens();
        if (!wholeBlockSums || width == VectorWidth.W128 || tokens >= 4) {
            super.simdRows(in, rowFrom, rowTo, out, outOffset);
            return;
        }
        int blocks = cols / 32;
        float[] scratch = GROUP_SCRATCH.get();
        int groups = (rowTo - rowFrom) / Q4_0RowGroups.ROWS;
        long stride = groups * rowBytes;
        for (int t = 0; t < tokens; t++) {
            int base = outOffset + t * rows;
            for (int g = 0; g < groups; g++) {
                int r = rowFrom + g;
                Q4_0RowGroups.dot8(data, rowOffset(r), stride, blocks, in.qs, t * cols, in.d, in.blockSums,
                        t * blocks, scratch, scratch, Q4_0RowGroups.ROWS);
                for (int k = 0; k < Q4_0RowGroups.ROWS; k++) {
                    out[base + r + k * groups] = scratch[Q4_0RowGroups.ROWS + k];
                }
            }
            for (int r = rowFrom + groups * Q4_0RowGroups.ROWS; r < rowTo; r++) {
                out[base + r] = simdDot(r, in, t);
            }
        }
    }
}
