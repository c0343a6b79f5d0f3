package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q8_1: blocks of 32 as {@code x = q·d} with int8 {@code q}, plus {@code s = d·Σq}, which llama.cpp's Q4_1/Q5_1 dot
 * products use to fold in the other operand's min. Layout ({@code block_q8_1}, 36 bytes): fp16 {@code d}, fp16
 * {@code s}, 32 int8 quants.
 */
final class Q8_1Codec extends AbstractBlockCodec {
    private static final int QK = 32;
    private static final int QS = 4;

    Q8_1Codec() {
        super(GgmlType.Q8_1);
    }

    /**
     * {@code q·d}, as Q8_0. ggml itself registers no Q8_1 dequantiser (the type only ever feeds dot products), so this
     * is the definition those dot products imply.
     */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.half(src, offset);
        for (int j = 0; j < QK; ++j) {
            dst[dstOffset + j] = LittleEndian.i8(src, offset + QS + j) * d;
        }
    }

    /** ggml's {@code quantize_row_q8_1_ref}. */
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
        int sum = 0;
        for (int j = 0; j < QK / 2; ++j) {
            float v0 = src[srcOffset + j] * id;
            float v1 = src[srcOffset + QK / 2 + j] * id;
            byte q0 = (byte) QuantMath.roundHalfAwayFromZero(v0);
            byte q1 = (byte) QuantMath.roundHalfAwayFromZero(v1);
            block[QS + j] = q0;
            block[QS + QK / 2 + j] = q1;
            sum += q0;
            sum += q1;
        }
        LittleEndian.putHalf(block, 2, sum * d);
    }
}
