package dev.buddy.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.IntRange;

class SamplerProperties {

    private static float[] randomLogits(long seed, int n) {
        Random r = new Random(seed);
        float[] logits = new float[n];
        for (int i = 0; i < n; i++) {
            logits[i] = (float) (r.nextGaussian() * 3);
        }
        return logits;
    }

    /** The indices of the k largest logits (ties to the lower index), computed by a full sort. */
    private static Set<Integer> topKSet(float[] logits, int k) {
        Integer[] idx = new Integer[logits.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : a - b);
        return new HashSet<>(Arrays.asList(idx).subList(0, k));
    }

    @Property(tries = 200)
    void greedyIsArgmax(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3000) int vocab) {
        float[] logits = randomLogits(seed, vocab);
        float[] before = logits.clone();
        Sampler sampler = new Sampler(SamplerConfig.greedy(), vocab);
        int chosen = sampler.sample(logits);
        for (float l : logits) {
            assertTrue(logits[chosen] >= l);
        }
        for (int i = 0; i < chosen; i++) {
            assertTrue(logits[i] < logits[chosen], "ties go to the lowest id");
        }
        assertArrayEquals(before, logits, "sampling must not modify the logits");
    }

    @Property(tries = 60)
    void topKDrawsOnlyFromTheKMostLikely(@ForAll long seed, @ForAll @IntRange(min = 1, max = 20) int k,
            @ForAll @IntRange(min = 20, max = 500) int vocab) {
        float[] logits = randomLogits(seed, vocab);
        // A hot temperature and no other filter, so every one of the k candidates is likely to show up.
        Sampler sampler = new Sampler(new SamplerConfig(5f, k, 1f, 0f, 1f, 0, seed), vocab);
        Set<Integer> allowed = topKSet(logits, k);
        Set<Integer> drawn = new HashSet<>();
        for (int i = 0; i < 400; i++) {
            int t = sampler.sample(logits);
            assertTrue(allowed.contains(t), "token " + t + " is outside the top " + k);
            drawn.add(t);
        }
        assertTrue(drawn.size() <= k);
    }

    @Property(tries = 60)
    void sameSeedSameTokens(@ForAll long seed, @ForAll @FloatRange(min = 0.1f, max = 3f) float temperature,
            @ForAll @IntRange(min = 0, max = 50) int topK, @ForAll @FloatRange(min = 0.05f, max = 1f) float topP,
            @ForAll @FloatRange(min = 0f, max = 0.2f) float minP) {
        int vocab = 300;
        SamplerConfig config = new SamplerConfig(temperature, topK, topP, minP, 1.1f, 16, seed);
        Sampler a = new Sampler(config, vocab);
        Sampler b = new Sampler(config, vocab);
        for (int step = 0; step < 30; step++) {
            float[] logits = randomLogits(seed + step, vocab);
            int ta = a.sample(logits);
            int tb = b.sample(logits);
            assertEquals(ta, tb, "step " + step);
            a.accept(ta);
            b.accept(tb);
        }
        // reset() restarts the same sequence.
        a.reset();
        Sampler c = new Sampler(config, vocab);
        for (int step = 0; step < 10; step++) {
            float[] logits = randomLogits(seed + step, vocab);
            int ta = a.sample(logits);
            assertEquals(c.sample(logits), ta);
            a.accept(ta);
            c.accept(ta);
        }
    }

    @Property(tries = 100)
    void tinyTopPOrFullMinPKeepOnlyTheArgmax(@ForAll long seed, @ForAll boolean useTopP) {
        int vocab = 200;
        float[] logits = randomLogits(seed, vocab);
        SamplerConfig config = useTopP ? new SamplerConfig(2f, 0, 1e-6f, 0f, 1f, 0, seed)
                : new SamplerConfig(2f, 0, 1f, 1f, 1f, 0, seed);
        Sampler sampler = new Sampler(config, vocab);
        int argmax = Sampler.argmax(logits, vocab);
        for (int i = 0; i < 20; i++) {
            assertEquals(argmax, sampler.sample(logits));
        }
    }

    @Property(tries = 100)
    void topPKeepsTheSmallestPrefixReachingP(@ForAll long seed, @ForAll @FloatRange(min = 0.05f, max = 0.95f) float p) {
        int vocab = 100;
        float[] logits = randomLogits(seed, vocab);
        // The reference nucleus: sort by probability, keep tokens until the cumulative mass reaches p.
        double max = Arrays.stream(box(logits)).mapToDouble(Float::doubleValue).max().orElseThrow();
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        Set<Integer> nucleus = new HashSet<>();
        double cumulative = 0;
        for (Integer t : order) {
            nucleus.add(t);
            cumulative += Math.exp(logits[t] - max) / sum;
            if (cumulative >= p + 1e-6) {
                break;
            }
        }
        Sampler sampler = new Sampler(new SamplerConfig(1f, 0, p, 0f, 1f, 0, seed), vocab);
        for (int i = 0; i < 200; i++) {
            int t = sampler.sample(logits);
            assertTrue(nucleus.contains(t), "token " + t + " outside the top-p nucleus");
        }
    }

    @Property(tries = 100)
    void repetitionPenaltyFollowsLlamaCppRule(@ForAll long seed, @ForAll @FloatRange(min = 1.05f, max = 2f) float penalty) {
        int vocab = 50;
        float[] logits = randomLogits(seed, vocab);
        Sampler sampler = new Sampler(SamplerConfig.greedy().withRepetitionPenalty(penalty, 8), vocab);
        int first = Sampler.argmax(logits, vocab);
        sampler.accept(first);
        sampler.accept(first); // a repeated token is penalised once
        float[] expected = logits.clone();
        expected[first] = logits[first] <= 0 ? logits[first] * penalty : logits[first] / penalty;
        assertEquals(Sampler.argmax(expected, vocab), sampler.sample(logits));
    }

    @Property(tries = 300)
    void sortKeysOrderByDescendingScore(@ForAll float a, @ForAll float b, @ForAll @IntRange(min = 0) int ia,
            @ForAll @IntRange(min = 0) int ib) {
        if (Float.isNaN(a) || Float.isNaN(b)) {
            return;
        }
        long ka = Sampler.key(a, ia);
        long kb = Sampler.key(b, ib);
        assertEquals(Float.floatToIntBits(a), Float.floatToIntBits(Sampler.scoreOf(ka)));
        assertEquals(ia, Sampler.tokenOf(ka));
        if (Float.compare(a, b) > 0) {
            assertTrue(ka < kb);
        } else if (Float.compare(a, b) == 0) {
            assertEquals(Integer.compare(ia, ib), Long.compare(ka, kb), "ties go to the lower token id");
        }
    }

    private static Float[] box(float[] a) {
        Float[] b = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }
}
