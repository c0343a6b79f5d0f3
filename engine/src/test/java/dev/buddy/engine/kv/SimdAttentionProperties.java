package dev.buddy.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import dev.buddy.engine.tensor.GgmlSums;

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

    /** Four queries against each key row at once: each score as {@link Simd#tinyBlasDotF16} times the scale. */
    @Property(tries = 200)
    void fourQueryScoresMatchOneAtATime(@ForAll long seed, @ForAll @IntRange(min = 1, max = 16) int groups,
            @ForAll @IntRange(min = 1, max = 20) int positions, @ForAll @IntRange(min = 0, max = 3) int repeats) {
        Assume.that(Simd.ENABLED);
        Random r = new Random(seed);
        int n = 8 * groups;
        int stride = n + r.nextInt(9);
        int kBase = r.nextInt(7);
        short[] k = halves(r, kBase + positions * stride);
        float[] q = gaussian(r, 4 * n + 3);
        for (int i = 0; i < q.length; i++) {
            q[i] = Float.float16ToFloat(Float.floatToFloat16(q[i]));
        }
        int[] qo = {3, 3 + n, 3 + 2 * n, 3 + 3 * n};
        for (int j = 4 - repeats; j < 4; j++) {
            qo[j] = qo[3 - repeats]; // a short group repeats its last query, as F16KvCache does
        }
        float scale = (float) r.nextGaussian();
        float[] scores = new float[4 * positions + 1];
        int active = 4 - repeats;
        int[] so = {1, 1 + positions, 1 + 2 * positions, 1 + 3 * positions};
        for (int j = active; j < 4; j++) {
            so[j] = so[active - 1];
        }
        Simd.tinyBlasScoresF16x4(k, kBase, stride, positions, n, q, qo[0], qo[1], qo[2], qo[3], scale, scores, so[0],
                so[1], so[2], so[3]);
        for (int j = 0; j < active; j++) {
            for (int p = 0; p < positions; p++) {
                float expected = Simd.tinyBlasDotF16(k, kBase + p * stride, q, qo[j], n) * scale;
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(scores[so[j] + p]),
                        "query " + j + " position " + p);
            }
        }
    }

    /** Up to four queries' weighted value rows at once: each slot as {@link Simd#addScaledHalfRow} leaves it. */
    @Property(tries = 200)
    void fourQueryValueRowsMatchOneAtATime(@ForAll long seed, @ForAll @IntRange(min = 1, max = 16) int groups,
            @ForAll @IntRange(min = 1, max = 40) int positions, @ForAll @IntRange(min = 1, max = 4) int active) {
        Assume.that(Simd.ENABLED);
        Random r = new Random(seed);
        int n = 8 * groups;
        int stride = n + r.nextInt(9);
        short[] v = halves(r, positions * stride + 5);
        float[] w = new float[4 * positions];
        for (int i = 0; i < w.length; i++) {
            w[i] = r.nextInt(4) == 0 ? 0f : (float) (r.nextDouble() * Math.exp(-8 * r.nextDouble()));
        }
        int slots = 8 * n;
        float[] expected = new float[4 * slots];
        for (int j = 0; j < active; j++) {
            for (int p = 0; p < positions; p++) {
                float hw = Float.float16ToFloat(Float.floatToFloat16(w[j * positions + p]));
                if (hw != 0f) {
                    Simd.addScaledHalfRow(hw, v, 5 + p * stride, expected, j * slots + (p & 7) * n, n);
                }
            }
        }
        float[] actual = new float[4 * slots];
        int[] c = {0, slots, 2 * slots, 3 * slots};
        int[] wo = {0, positions, 2 * positions, 3 * positions};
        for (int j = active; j < 4; j++) {
            c[j] = c[active - 1]; // inactive queries repeat the last active one's offsets
            wo[j] = wo[active - 1];
        }
        Simd.addScaledHalfRowsx4(v, 5, stride, positions, n, 7, w, active, wo[0], wo[1], wo[2], wo[3], actual, c[0],
                c[1], c[2], c[3]);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "slot float " + i);
        }
    }

    /** The batch slot reduction, eight dimensions per vector, against tinyBLAS's hsum of each dimension's slots. */
    @Property(tries = 200)
    void slotSumsMatchScalar(@ForAll long seed, @ForAll @IntRange(min = 1, max = 20) int groups,
            @ForAll @IntRange(min = 0, max = 9) int offset) {
        Assume.that(Simd.ENABLED);
        Random r = new Random(seed);
        int n = 8 * groups;
        float[] slots = gaussian(r, offset + 8 * n);
        float[] actual = new float[n + 3];
        Simd.tinyBlasSlotSums(slots, offset, n, actual, 3);
        for (int i = 0; i < n; i++) {
            int b = offset + i;
            float expected = GgmlSums.tinyBlasHsum(slots[b], slots[b + n], slots[b + 2 * n], slots[b + 3 * n],
                    slots[b + 4 * n], slots[b + 5 * n], slots[b + 6 * n], slots[b + 7 * n]);
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual[3 + i]), "dimension " + i);
        }
    }
}
