package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q8_K: llama.cpp's activation format for K-quant dot products. Super-blocks of 256 as {@code x = d·q} with int8
 * {@code q}, plus the sum of each 16 quants, which lets dot products fold in a weight block's mins. Layout
 * ({@code block_q8_K}, 292 bytes): fp32 {@code d}, 256 int8 quants, 16 little-endian int16 sums.
 */
final class Q8_KCodec extends AbstractBlockCodec {
    private static final int QK_K = 256;
    private static final int QS = 4;
    private static final int BSUMS = 260;

    Q8_KCodec() {
        super(GgmlType.Q8_K);
    }

    /** ggml's {@code dequantize_row_q8_K}. */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = src.get(LittleEndian.FLOAT, offset);
        for (int j = 0; j < QK_K; ++j) {
            dst[dstOffset + j] = d * LittleEndian.i8(src, offset + QS + j);
        }
    }

    /**
     * ggml's {@code quantize_row_q8_K_ref}: the element of largest magnitude maps to ∓127, so that the opposite
     * extreme fits in int8 too. An all-zero block gets {@code d = 0} and zero quants; ggml leaves its sums unwritten,
     * here they are the zeros they would sum to.
     */
    @Override
    void quantizeBlock(float[] x, int xOffset, byte[] block) {
        float max = 0;
        float amax = 0;
        for (int j = 0; j < QK_K; ++j) {
            float ax = Math.abs(x[xOffset + j]);
            if (ax > amax) {
                amax = ax;
                max = x[xOffset + j];
            }
        }
        if (amax == 0) {
            return;
        }
        float iscale = -127.f / max;
        for (int j = 0; j < QK_K; ++j) {
            int v = QuantMath.nearestInt(iscale * x[xOffset + j]);
            block[QS + j] = (byte) Math.min(127, v);
        }
        for (int j = 0; j < QK_K / 16; ++j) {
            int sum = 0;
            for (int ii = 0; ii < 16; ++ii) {
                sum += block[QS + j * 16 + ii];
            }
            LittleEndian.putShort(block, BSUMS + 2 * j, sum);
        }
        LittleEndian.putInt(block, 0, Float.floatToRawIntBits(1 / iscale));
    }
}
