package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q5_0: blocks of 32 as {@code x = (q - 16)·d} with 5-bit {@code q}. Layout ({@code block_q5_0}, 22 bytes): fp16
 * {@code d}; a little-endian 32-bit word whose bit {@code i} is the fifth bit of element {@code i}; 16 bytes of low
 * nibbles (elements 0..15 low, 16..31 high).
 */
final class Q5_0Codec extends AbstractBlockCodec {
    private static final int QK = 32;
    private static final int QH = 2;
    private static final int QS = 6;

    Q5_0Codec() {
        super(GgmlType.Q5_0);
    }

    /** ggml's {@code dequantize_row_q5_0}. */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.half(src, offset);
        int qh = src.get(LittleEndian.INT, offset + QH);
        for (int j = 0; j < QK / 2; ++j) {
            int xh0 = ((qh >>> j) << 4) & 0x10;
            int xh1 = (qh >>> (j + 12)) & 0x10;
            int packed = LittleEndian.u8(src, offset + QS + j);
            int x0 = ((packed & 0x0F) | xh0) - 16;
            int x1 = ((packed >> 4) | xh1) - 16;
            dst[dstOffset + j] = x0 * d;
            dst[dstOffset + j + QK / 2] = x1 * d;
        }
    }

    /** ggml's {@code quantize_row_q5_0_ref}: like Q4_0, the largest-magnitude element lands on level -16 exactly. */
    @Override
    void quantizeBlock(float[] src, int srcOffset, byte[] block) {
        float amax = 0.0f;
        float max = 0.0f;
        for (int j = 0; j < QK; j++) {
            float v = src[srcOffset + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        LittleEndian.putHalf(block, 0, d);
        int qh = 0;
        for (int j = 0; j < QK / 2; ++j) {
            float x0 = src[srcOffset + j] * id;
            float x1 = src[srcOffset + QK / 2 + j] * id;
            int xi0 = Math.min(31, (int) (x0 + 16.5f));
            int xi1 = Math.min(31, (int) (x1 + 16.5f));
            block[QS + j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10) >> 4) << j;
            qh |= ((xi1 & 0x10) >> 4) << (j + QK / 2);
        }
        LittleEndian.putInt(block, QH, qh);
    }
}
