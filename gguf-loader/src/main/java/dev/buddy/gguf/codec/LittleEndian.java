package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Unaligned little-endian access to GGUF block data, whatever the platform's byte order. */
final class LittleEndian {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private LittleEndian() {}

    /** The byte at {@code offset} as an unsigned value 0..255 (ggml's {@code uint8_t}). */
    static int u8(MemorySegment segment, long offset) {
        return segment.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    /** The byte at {@code offset} as a signed value -128..127 (ggml's {@code int8_t}). */
    static int i8(MemorySegment segment, long offset) {
        return segment.get(ValueLayout.JAVA_BYTE, offset);
    }

    /** The fp16 at {@code offset}, widened to float as ggml's {@code GGML_FP16_TO_FP32} does. */
    static float half(MemorySegment segment, long offset) {
        return Half.toFloat(segment.get(SHORT, offset));
    }

    static void putShort(byte[] block, int offset, int value) {
        block[offset] = (byte) value;
        block[offset + 1] = (byte) (value >>> 8);
    }

    static void putInt(byte[] block, int offset, int value) {
        putShort(block, offset, value);
        putShort(block, offset + 2, value >>> 16);
    }

    /** Stores {@code value} as fp16, rounded as ggml's {@code GGML_FP32_TO_FP16} rounds. */
    static void putHalf(byte[] block, int offset, float value) {
        putShort(block, offset, Half.fromFloat(value));
    }

    /** Reads back the fp16 stored at {@code offset}, as ggml re-reads {@code y[i].d} after storing it. */
    static float half(byte[] block, int offset) {
        return Half.toFloat((short) ((block[offset] & 0xFF) | (block[offset + 1] << 8)));
    }
}
