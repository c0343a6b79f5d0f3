package dev.buddy.engine.tensor;

/**
 * The summation orders of llama.cpp's float matrix products (ggml b4916, x86 AVX2/FMA/F16C build), as scalar code:
 * attention (a product with the K/V cache) and F32/F16/BF16 weights go through the same kernels. Which
 * kernel ggml runs depends on the batch: one token goes through {@code ggml_vec_dot_f32}/{@code ggml_vec_dot_f16};
 * a batch of two or more goes through llamafile's tinyBLAS wherever it accepts the shapes (it declines single-column
 * products). The orders differ, and with an F16 cache a last-bit difference in a sum can flip the F16 rounding of
 * the softmax weights, so Buddy reproduces whichever one llama.cpp runs.
 *
 * <ul>
 *   <li>{@code ggml_vec_dot_f32}: the first {@code n & ~31} elements in 4 accumulators × 8 lanes by FMA (element i
 *       in lane i mod 8 of accumulator (i / 8) mod 4), reduced as {@code GGML_F32x8_REDUCE}; the rest, as GCC
 *       compiled the scalar tail: runs of 8, then one run of 4, of rounded products added in order, and the last
 *       0-3 elements by scalar FMA.</li>
 *   <li>{@code ggml_vec_dot_f16}: the same 4 × 8 lanes over F16 values (products of two F16 values are exact in
 *       float, so FMA or not does not matter), then the remaining products summed in double.</li>
 *   <li>tinyBLAS ({@code tinyBLAS<8, __m256, ...>}): one accumulator of 8 lanes (element i in lane i mod 8) by FMA,
 *       reduced by its {@code hsum}.</li>
 * </ul>
 */
public final class GgmlSums {
    private GgmlSums() {}

    /** {@code GGML_F32x8_REDUCE} of 4 × 8 lanes held as 32 slots (slot = accumulator * 8 + lane). */
    public static float reduce32(float[] s, int o, int stride) {
        float l0 = (s[o] + s[o + 16 * stride]) + (s[o + 8 * stride] + s[o + 24 * stride]);
        float l1 = (s[o + stride] + s[o + 17 * stride]) + (s[o + 9 * stride] + s[o + 25 * stride]);
        float l2 = (s[o + 2 * stride] + s[o + 18 * stride]) + (s[o + 10 * stride] + s[o + 26 * stride]);
        float l3 = (s[o + 3 * stride] + s[o + 19 * stride]) + (s[o + 11 * stride] + s[o + 27 * stride]);
        float l4 = (s[o + 4 * stride] + s[o + 20 * stride]) + (s[o + 12 * stride] + s[o + 28 * stride]);
        float l5 = (s[o + 5 * stride] + s[o + 21 * stride]) + (s[o + 13 * stride] + s[o + 29 * stride]);
        float l6 = (s[o + 6 * stride] + s[o + 22 * stride]) + (s[o + 14 * stride] + s[o + 30 * stride]);
        float l7 = (s[o + 7 * stride] + s[o + 23 * stride]) + (s[o + 15 * stride] + s[o + 31 * stride]);
        return finishReduce(l0, l1, l2, l3, l4, l5, l6, l7);
    }

    /** The end of {@code GGML_F32x8_REDUCE}: 128-bit halves added lane-wise, then two {@code hadd}s. */
    public static float finishReduce(float l0, float l1, float l2, float l3, float l4, float l5, float l6, float l7) {
        float t0 = l0 + l4;
        float t1 = l1 + l5;
        float t2 = l2 + l6;
        float t3 = l3 + l7;
        return (t0 + t1) + (t2 + t3);
    }

    /** tinyBLAS's {@code hsum(__m256)}: halves added lane-wise, then {@code movehl} and {@code movehdup} steps. */
    public static float tinyBlasHsum(float l0, float l1, float l2, float l3, float l4, float l5, float l6, float l7) {
        float t0 = l0 + l4;
        float t1 = l1 + l5;
        float t2 = l2 + l6;
        float t3 = l3 + l7;
        return (t0 + t2) + (t1 + t3);
    }

    /** The scalar tail of {@code ggml_vec_dot_f32} from element {@code i}, as GCC 10 vectorised it. */
    public static float tailF32(float[] x, int xo, float[] y, int yo, int i, int n, float sum) {
        for (; n - i >= 8; i += 8) {
            for (int j = i; j < i + 8; j++) {
                sum += x[xo + j] * y[yo + j];
            }
        }
        if (n - i >= 4) {
            for (int j = i; j < i + 4; j++) {
                sum += x[xo + j] * y[yo + j];
            }
            i += 4;
        }
        for (; i < n; i++) {
            sum = Math.fma(x[xo + i], y[yo + i], sum);
        }
        return sum;
    }
}
