package dev.buddy.opencl;

/**
 * The CPU backend's activation conversions (ggml-cpu's x86 quantize_row_q8_0/q8_1, quantize_row_q8_K_ref, and
 * F16 rounding), written out for the tests from ggml's definitions.
 */
final class InputReference {
    final InputFormat format;
    final byte[] q;
    final float[] d;
    final float[] s;
    final int[] bsums;
    final float[] halves;

    private InputReference(InputFormat format, int n) {
        this.format = format;
        this.q = new byte[n];
        this.d = new float[Math.max(1, n / 32)];
        this.s = new float[Math.max(1, n / 32)];
        this.bsums = new int[Math.max(1, n / 16)];
        this.halves = new float[n];
    }

    static InputReference of(InputFormat format, float[] x) {
        InputReference r = new InputReference(format, x.length);
        switch (format) {
            case FLOAT -> { }
            case HALF -> {
                for (int i = 0; i < x.length; i++) {
                    r.halves[i] = Float.float16ToFloat(Float.floatToFloat16(x[i]));
                }
            }
            case Q8_0, Q8_1 -> {
                for (int b = 0; b < x.length / 32; b++) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(x[b * 32 + j]));
                    }
                    float scale = amax / 127f;
                    float inverse = amax != 0 ? 127f / amax : 0f;
                    int sum = 0;
                    for (int j = 0; j < 32; j++) {
                        int v = Math.max(-128, Math.min(127, (int) Math.rint(x[b * 32 + j] * inverse)));
                        r.q[b * 32 + j] = (byte) v;
                        sum += v;
                    }
                    r.d[b] = half(scale);
                    r.s[b] = half(scale * sum);
                }
            }
            case Q8_K -> {
                for (int b = 0; b < x.length / 256; b++) {
                    float max = 0;
                    float amax = 0;
                    for (int j = 0; j < 256; j++) {
                        float ax = Math.abs(x[b * 256 + j]);
                        if (ax > amax) {
                            amax = ax;
                            max = x[b * 256 + j];
                        }
                    }
                    if (amax == 0) {
                        continue; // d, q and sums stay zero
                    }
                    float iscale = -127f / max;
                    for (int j = 0; j < 256; j++) {
                        int v = Math.min(127, (int) Math.rint(iscale * x[b * 256 + j]));
                        r.q[b * 256 + j] = (byte) v;
                        r.bsums[b * 16 + j / 16] += v;
                    }
                    r.d[b] = 1f / iscale;
                }
            }
        }
        return r;
    }

    /** The activation value the dot products see for element i. */
    double value(int i) {
        return switch (format) {
            case FLOAT -> throw new IllegalStateException("float input has no converted values");
            case HALF -> halves[i];
            case Q8_0, Q8_1 -> (double) q[i] * d[i / 32];
            case Q8_K -> (double) q[i] * d[i / 256];
        };
    }

    private static float half(float f) {
        return Float.float16ToFloat(Float.floatToFloat16(f));
    }
}
