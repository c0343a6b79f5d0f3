package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q5_1: blocks of 32 as {@code x = q·d + m} with 5-bit {@code q}. Layout ({@code block_q5_1}, 24 bytes): fp16
 * {@code d}, fp16 {@code m}, a little-endian 32-bit word of fifth bits (bit {@code i} for element {@code i}), then
 * 16 bytes of low nibbles (elements 0..15 low, 16..31 high).
 */
final class Q5_1Codec extends AbstractBlockCodec {
    private static final int QK = 32;
    private static final int QH = 4;
    private static final int QS = 8;

    Q5_1Codec() {
        super(GgmlType.Q5_1);
    }

    /** ggml's {@code dequantize_row_q5_1}. */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.half(src, offset);
        float m = LittleEndian.half(src, offset + 2);
        int qh = src.get(LittleEndian.INT, offset + QH);
        for (int j = 0; j < QK / 2; ++j) {
            int xh0 = ((qh >>> j) << 4) & 0x10;
            int xh1 = (qh >>> (j + 12)) & 0x10;
            int packed = LittleEndian.u8(src, offset + QS + j);
            int x0 = (packed & 0x0F) | xh0;
            int x1 = (packed >> 4) | xh1;
            dst[dstOffset + j] = x0 * d + m;
            dst[dstOffset + j + QK / 2] = x1 * d + m;
        }
    }

    /** ggml's {@code quantize_row_q5_1_ref}: 32 levels spanning [min, max]. */
    @Override
    void quantizeBlock(float[] src, int srcOffset, byte[] block) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < QK; j++) {
            float v = src[srcOffset + j];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
        }
        float d = (max - min) / ((1 << 5) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        LittleEndian.putHalf(block, 0, d);
        LittleEndian.putHalf(block, 2, min);
        int qh = 0;
        for (int j = 0; j < QK / 2; ++j) {
            float x0 = (src[srcOffset + j] - min) * id;
            float x1 = (src[srcOffset + QK / 2 + j] - min) * id;
            // C stores (uint8_t)(x + 0.5f) with no clamp: x never exceeds 31 by more than rounding noise.
            int xi0 = (int) (x0 + 0.5f) & 0xFF;
            int xi1 = (int) (x1 + 0.5f) & 0xFF;
            block[QS + j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10) >> 4) << j;
            qh |= ((xi1 & 0x10) >> 4) << (j + QK / 2);
        }
        LittleEndian.putInt(block, QH, qh);
    }
}
