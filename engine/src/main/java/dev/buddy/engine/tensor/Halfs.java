package dev.buddy.engine.tensor;

/** Conversions between float and the 16-bit float formats, with the rounding ggml uses. */
final class Halfs {
    private Halfs() {
    }

    /** fp16 bits to float (exact). */
    static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** Rounds to the nearest fp16 value, ties to even: F16C's {@code vcvtps2ph} with mode 0, as ggml uses. */
    static float roundToF16(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    /** bf16 bits to float (exact). */
    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * Float to bf16 bits as {@code ggml_compute_fp32_to_bf16}: round to nearest, ties to even, NaN kept quiet.
     */
    static short floatToBf16(float x) {
        int u = Float.floatToRawIntBits(x);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    /** Rounds to the nearest bf16 value (as a float). */
    static float roundToBf16(float x) {
        return bf16ToFloat(floatToBf16(x));
    }
}
