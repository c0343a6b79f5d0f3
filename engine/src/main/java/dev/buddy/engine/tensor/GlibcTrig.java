package dev.buddy.engine.tensor;

/**
 * Single-precision sine and cosine rounded exactly as glibc's {@code sinf}/{@code cosf} on x86-64 (glibc 2.28 and
 * later, the ARM optimized-routines algorithm, in the FMA build the dynamic loader picks on an AVX2 CPU), because
 * llama.cpp's RoPE takes its angles' cosines and sines from there. Java's {@code (float) Math.cos(x)} is correctly
 * rounded; glibc's is within 0.56 ulp and so differs now and then in the last bit, and one such bit in a rotated
 * query, requantised to 8 bits in the next matrix product, moved the real SmolLM2 model's logits by 0.67.
 *
 * <p>The algorithm: |x| below pi/4 goes straight to the polynomial; below 120 one multiply-subtract reduces it to
 * [-pi/4, pi/4] and a quadrant; larger values are reduced with 4/pi in fixed point. The polynomials run in double
 * with the fused multiply-adds GCC forms from {@code a + b * c} under {@code -mfma}. {@code GlibcTrigProperties}
 * compares every result bit for bit with the C library of the machine running the tests.
 */
public final class GlibcTrig {
    private GlibcTrig() {}

    /** 2/pi scaled by 2^24, so that the quadrant lands in bits 24..31 of the product's integer part. */
    private static final double HPI_INV = 0x1.45F306DC9C883p+23;
    private static final double HPI = 0x1.921FB54442D18p0;
    // Cosine polynomial (c0..c4) and sine polynomial (x + s1 x^3 + ...), from the routine's own table.
    private static final double C0 = 0x1p0;
    private static final double C1 = -0x1.ffffffd0c621cp-2;
    private static final double C2 = 0x1.55553e1068f19p-5;
    private static final double C3 = -0x1.6c087e89a359dp-10;
    private static final double C4 = 0x1.99343027bf8c3p-16;
    private static final double S1 = -0x1.555545995a603p-3;
    private static final double S2 = 0x1.1107605230bc4p-7;
    private static final double S3 = -0x1.994eb3774cf24p-13;
    /** 2 pi / 2^64: the unit of the fixed-point remainder of the large-argument reduction. */
    private static final double PI63 = 0x1.921FB54442D18p-62;
    /** Sign of the sine per quadrant. */
    private static final double[] SIGN = {1.0, -1.0, -1.0, 1.0};
    /** 4/pi in 32-bit windows sliding by 8 bits: word i holds bits 8(i-3) .. 8i+7 of the fraction. */
    private static final int[] INV_PIO4 = {
        0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e,
        0xf9836e4e, 0x836e4e44, 0x6e4e4415, 0x4e441529,
        0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1,
        0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0,
        0x34ddc0db, 0xddc0db62, 0xc0db6295, 0xdb629599,
        0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
    };

    private static final int TOP_PIO4 = abstop12(0x1.921FB6p-1f);
    private static final int TOP_TINY = abstop12(0x1p-12f);
    private static final int TOP_120 = abstop12(120.0f);
    private static final int TOP_INFINITY = abstop12(Float.POSITIVE_INFINITY);

    /** glibc's {@code sinf(y)}. */
    public static float sin(float y) {
        return evaluate(y, false);
    }

    /** glibc's {@code cosf(y)}. */
    public static float cos(float y) {
        return evaluate(y, true);
    }

    private static float evaluate(float y, boolean cosine) {
        int top = abstop12(y);
        double x = y;
        if (top < TOP_PIO4) {
            if (top < TOP_TINY) {
                return cosine ? 1.0f : y;
            }
            return poly(x, x * x, cosine ? 1 : 0, false);
        }
        if (top >= TOP_INFINITY) {
            return Float.NaN;
        }
        int n;
        int signIndex;
        double r;
        if (top < TOP_120) {
            n = (((int) (x * HPI_INV)) + 0x800000) >> 24;
            r = Math.fma(-(double) n, HPI, x);
            signIndex = n;
        } else {
            // 4/pi in fixed point: 96 bits of it, chosen by the exponent, times the 24-bit mantissa, kept modulo 2^64
            // (the integer part of x * 4/pi beyond the quadrant pair is a multiple of 2 pi and drops out).
            int bits = Float.floatToRawIntBits(y);
            int base = (bits >>> 26) & 15;
            int shift = (bits >>> 23) & 7;
            long xi = ((long) ((bits & 0xffffff) | 0x800000) << shift) & 0xffffffffL;
            long res0 = (xi * (INV_PIO4[base] & 0xffffffffL)) & 0xffffffffL; // a uint32_t product: wraps at 32 bits
            long res1 = xi * (INV_PIO4[base + 4] & 0xffffffffL);
            long res2 = xi * (INV_PIO4[base + 8] & 0xffffffffL);
            res0 = ((res2 >>> 32) | (res0 << 32)) + res1;
            long quadrant = (res0 + (1L << 61)) >>> 62;
            n = (int) quadrant;
            r = (double) (res0 - (quadrant << 62)) * PI63;
            signIndex = n + (bits >>> 31);
        }
        double s = SIGN[signIndex & 3];
        boolean negateCosine = (signIndex & 2) != 0;
        return poly(r * s, r * r, cosine ? n ^ 1 : n, negateCosine);
    }

    /** The sine polynomial (n even) or the cosine one (n odd), the cosine negated for quadrants 2 and 3. */
    private static float poly(double x, double x2, int n, boolean negateCosine) {
        if ((n & 1) == 0) {
            double x3 = x * x2;
            double s1 = Math.fma(x2, S3, S2);
            double x7 = x3 * x2;
            double s = Math.fma(x3, S1, x);
            return (float) Math.fma(x7, s1, s);
        }
        double sign = negateCosine ? -1.0 : 1.0;
        double x4 = x2 * x2;
        double c2 = Math.fma(x2, sign * C4, sign * C3);
        double c1 = Math.fma(x2, sign * C1, sign * C0);
        double x6 = x4 * x2;
        double c = Math.fma(x4, sign * C2, c1);
        return (float) Math.fma(x6, c2, c);
    }

    private static int abstop12(float x) {
        return (Float.floatToRawIntBits(x) >>> 20) & 0x7ff;
    }
}
