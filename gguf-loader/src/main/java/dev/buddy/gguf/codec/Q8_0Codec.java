package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q8_0: blocks of 32 as {@code x = q·d} with int8 {@code q}. Layout ({@code block_q8_0}, 34 bytes): fp16 {@code d},
 * then 32 int8 quants.
 */
final class Q8_0Codec extends AbstractBlockCodec {
    private static final int QK = 32;
    private static final int QS = 2;

    Q8_0Codec() {
        super(GgmlType.Q8_0);
    }

    /** ggml's {@code dequantize_row_q8_0}. */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.half(src, offset);
        for (int j = 0; j < QK; ++j) {
            dst[dstOffset + j] = LittleEndian.i8(src, offset + QS + j) * d;
        }
    }

    /** ggml's {@code quantize_row_q8_0_ref}: {@code d = max|x|/127}, quants rounded half away from zero. */
    @Override
    void quantizeBlock(float[] src, int srcOffset, byte[] block) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) {
            float a = Math.abs(src[srcOffset + j]);
            amax = amax > a ? amax : a;
        }
        float d = amax / ((1 << 7) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        LittleEndian.putHalf(block, 0, d);
        for (int j = 0; j < QK; ++j) {
            float x0 = src[srcOffset + j] * id;
            block[QS + j] = (byte) QuantMath.roundHalfAwayFromZero(x0);
        }
    }
}
