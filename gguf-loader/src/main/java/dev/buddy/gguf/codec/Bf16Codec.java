package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/** BF16: bfloat16, converted as ggml's {@code GGML_BF16_TO_FP32} / {@code GGML_FP32_TO_BF16} (see {@link Half}). */
final class Bf16Codec extends AbstractBlockCodec {
    Bf16Codec() {
        super(GgmlType.BF16);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        dst[dstOffset] = Half.bf16ToFloat(src.get(LittleEndian.SHORT, offset));
    }

    @Override
    void quantizeBlock(float[] src, int srcOffset, byte[] block) {
        LittleEndian.putShort(block, 0, Half.floatToBf16(src[srcOffset]));
    }

    @Override
    boolean acceptsNonFinite() {
        return true;
    }
}
