package dev.buddy.gguf.codec;

/**
 * IEEE binary16 ("fp16", ggml's {@code ggml_half}) and bfloat16 conversions, bit-exact with ggml's scalar code
 * ({@code ggml_compute_fp16_to_fp32}, {@code ggml_compute_fp32_to_fp16}, {@code ggml_compute_bf16_to_fp32} and
 * {@code ggml_compute_fp32_to_bf16} in ggml-impl.h).
 *
 * <p>Values are passed as the raw 16-bit pattern in a {@code short}. For every non-NaN input the fp16 conversions agree
 * with {@link Float#float16ToFloat} and {@link Float#floatToFloat16} (both round to nearest, ties to even); they differ
 * only in NaN payloads, where ggml's choices are reproduced here: fp32-to-fp16 turns every NaN into the canonical quiet
 * NaN {@code 0x7E00} (sign kept), and fp16-to-fp32 keeps the payload and sets the quiet bit, as the x86 multiply in
 * ggml's widening does.
 */
public final class Half {
    private static final int HALF_EXPONENT_MASK = 0x7C00;
    private static final int HALF_MANTISSA_MASK = 0x03FF;

    private Half() {}

    /** Widens an fp16 bit pattern to float (exact for every non-NaN value). */
    public static float toFloat(short half) {
        int bits = half & 0xFFFF;
        boolean isNaN = (bits & HALF_EXPONENT_MASK) == HALF_EXPONENT_MASK && (bits & HALF_MANTISSA_MASK) != 0;
        if (isNaN) {
            int sign = (bits & 0x8000) << 16;
            return Float.intBitsToFloat(sign | 0x7FC00000 | (bits & HALF_MANTISSA_MASK) << 13);
        }
        return Float.float16ToFloat(half);
    }

    /**
     * Narrows a float to fp16, rounding to nearest with ties to even; overflow gives infinity, NaN gives {@code 0x7E00}
     * with the input's sign. A line-by-line port of ggml's {@code ggml_compute_fp32_to_fp16} (after Maratyszcza's FP16
     * library), which rounds by letting the float adder do it: adding a power of two aligns the mantissa so that the
     * hardware's round-to-nearest-even drops exactly the bits fp16 cannot hold.
     */
    public static short fromFloat(float f) {
        final float scaleToInf = 0x1.0p+112f;
        final float scaleToZero = 0x1.0p-110f;
        float base = (Math.abs(f) * scaleToInf) * scaleToZero;

        int w = Float.floatToRawIntBits(f);
        int shl1W = w + w;
        int sign = w & 0x80000000;
        int bias = shl1W & 0xFF000000;
        if (Integer.compareUnsigned(bias, 0x71000000) < 0) {
            bias = 0x71000000;
        }

        base = Float.intBitsToFloat((bias >>> 1) + 0x07800000) + base;
        int bits = Float.floatToRawIntBits(base);
        int exponentBits = (bits >>> 13) & 0x00007C00;
        int mantissaBits = bits & 0x00000FFF;
        int nonSign = exponentBits + mantissaBits;
        boolean isNaN = Integer.compareUnsigned(shl1W, 0xFF000000) > 0;
        return (short) ((sign >>> 16) | (isNaN ? 0x7E00 : nonSign));
    }

    /** Widens a bfloat16 bit pattern to float (always exact: bf16 is the top half of a float). */
    public static float bf16ToFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xFFFF) << 16);
    }

    /**
     * Narrows a float to bfloat16 as ggml does: round to nearest, ties to even, overflowing to infinity; a NaN is
     * truncated and forced quiet (bit 6 of the result set), so a NaN never rounds into infinity.
     */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 64);
        }
        return (short) ((bits + (0x7FFF + ((bits >>> 16) & 1))) >>> 16);
    }
}
