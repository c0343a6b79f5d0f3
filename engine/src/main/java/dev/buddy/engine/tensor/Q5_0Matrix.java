package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q5_0 weights: {@code block_q5_0}: fp16 d, qh[4] (bit j is the fifth bit of element j), qs[16] (low nibbles as in
 * Q4_0); 22 bytes per 32 elements, dequantised as {@code (q - 16) * d}. Products follow {@code ggml_vec_dot_q5_0_q8_0}:
 * the input is quantised to Q8_0, each block is an exact integer dot of the unpacked quants with the input quants,
 * scaled by {@code d_w * d_x} and summed in float.
 *
 * <p>Kernels: {@link LegacyQuantKernels} (scalar reference, float-lane SIMD at 128/256 bits, the 256-bit kernels at
 * 512), in ggml's AVX2 order bit for bit, at every width and for any number of tokens; why float lanes, and what
 * they cost against the earlier (inexact) kernels, is measured there.
 */
final class Q5_0Matrix extends WeightMatrix implements LanePrompt.Rows {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 22;

    Q5_0Matrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q5_0, rows, cols, data, width);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_0;
    }

    /** The two quants held by byte j of the block at {@code bo}: element j (low) and element j+16 (high). */
    private int lowQuant(long bo, int j) {
        int qh = data.get(INT, bo + 2);
        return ((data.get(BYTE, bo + 6 + j) & 0x0F) | (((qh >>> j) << 4) & 0x10)) - 16;
    }

    private int highQuant(long bo, int j) {
        int qh = data.get(INT, bo + 2);
        return (((data.get(BYTE, bo + 6 + j) >> 4) & 0x0F) | ((qh >>> (j + 12)) & 0x10)) - 16;
    }

    /** {@code dequantize_row_q5_0}: {@code (q - 16) * d}. */
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
        return LegacyQuantKernels.scalarDot(LegacyQuantKernels.Layout.Q5_0, data, rowOffset(r), cols / 32, in, token,
                false);
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        int blocks = cols / 32;
        return switch (width) {
            case W128 -> LegacyQuantKernels.V128.dot(LegacyQuantKernels.Layout.Q5_0, data, rowOffset(r), blocks,
                    in.permuted, token * cols, in.d, in.s, token * blocks, false);
            case W256, W512 -> LegacyQuantKernels.V256.dot(LegacyQuantKernels.Layout.Q5_0, data, rowOffset(r), blocks,
                    in.permuted, token * cols, in.d, in.s, token * blocks, false);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    @Override
    public void laneRow(int r, float[] dst, int at, float[] d, float[] m, int dAt) {
        LegacyQuantKernels.V256.laneWeights(LegacyQuantKernels.Layout.Q5_0, data, rowOffset(r), cols / 32, dst, at, d, m,
                dAt);
    }

    @Override
    public boolean laneMin() {
        return false;
    }

    @Override
    boolean readsPermutedInput(int tokens) {
        return true;
    }
}
