package dev.buddy.gguf.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import dev.buddy.gguf.GgmlType;

/**
 * dequantise(quantise(x)) stays within each format's error bound. The legacy formats have tight bounds derived from
 * their definitions: rounding to the nearest level costs half a step, and storing the scale (and min) as fp16 costs at
 * most its rounding error times the largest level. Stored scales are decoded here with the JDK's fp16 conversion and
 * checked against the format's formula, independently of the codecs.
 *
 * <p>The K-quants choose their scales by a weighted least-squares search that may clamp outliers, so their bound is
 * stated per super-block against its range R and level count: every element within 2·R/nmax and the RMS error within
 * R/nmax, plus the error of fp16 super-scales that underflow into subnormals (tiny tensors). The worst seen over 66,000
 * adversarial super-blocks was 1.27·R/nmax (Q5_K) for the maximum and 0.56·R/nmax (Q3_K) for the RMS.
 */
class ErrorBoundsTest {
    /** Float rounding inside the quantisers, relative to the block's largest magnitude. */
    private static final double FLOAT_SLACK = 0x1p-20;

    @Provide
    Arbitrary<float[]> inputs() {
        return Shapes.superBlocks(2);
    }

    @Provide
    Arbitrary<GgmlType> kQuantTypes() {
        return Arbitraries.of(GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
    }

    @Property
    void q8_0AndQ8_1StayWithinHalfAStep(@ForAll("inputs") float[] x) {
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q8_1}) {
            byte[] q = BlockCodecs.quantize(type, x);
            float[] y = roundTrip(type, q, x.length);
            int quants = type == GgmlType.Q8_0 ? 2 : 4;
            for (int b = 0; b < x.length / 32; b++) {
                int block = b * type.bytesPerBlock();
                double amax = maxAbs(x, b * 32, 32);
                double d = amax / 127;
                assertEquals(d, jdkHalf(q, block), halfError(d), "stored scale is max|x|/127");
                double bound = d / 2 + 127 * halfError(d) + amax * FLOAT_SLACK;
                assertWithin(x, y, b * 32, 32, i -> bound, type);
                if (type == GgmlType.Q8_1) {
                    int sum = 0;
                    for (int j = 0; j < 32; j++) {
                        sum += q[block + quants + j];
                    }
                    double s = sum * d;
                    float stored = jdkHalf(q, block + 2);
                    if (Math.abs(s) >= 65504) {
                        // d fits fp16 but d times a sum of up to 32·127 may not: ggml then stores ±infinity.
                        assertTrue(stored == (float) Math.copySign(65504, s)
                                || stored == (float) Math.copySign(Double.POSITIVE_INFINITY, s),
                                "Q8_1 s beyond fp16 saturates to infinity, got " + stored + " for " + s);
                    } else {
                        assertEquals(sum * (double) jdkHalf(q, block), stored,
                                halfError(s) + Math.abs(sum) * halfError(d) + Math.abs(s) * FLOAT_SLACK,
                                "Q8_1 s is d times the sum of the quants");
                    }
                }
            }
        }
    }

    @Property
    void q4_0AndQ5_0StayWithinHalfAStepExceptAtTheClampedEnd(@ForAll("inputs") float[] x) {
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q5_0}) {
            int half = type == GgmlType.Q4_0 ? 8 : 16;
            byte[] q = BlockCodecs.quantize(type, x);
            float[] y = roundTrip(type, q, x.length);
            for (int b = 0; b < x.length / 32; b++) {
                double max = signedMaxAbs(x, b * 32, 32);
                double d = max / -half; // the largest-magnitude element maps to level -half exactly
                assertEquals(d, jdkHalf(q, b * type.bytesPerBlock()), halfError(d), "stored scale is max/-" + half);
                double slack = half * halfError(d) + Math.abs(max) * FLOAT_SLACK;
                // Levels run -half..half-1, so elements beyond half-0.5 steps on the other side clamp to half-1.
                assertWithin(x, y, b * 32, 32,
                        i -> d == 0 ? 0 : Math.abs(d) * Math.max(0.5, x[i] / d - (half - 1)) + slack, type);
            }
        }
    }

    @Property
    void q4_1AndQ5_1StayWithinHalfAStep(@ForAll("inputs") float[] x) {
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_1, GgmlType.Q5_1}) {
            int steps = type == GgmlType.Q4_1 ? 15 : 31;
            byte[] q = BlockCodecs.quantize(type, x);
            float[] y = roundTrip(type, q, x.length);
            for (int b = 0; b < x.length / 32; b++) {
                int block = b * type.bytesPerBlock();
                double min = Double.MAX_VALUE;
                double max = -Double.MAX_VALUE;
                for (int i = b * 32; i < b * 32 + 32; i++) {
                    min = Math.min(min, x[i]);
                    max = Math.max(max, x[i]);
                }
                double d = (max - min) / steps;
                // ggml forms (max - min) / steps in float before rounding to fp16: two float roundings on top of
                // the fp16 one, which matter where d sits on an fp16 rounding boundary (seen in a subnormal d).
                assertEquals(d, jdkHalf(q, block), halfError(d) + Math.abs(d) * 0x1p-22,
                        "stored scale is (max-min)/" + steps);
                assertEquals(min, jdkHalf(q, block + 2), halfError(min), "stored offset is the min");
                double bound = d / 2 + steps * halfError(d) + halfError(min)
                        + Math.max(Math.abs(min), Math.abs(max)) * FLOAT_SLACK;
                assertWithin(x, y, b * 32, 32, i -> bound, type);
            }
        }
    }

    @Property
    void q8_KStaysWithinHalfAStepAndItsSumsAreExact(@ForAll("inputs") float[] x) {
        byte[] q = BlockCodecs.quantize(GgmlType.Q8_K, x);
        float[] y = roundTrip(GgmlType.Q8_K, q, x.length);
        ByteBuffer le = ByteBuffer.wrap(q).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < x.length / 256; b++) {
            int block = b * GgmlType.Q8_K.bytesPerBlock();
            double amax = maxAbs(x, b * 256, 256);
            double d = amax / 127;
            assertEquals(d, Math.abs(le.getFloat(block)), d * 0x1p-21, "fp32 scale is max|x|/127");
            assertWithin(x, y, b * 256, 256, i -> d / 2 + amax * FLOAT_SLACK, GgmlType.Q8_K);
            for (int group = 0; group < 16; group++) {
                int sum = 0;
                for (int j = 0; j < 16; j++) {
                    sum += q[block + 4 + group * 16 + j];
                }
                assertEquals(sum, le.getShort(block + 260 + 2 * group), "bsums[" + group + "]");
            }
        }
    }

    @Property(tries = 1000)
    void kQuantsStayWithinTheirStatedBound(@ForAll("kQuantTypes") GgmlType type, @ForAll("inputs") float[] x) {
        boolean symmetric = type == GgmlType.Q3_K || type == GgmlType.Q6_K;
        int nmax = switch (type) {
            case Q2_K -> 3;
            case Q3_K -> 4;
            case Q4_K -> 15;
            case Q5_K -> 31;
            default -> 32;
        };
        // Largest |scale·level| products multiply an fp16 super-scale whose subnormal rounding error is 2^-25.
        double subnormalFloor = 0x1p-25 * switch (type) {
            case Q2_K -> 15 * 3 + 15;
            case Q3_K -> 32 * 4;
            case Q4_K -> 63 * 15 + 63;
            case Q5_K -> 63 * 31 + 63;
            default -> 128 * 32;
        };
        byte[] q = BlockCodecs.quantize(type, x);
        float[] y = roundTrip(type, q, x.length);
        for (int b = 0; b < x.length / 256; b++) {
            double hi = 0;
            double lo = 0;
            for (int i = b * 256; i < b * 256 + 256; i++) {
                hi = Math.max(hi, x[i]);
                lo = Math.min(lo, x[i]);
            }
            double range = symmetric ? Math.max(hi, -lo) : hi - lo;
            double step = range / nmax;
            double slack = subnormalFloor + range * FLOAT_SLACK;
            assertWithin(x, y, b * 256, 256, i -> 2 * step + slack, type);
            double squares = 0;
            for (int i = b * 256; i < b * 256 + 256; i++) {
                squares += (x[i] - (double) y[i]) * (x[i] - (double) y[i]);
            }
            double rms = Math.sqrt(squares / 256);
            assertTrue(rms <= step + slack, type + " RMS error " + rms + " exceeds one step " + step);
        }
    }

    private interface Bound {
        double at(int index);
    }

    private static void assertWithin(float[] x, float[] y, int from, int count, Bound bound, GgmlType type) {
        for (int i = from; i < from + count; i++) {
            double err = Math.abs(x[i] - (double) y[i]);
            double limit = bound.at(i);
            if (!(err <= limit)) {
                throw new AssertionError(type + " element " + i + ": " + x[i] + " came back as " + y[i] + ", error "
                        + err + " exceeds " + limit);
            }
        }
    }

    private static float[] roundTrip(GgmlType type, byte[] q, int count) {
        return BlockCodecs.dequantize(type, MemorySegment.ofArray(q), count);
    }

    /** Worst-case error of rounding {@code v} to fp16: half an ulp, relative 2^-11 or, for subnormals, 2^-25. */
    static double halfError(double v) {
        return Math.max(Math.abs(v) * 0x1p-11, 0x1p-25);
    }

    /** The fp16 at {@code offset}, decoded by the JDK rather than by the code under test. */
    static float jdkHalf(byte[] bytes, int offset) {
        return Float.float16ToFloat((short) ((bytes[offset] & 0xFF) | (bytes[offset + 1] << 8)));
    }

    private static double maxAbs(float[] x, int from, int count) {
        double amax = 0;
        for (int i = from; i < from + count; i++) {
            amax = Math.max(amax, Math.abs(x[i]));
        }
        return amax;
    }

    /** The element of largest magnitude, with its sign; the first one wins ties, as in ggml. */
    private static double signedMaxAbs(float[] x, int from, int count) {
        double amax = 0;
        double max = 0;
        for (int i = from; i < from + count; i++) {
            if (Math.abs(x[i]) > amax) {
                amax = Math.abs(x[i]);
                max = x[i];
            }
        }
        return max;
    }
}
