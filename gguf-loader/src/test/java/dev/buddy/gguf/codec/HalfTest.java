package dev.buddy.gguf.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * fp16 and bf16 conversions against two independent references: the JDK's IEEE conversions
 * ({@link Float#float16ToFloat}, {@link Float#floatToFloat16}) and round-to-nearest-even decided by exact
 * distance comparisons.
 */
class HalfTest {

    private static boolean isHalfNaN(int bits) {
        return (bits & 0x7C00) == 0x7C00 && (bits & 0x03FF) != 0;
    }

    @Test
    void everyNonNaNHalfWidensExactlyAsTheJdkDoes() {
        for (int bits = 0; bits < 0x10000; bits++) {
            short h = (short) bits;
            if (!isHalfNaN(bits)) {
                assertEquals(Float.floatToRawIntBits(Float.float16ToFloat(h)), Float.floatToRawIntBits(Half.toFloat(h)),
                        () -> "half 0x" + Integer.toHexString(h & 0xFFFF));
            }
        }
    }

    @Test
    void everyHalfWidensAsGgmlsBitTrickDoes() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float expected = ggmlFp16ToFp32((short) bits);
            float actual = Half.toFloat((short) bits);
            if (isHalfNaN(bits)) {
                // ggml's multiply by 2^-112 quiets a NaN on x86; either way the payload must survive.
                assertEquals(Float.floatToRawIntBits(expected) | 0x00400000, Float.floatToRawIntBits(actual));
            } else {
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual));
            }
        }
    }

    @Test
    void everyHalfRoundTripsAndNaNsBecomeTheCanonicalQuietNaN() {
        for (int bits = 0; bits < 0x10000; bits++) {
            short back = Half.fromFloat(Half.toFloat((short) bits));
            int expected = isHalfNaN(bits) ? (bits & 0x8000) | 0x7E00 : bits;
            assertEquals(expected, back & 0xFFFF, "half 0x" + Integer.toHexString(bits));
        }
    }

    /**
     * Narrowing is decided at the midpoints between neighbouring halves, so checking every midpoint, and the floats
     * a few ulps either side of it, covers every rounding decision (ties to even included), for both signs, from the
     * subnormal underflow to the overflow to infinity at 65520.
     */
    @Test
    void narrowingMatchesTheJdkAroundEveryRoundingBoundary() {
        for (int bits = 0; bits < 0x7C00; bits++) {
            float lo = Float.float16ToFloat((short) bits);
            float hi = bits + 1 == 0x7C00 ? 65536f : Float.float16ToFloat((short) (bits + 1));
            float mid = (lo + hi) / 2; // exact: halves have 11 significant bits, floats 24
            for (float f : new float[] {lo, mid, hi}) {
                int center = Float.floatToRawIntBits(f);
                for (int delta = -2; delta <= 2; delta++) {
                    if (center + delta < 0) {
                        continue; // below +0.0 lie the negative NaNs; -x covers the negative side
                    }
                    float x = Float.intBitsToFloat(center + delta);
                    assertEquals(Float.floatToFloat16(x), Half.fromFloat(x), () -> "float " + x);
                    assertEquals(Float.floatToFloat16(-x), Half.fromFloat(-x), () -> "float " + -x);
                }
            }
        }
    }

    @Test
    void narrowingMatchesTheJdkAcrossTheWholeFloatRange() {
        // A prime stride visits about 4 million bit patterns spread over all exponents and signs.
        for (long bits = 0; bits <= 0xFFFFFFFFL; bits += 1021) {
            float f = Float.intBitsToFloat((int) bits);
            if (!Float.isNaN(f)) {
                assertEquals(Float.floatToFloat16(f), Half.fromFloat(f), () -> "float " + f);
            }
        }
    }

    @Property(tries = 5000)
    void narrowingMatchesTheJdkForAnyFloat(@ForAll int bits) {
        float f = Float.intBitsToFloat(bits);
        if (Float.isNaN(f)) {
            assertEquals((bits >>> 16 & 0x8000) | 0x7E00, Half.fromFloat(f) & 0xFFFF);
        } else {
            assertEquals(Float.floatToFloat16(f), Half.fromFloat(f));
        }
    }

    @Test
    void everyBf16WidensToTheFloatWithTheSameTopBitsAndRoundTrips() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Half.bf16ToFloat((short) bits);
            assertEquals(bits << 16, Float.floatToRawIntBits(f));
            int back = Half.floatToBf16(f) & 0xFFFF;
            boolean isNaN = (bits & 0x7F80) == 0x7F80 && (bits & 0x7F) != 0;
            assertEquals(isNaN ? bits | 0x40 : bits, back, "bf16 0x" + Integer.toHexString(bits));
        }
    }

    @Test
    void bf16NarrowingRoundsToNearestEvenAtEveryBoundary() {
        for (int bits = 0; bits < 0x7F80; bits++) {
            int midpoint = bits << 16 | 0x8000;
            for (int delta = -2; delta <= 2; delta++) {
                for (int sign : new int[] {0, 0x80000000}) {
                    float f = Float.intBitsToFloat((midpoint + delta) | sign);
                    assertEquals(exactBf16(f), Half.floatToBf16(f) & 0xFFFF, () -> "float " + f);
                }
            }
        }
    }

    @Property(tries = 5000)
    void bf16NarrowingRoundsToNearestEvenForAnyFloat(@ForAll int bits) {
        float f = Float.intBitsToFloat(bits);
        if (Float.isNaN(f)) {
            int out = Half.floatToBf16(f) & 0xFFFF;
            assertTrue(Float.isNaN(Half.bf16ToFloat((short) out)), "a NaN must stay NaN, never round to infinity");
            assertEquals((bits >>> 16) | 0x40, out);
        } else {
            assertEquals(exactBf16(f), Half.floatToBf16(f) & 0xFFFF);
        }
    }

    /**
     * Round-to-nearest-even to bf16, decided by comparing distances in double: a float and its two bf16 neighbours
     * differ by fewer than 2^17 float ulps, so both distances are exact there. Beyond the largest bf16 the next grid
     * point is 2^128, which is where rounding overflows to infinity.
     */
    private static int exactBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = bits >>> 16 & 0x8000;
        int magnitude = bits & 0x7FFFFFFF;
        if (magnitude >= 0x7F800000) {
            return bits >>> 16; // infinity stays infinity
        }
        int down = magnitude >>> 16;
        int up = down + 1;
        double x = Float.intBitsToFloat(magnitude);
        double lower = Float.intBitsToFloat(down << 16);
        double upper = up == 0x7F80 ? 0x1.0p128 : Float.intBitsToFloat(up << 16);
        int cmp = Double.compare(x - lower, upper - x);
        int chosen = cmp < 0 ? down : cmp > 0 ? up : ((down & 1) == 0 ? down : up);
        return sign | chosen;
    }

    /** A literal transcription of ggml's {@code ggml_compute_fp16_to_fp32} (ggml-impl.h), as an oracle. */
    private static float ggmlFp16ToFp32(short h) {
        int w = (h & 0xFFFF) << 16;
        int sign = w & 0x80000000;
        int twoW = w + w;
        int expOffset = 0xE0 << 23;
        float expScale = 0x1.0p-112f;
        float normalizedValue = Float.intBitsToFloat((twoW >>> 4) + expOffset) * expScale;
        int magicMask = 126 << 23;
        float magicBias = 0.5f;
        float denormalizedValue = Float.intBitsToFloat((twoW >>> 17) | magicMask) - magicBias;
        int denormalizedCutoff = 1 << 27;
        int result = sign | (Integer.compareUnsigned(twoW, denormalizedCutoff) < 0
                ? Float.floatToRawIntBits(denormalizedValue)
                : Float.floatToRawIntBits(normalizedValue));
        return Float.intBitsToFloat(result);
    }
}
