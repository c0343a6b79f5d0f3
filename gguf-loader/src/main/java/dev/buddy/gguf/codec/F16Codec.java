package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/** F16: IEEE binary16, converted as ggml's {@code GGML_FP16_TO_FP32} / {@code GGML_FP32_TO_FP16} (see {@link Half}). */
final class F16Codec extends AbstractBlockCodec {
    F16Codec() {
        super(GgmlType.F16);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        dst[dstOffset] = LittleEndian.half(src, offset);
    }

    @Override
    void quantizeBlock(float[] src, int srcOffset, byte[] block) {
        LittleEndian.putHalf(block, 0, src[srcOffset]);
    }

    @Override
    boolean acceptsNonFinite() {
        return true;
    }
}
