package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/** F32: little-endian IEEE floats, copied bit for bit (NaN payloads included). */
final class F32Codec extends AbstractBlockCodec {
    F32Codec() {
        super(GgmlType.F32);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        dst[dstOffset] = src.get(LittleEndian.FLOAT, offset);
    }

    @Override
    void quantizeBlock(float[] src, int srcOffset, byte[] block) {
        LittleEndian.putInt(block, 0, Float.floatToRawIntBits(src[srcOffset]));
    }

    @Override
    boolean acceptsNonFinite() {
        return true;
    }
}
