package dev.buddy.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class KvCacheProperties {

    private static float[] gaussian(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    /** softmax(K·q * scale)·V for one head, through the cache's own loops. */
    private static float[] attend(KvCache cache, int layer, int head, float[] q, int positions, float scale) {
        int hd = cache.headDim();
        float[] query = new float[hd];
        cache.prepareQuery(q, 0, query, 0);
        float[] scores = new float[positions];
        cache.keyScores(layer, head, query, 0, positions, scale, scores, 0);
        float max = Float.NEGATIVE_INFINITY;
        for (float s : scores) {
            max = Math.max(max, s);
        }
        double sum = 0;
        for (int p = 0; p < positions; p++) {
            scores[p] = (float) Math.exp(scores[p] - max);
            sum += scores[p];
        }
        for (int p = 0; p < positions; p++) {
            scores[p] = (float) (scores[p] / sum);
        }
        float[] out = new float[hd];
        float[] scratch = new float[cache.valueScratchSize() + 3];
        cache.weightedValues(layer, head, scores, 0, positions, out, 0, scratch, 3);
        return out;
    }

    /** The same attention in double precision straight from the rows, as the reference. */
    private static double[] attendDirect(float[][] keys, float[][] values, int head, int hd, float[] q, int positions,
            float scale) {
        double[] s = new double[positions];
        double max = Double.NEGATIVE_INFINITY;
        for (int p = 0; p < positions; p++) {
            double dot = 0;
            for (int i = 0; i < hd; i++) {
                dot += (double) keys[p][head * hd + i] * q[i];
            }
            s[p] = dot * scale;
            max = Math.max(max, s[p]);
        }
        double sum = 0;
        for (int p = 0; p < positions; p++) {
            s[p] = Math.exp(s[p] - max);
            sum += s[p];
        }
        double[] out = new double[hd];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < hd; i++) {
                out[i] += s[p] / sum * values[p][head * hd + i];
            }
        }
        return out;
    }

    /**
     * The group calls (one KV head's queries together, as GQA prefill runs them) give every score and output the
     * bits of the one-query calls, for both cache types, batch and single-token orders, groups of 1-9 queries
     * (partial tiles of four), head sizes that are and are not multiples of 8, and weights with zeros in them (masked
     * or underflowed positions) and past the positions attended.
     */
    @Property(tries = 150)
    void groupCallsMatchOneQueryAtATime(@ForAll long seed, @ForAll @IntRange(min = 1, max = 70) int positions,
            @ForAll @IntRange(min = 1, max = 9) int count, @ForAll @IntRange(min = 1, max = 3) int kvHeads,
            @ForAll @IntRange(min = 1, max = 17) int headDimQuarters, @ForAll boolean half, @ForAll boolean batch) {
        int hd = 4 * headDimQuarters;
        int kvDim = kvHeads * hd;
        Random r = new Random(seed);
        KvCache cache = KvCache.allocate(half ? KvCacheType.F16 : KvCacheType.F32, 2, 80, kvHeads, hd);
        for (int p = 0; p < positions; p++) {
            cache.storeKey(1, p, gaussian(r, kvDim, Math.exp(r.nextGaussian())), 0);
            cache.storeValue(1, p, gaussian(r, kvDim, Math.exp(r.nextGaussian())), 0);
        }
        int kvHead = r.nextInt(kvHeads);
        int queryOffset = r.nextInt(5);
        float[] queries = new float[queryOffset + count * hd];
        float[] raw = gaussian(r, count * hd, 1.0);
        for (int j = 0; j < count; j++) {
            cache.prepareQuery(raw, j * hd, queries, queryOffset + j * hd);
        }
        int stride = positions + r.nextInt(4);
        int scoresOffset = r.nextInt(3);
        float scale = (float) (1 / Math.sqrt(hd));
        float[] expectedScores = new float[scoresOffset + count * stride];
        float[] actualScores = expectedScores.clone();
        for (int j = 0; j < count; j++) {
            cache.keyScores(1, kvHead, queries, queryOffset + j * hd, positions, scale, expectedScores,
                    scoresOffset + j * stride, batch);
        }
        cache.keyScoresGroup(1, kvHead, queries, queryOffset, count, positions, scale, actualScores, scoresOffset,
                stride, batch);
        for (int i = 0; i < expectedScores.length; i++) {
            assertEquals(Float.floatToRawIntBits(expectedScores[i]), Float.floatToRawIntBits(actualScores[i]),
                    "score " + i);
        }

        float[] weights = new float[scoresOffset + count * stride];
        for (int i = 0; i < weights.length; i++) {
            double u = r.nextDouble();
            // Zeros, F16 subnormals that round to zero or not, and ordinary softmax-sized weights.
            weights[i] = u < 0.2 ? 0f : u < 0.3 ? (float) (r.nextDouble() * 1e-7) : (float) r.nextDouble() / 8;
        }
        float[] weightsBefore = weights.clone();
        int outOffset = r.nextInt(3);
        int scratchOffset = r.nextInt(3);
        float[] expected = new float[outOffset + count * hd];
        float[] actual = expected.clone();
        float[] scratch = new float[scratchOffset + count * cache.valueScratchSize()];
        for (int j = 0; j < count; j++) {
            cache.weightedValues(1, kvHead, weights, scoresOffset + j * stride, positions, expected,
                    outOffset + j * hd, scratch, scratchOffset + j * cache.valueScratchSize(), batch);
        }
        java.util.Arrays.fill(scratch, Float.NaN); // the group call must not depend on what the scratch held
        cache.weightedValuesGroup(1, kvHead, weights, scoresOffset, stride, count, positions, actual, outOffset,
                scratch, scratchOffset, batch);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "output " + i);
        }
        assertTrue(java.util.Arrays.equals(weightsBefore, weights), "the group call changed its weights");
    }

    @Property(tries = 60)
    void f32AndF16AttentionAgreeWithDirectFormula(@ForAll long seed, @ForAll @IntRange(min = 1, max = 64) int positions,
            @ForAll @IntRange(min = 1, max = 4) int kvHeads, @ForAll @IntRange(min = 1, max = 5) int headDimPairs) {
        int hd = headDimPairs * 8;
        int kvDim = kvHeads * hd;
        Random r = new Random(seed);
        KvCache f32 = KvCache.allocate(KvCacheType.F32, 2, 64, kvHeads, hd);
        KvCache f16 = KvCache.allocate(KvCacheType.F16, 2, 64, kvHeads, hd);
        float[][] keys = new float[positions][];
        float[][] values = new float[positions][];
        for (int p = 0; p < positions; p++) {
            keys[p] = gaussian(r, kvDim, 1.0);
            values[p] = gaussian(r, kvDim, 1.0);
            for (KvCache c : new KvCache[] {f32, f16}) {
                c.storeKey(1, p, keys[p], 0);
                c.storeValue(1, p, values[p], 0);
            }
        }
        float scale = (float) (1 / Math.sqrt(hd));
        for (int head = 0; head < kvHeads; head++) {
            float[] q = gaussian(r, hd, 1.0);
            double[] expected = attendDirect(keys, values, head, hd, q, positions, scale);
            float[] a32 = attend(f32, 1, head, q, positions, scale);
            float[] a16 = attend(f16, 1, head, q, positions, scale);
            for (int i = 0; i < hd; i++) {
                assertEquals(expected[i], a32[i], 1e-4, "F32 dim " + i);
                // F16 rounds keys, values, query and weights (rel. 2^-11 each): a few thousandths on unit data.
                assertEquals(expected[i], a16[i], 2e-2, "F16 dim " + i);
                assertEquals(a32[i], a16[i], 2e-2, "F32 vs F16 dim " + i);
            }
        }
    }

    @Property(tries = 50)
    void storedRowsReadBackAndZero(@ForAll long seed, @ForAll boolean half) {
        Random r = new Random(seed);
        KvCache c = KvCache.allocate(half ? KvCacheType.F16 : KvCacheType.F32, 3, 10, 2, 8);
        float[] k = gaussian(r, 16, 2.0);
        float[] v = gaussian(r, 16, 2.0);
        c.storeKey(2, 7, k, 0);
        c.storeValue(2, 7, v, 0);
        float[] back = new float[16];
        c.readKey(2, 7, back, 0);
        for (int i = 0; i < 16; i++) {
            float expected = half ? Float.float16ToFloat(Float.floatToFloat16(k[i])) : k[i];
            assertEquals(expected, back[i]);
        }
        c.readValue(2, 7, back, 0);
        for (int i = 0; i < 16; i++) {
            float expected = half ? Float.float16ToFloat(Float.floatToFloat16(v[i])) : v[i];
            assertEquals(expected, back[i]);
        }
        c.zero(2, 7);
        c.readKey(2, 7, back, 0);
        for (float x : back) {
            assertEquals(0f, x);
        }
    }

    @Property(tries = 30)
    void validityBitmapTracksMarks(@ForAll @IntRange(min = 0, max = 199) int position) {
        KvCache c = KvCache.allocate(KvCacheType.F32, 2, 200, 1, 4);
        assertFalse(c.hasInvalid(1));
        c.setValid(1, position, false);
        c.setValid(1, position, false);
        assertTrue(c.hasInvalid(1));
        assertFalse(c.hasInvalid(0));
        assertFalse(c.isValid(1, position));
        assertTrue(c.isValid(0, position));
        c.setValid(1, position, true);
        assertFalse(c.hasInvalid(1));
        c.setValid(1, position, false);
        c.reset();
        assertTrue(c.isValid(1, position));
        assertFalse(c.hasInvalid(1));
    }
}
