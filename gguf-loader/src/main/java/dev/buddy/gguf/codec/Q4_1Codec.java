package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q4_1: blocks of 32 as {@code x = q·d + m} with 4-bit {@code q}. Layout ({@code block_q4_1}, 20 bytes): fp16
 * {@code d}, fp16 {@code m}, then 16 bytes whose low nibbles hold elements 0..15 and high nibbles 16..31.
 */
final class Q4_1Codec extends AbstractBlockCodec {
    private static final int QK = 32;
    private static final int QS = 4;

    Q4_1Codec() {
        super(GgmlType.Q4_1);
    }

    /** ggml's {@code dequantize_row_q4_1}. */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.half(src, offset);
        float m = LittleEndian.half(src, offset + 2);
        for (int j = 0; j < QK / 2; ++j) {
            int packed = LittleEndian.u8(src, offset + QS + j);
            int x0 = packed & 0x0F;
            int x1 = packed >> 4;
            dst[dstOffset + j] = x0 * d + m;
            dst[dstOffset + j + QK / 2] = x1 * d + m;
        }
    }

    /** ggml's {@code quantize_row_q4_1_ref}: 16 levels spanning [min, max]. */
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
        float d = (max - min) / ((1 << 4) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        LittleEndian.putHalf(block, 0, d);
        LittleEndian.putHalf(block, 2, min);
        for (int j = 0; j < QK / 2; ++j) {
            float x0 = (src[srcOffset + j] - min) * id;
            float x1 = (src[srcOffset + QK / 2 + j] - min) * id;
            int xi0 = Math.min(15, (int) (x0 + 0.5f));
            int xi1 = Math.min(15, (int) (x1 + 0.5f));
            block[QS + j] = (byte) (xi0 | xi1 << 4);
        }
    }
}
