package dev.buddy.engine.tensor;

/**
 * The elementwise functions of llama.cpp's CPU backend as its x86 AVX2/FMA build computes them, so that softmax and
 * SiLU round exactly as there. ggml does not call libm's {@code expf} on that build but its own polynomial
 * {@code ggml_v_expf} (from ARM's optimized-routines, at most 1.46 ulp from exp), 8 lanes at a time; a value that
 * differs from libm's in the last bit is enough to flip an activation's int8 rounding later and move a logit by
 * hundredths, so Buddy evaluates the same polynomial with the same fused multiply-adds.
 */
public final class GgmlMath {
    private GgmlMath() {}

    /**
     * Softmax and SiLU run in {@link GgmlVectorMath} when the preferred vector width holds ggml's 8 float lanes (the
     * check stays here so that the vector class is never loaded where the Vector API is absent).
     */
    private static final boolean VECTOR = VectorWidth.preferred().bits() >= 256;

    /** ggml's AVX2 {@code ggml_v_expf}, one lane. */
    public static float expf(float x) {
        final float r = 0x1.8p23f;
        float z = Math.fma(x, 0x1.715476p+0f, r);
        float n = z - r;
        float b = Math.fma(-n, 0x1.7f7d1cp-20f, Math.fma(-n, 0x1.62e4p-1f, x));
        int e = Float.floatToRawIntBits(z) << 23;
        float k = Float.intBitsToFloat(e + Float.floatToRawIntBits(1f));
        float u = b * b;
        float j = Math.fma(Math.fma(Math.fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                Math.fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u, 0x1.ffffecp-1f * b);
        if (!(Math.abs(n) > 126f)) {
            return Math.fma(k, j, k);
        }
        int g = n <= 0f ? 0x82000000 : 0;
        float s1 = Float.intBitsToFloat(g + 0x7f000000);
        if (Math.abs(n) > 192f) {
            return s1 * s1;
        }
        float s2 = Float.intBitsToFloat(e - g);
        return Math.fma(s2, j, s2) * s1;
    }

    /** ggml's AVX2 {@code ggml_v_silu}, one lane: {@code x / (1 + expf(0 - x))}. */
    public static float silu(float x) {
        return x / (1f + expf(0f - x));
    }

    /**
     * {@code gate[i] = silu(gate[i]) * up[i]} for {@code rows} rows of {@code width}: {@code ggml_vec_silu_f32}
     * (the polynomial on runs of 8 from the start of each row, libm's expf on the 0-7 left over) then
     * {@code ggml_mul}.
     */
    public static void siluTimes(float[] gate, float[] up, int rows, int width) {
        if (VECTOR) {
            GgmlVectorMath.siluTimes(gate, up, rows, width);
        } else {
            siluTimesScalar(gate, up, rows, width);
        }
    }

    /** {@link #siluTimes} one element at a time: the reference the vector version is checked against. */
    static void siluTimesScalar(float[] gate, float[] up, int rows, int width) {
        int vectorPart = width & ~7;
        for (int r = 0; r < rows; r++) {
            int o = r * width;
            for (int i = o; i < o + vectorPart; i++) {
                gate[i] = silu(gate[i]) * up[i];
            }
            siluTimesTail(gate, up, o + vectorPart, o + width);
        }
    }

    /** The elements of a row past its last run of 8, {@code [from, to)}: libm's expf, as ggml's leftover loop. */
    static void siluTimesTail(float[] gate, float[] up, int from, int to) {
        for (int i = from; i < to; i++) {
            float g = gate[i];
            gate[i] = g / (1.0f + (float) Math.exp(-g)) * up[i];
        }
    }

    /**
     * In-place softmax of {@code x[offset, offset + n)} as ggml's {@code soft_max} for one row: the maximum, then
     * {@code expf(x - max)} in runs of 8 from the row start, each run's 8 values added as {@code hsum} in float and
     * the run sums accumulated in double (llama.cpp pads the row to a multiple of 32 with masked entries, whose
     * exponentials are exactly 0, so a short last run adds zeros), then every value times {@code (float) (1 / sum)}.
     */
    public static void softmax(float[] x, int offset, int n) {
        if (VECTOR) {
            GgmlVectorMath.softmax(x, offset, n);
        } else {
            softmaxScalar(x, offset, n);
        }
    }

    /** {@link #softmax} one element at a time: the reference the vector version is checked against. */
    static void softmaxScalar(float[] x, int offset, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        double sum = 0;
        for (int start = 0; start < n; start += 8) {
            sum += expRun(x, offset, start, n, max);
        }
        float inverse = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
            x[offset + i] *= inverse;
        }
    }

    /**
     * The run of 8 from {@code start}: each element inside the row replaced by {@code expf(x - max)}, and the run's
     * sum as ggml's {@code hsum} adds it, {@code ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))}, with 0 for
     * lanes past the row's end.
     */
    static float expRun(float[] x, int offset, int start, int n, float max) {
        float l0 = lane(x, offset, start, n, max, 0);
        float l1 = lane(x, offset, start, n, max, 1);
        float l2 = lane(x, offset, start, n, max, 2);
        float l3 = lane(x, offset, start, n, max, 3);
        float l4 = lane(x, offset, start, n, max, 4);
        float l5 = lane(x, offset, start, n, max, 5);
        float l6 = lane(x, offset, start, n, max, 6);
        float l7 = lane(x, offset, start, n, max, 7);
        return ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7));
    }

    /** Replaces element start + l (when inside the row) by its exponential and returns it; 0 past the row's end. */
    private static float lane(float[] x, int offset, int start, int n, float max, int l) {
        int i = start + l;
        if (i >= n) {
            return 0f;
        }
        float e = expf(x[offset + i] - max);
        x[offset + i] = e;
        return e;
    }
}
