package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q4_0: blocks of 32 as {@code x = (q - 8)·d} with 4-bit {@code q}. Layout ({@code block_q4_0}, 18 bytes): fp16
 * {@code d}, then 16 bytes whose low nibbles hold elements 0..15 and high nibbles 16..31.
 */
final class Q4_0Codec extends AbstractBlockCodec {
    private static final int QK = 32;
    private static final int QS = 2;

    Q4_0Codec() {
        super(GgmlType.Q4_0);
    }

    /** ggml's {@code dequantize_row_q4_0}. */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.half(src, offset);
        for (int j = 0; j < QK / 2; ++j) {
            int packed = LittleEndian.u8(src, offset + QS + j);
            int x0 = (packed & 0x0F) - 8;
            int x1 = (packed >> 4) - 8;
            dst[dstOffset + j] = x0 * d;
            dst[dstOffset + j + QK / 2] = x1 * d;
        }
    }

    /**
     * ggml's {@code quantize_row_q4_0_ref}: the scale maps the element of largest magnitude to level -8 exactly, so
     * the sign of the scale follows that element and the opposite extreme may clamp at level 7.
     */
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
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        LittleEndian.putHalf(block, 0, d);
        for (int j = 0; j < QK / 2; ++j) {
            float x0 = src[srcOffset + j] * id;
            float x1 = src[srcOffset + QK / 2 + j] * id;
            // C: MIN(15, (int8_t)(x + 8.5f)); the float-to-int conversion truncates toward zero.
            int xi0 = Math.min(15, (int) (x0 + 8.5f));
            int xi1 = Math.min(15, (int) (x1 + 8.5f));
            block[QS + j] = (byte) (xi0 | xi1 << 4);
        }
    }
}
