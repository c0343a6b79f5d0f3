package dev.buddy.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The 256-bit attention loops against the scalar references, bit for bit (each vector lane does the reference's
 * arithmetic in the same order), for random sizes with odd lengths and tails. Skipped where the JVM has no 256-bit
 * vectors, since the scalar paths then run anyway.
 */
class SimdAttentionProperties {

    private static float[] gaussian(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * Math.exp(r.nextGaussian()));
        }
        return a;
    }

    private static short[] halves(Random r, int n) {
        short[] h = new short[n];
        for (int i = 0; i < n; i++) {
            float v = (float) (r.nextGaussian() * Math.exp(3 * r.nextGaussian()));
            h[i] = Float.floatToFloat16(Math.max(-60000f, Math.min(60000f, v)));
        }
        return h;
    }

    @Property(tries = 200)
    void f32LanesMatchScalar(@ForAll long seed, @ForAll @IntRange(min = 1, max = 8) int blocks,
            @ForAll @IntRange(min = 0, max = 40) int offset) {
        Assume.that(Simd.ENABLED);
        Random r = new Random(seed);
        int np = 32 * blocks;
        float[] x = gaussian(r, offset + np);
        float[] y = gaussian(r, np + 3);
        assertEquals(Float.floatToRawIntBits(F32KvCache.vecDotF32Lanes(x, offset, y, 3, np)),
                Float.floatToRawIntBits(Simd.vecDotF32Lanes(x, offset, y, 3, np)));
    }

    @Property(tries = 200)
    void f16LanesMatchScalar(@ForAll long seed, @ForAll @IntRange(min = 1, max = 8) int blocks,
            @ForAll @IntRange(min = 0, max = 40) int offset) {
        Assume.that(Simd.ENABLED);
        Random r = new Random(seed);
        int np = 32 * blocks;
        short[] x = halves(r, offset + np);
        float[] y = gaussian(r, np + 5);
        for (int i = 0; i < y.length; i++) {
            y[i] = Float.float16ToFloat(Float.floatToFloat16(y[i])); // queries are F16-rounded before the dot
        }
        assertEquals(Float.floatToRawIntBits(F16KvCache.reduce(x, offset, y, 5, np)),
                Float.floatToRawIntBits(Simd.vecDotF16Lanes(x, offset, y, 5, np)));
    }

    @Property(tries = 200)
    void tinyBlasF16MatchesScalar(@ForAll long seed, @ForAll @IntRange(min = 1, max = 40) int groups,
            @ForAll @IntRange(min = 0, max = 17) int offset) {
        Assume.that(Simd.ENABLED);
        Random r = new Random(seed);
        int n = 8 * groups;
        short[] x = halves(r, offset + n);
        float[] y = gaussian(r, n);
        for (int i = 0; i < n; i++) {
            y[i] = Float.float16ToFloat(Float.floatToFloat16(y[i]));
        }
        assertEquals(Float.floatToRawIntBits(F16KvCache.tinyBlasDot(x, offset, y, 0, n)),
                Float.floatToRawIntBits(Simd.tinyBlasDotF16(x, offset, y, 0, n)));
    }

    @Property(tries = 200)
    void rowUpdatesMatchScalar(@ForAll long seed, @ForAll @IntRange(min = 1, max = 300) int n,
            @ForAll @IntRange(min = 0, max = 9) int offset) {
        Assume.that(Simd.ENABLED);
        Random r = new Random(seed);
        float w = (float) r.nextGaussian();
        float hw = Float.float16ToFloat(Float.floatToFloat16(w));
        float[] v = gaussian(r, offset + n);
        short[] h = halves(r, offset + n);
        float[] acc = gaussian(r, n + 2);
        float[] expected = acc.clone();
        float[] expectedHalf = acc.clone();
        float[] actual = acc.clone();
        float[] actualHalf = acc.clone();
        for (int i = 0; i < n; i++) {
            expected[2 + i] = Math.fma(w, v[offset + i], expected[2 + i]);
            expectedHalf[2 + i] += hw * Float.float16ToFloat(h[offset + i]);
        }
        Simd.fmaRow(w, v, offset, actual, 2, n);
        Simd.addScaledHalfRow(hw, h, offset, actualHalf, 2, n);
        for (int i = 0; i < acc.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "fmaRow at " + i);
            assertEquals(Float.floatToRawIntBits(expectedHalf[i]), Float.floatToRawIntBits(actualHalf[i]),
                    "addScaledHalfRow at " + i);
        }
    }
}
