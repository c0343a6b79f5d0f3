package dev.buddy.engine.sampling;

import java.util.Arrays;

/**
 * Picks the next token from a logits vector according to a {@link SamplerConfig}. All working memory is allocated
 * once, so {@link #sample} allocates nothing. Not thread-safe: one sampler per generation.
 *
 * <p>Candidates are kept as {@code long} sort keys (an order-reversed logit in the high half, the token id in the low
 * half), so sorting by descending logit, with ties going to the lower id, is a primitive sort.
 */
public final class Sampler {
    private final SamplerConfig config;
    private final int vocabSize;
    private final float[] penalized;
    private final long[] candidates;
    private final float[] probabilities;
    /** Ring of the most recent accepted tokens, for the repetition penalty. */
    private final int[] recent;
    private int recentCount;
    private int recentNext;
    /** seen[t] == stamp marks token t as already penalised during the current call. */
    private final int[] seen;
    private int stamp;
    private long rngState;

    public Sampler(SamplerConfig config, int vocabSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabSize);
        }
        this.config = config;
        this.vocabSize = vocabSize;
        this.penalized = new float[vocabSize];
        this.candidates = new long[vocabSize];
        this.probabilities = new float[vocabSize];
        this.recent = new int[Math.max(1, config.repetitionWindow())];
        this.seen = new int[vocabSize];
        reset();
    }

    public SamplerConfig config() {
        return config;
    }

    /** Forgets recent tokens and restarts the random sequence from the seed. */
    public void reset() {
        recentCount = 0;
        recentNext = 0;
        rngState = config.seed();
    }

    /** Records a token that became part of the context (prompt or generated), for the repetition penalty. */
    public void accept(int token) {
        if (config.repetitionWindow() == 0) {
            return;
        }
        recent[recentNext] = token;
        recentNext = (recentNext + 1) % recent.length;
        recentCount = Math.min(recentCount + 1, recent.length);
    }

    /** Chooses a token; {@code logits} (length >= vocabulary size) is not modified. */
    public int sample(float[] logits) {
        float[] scores = applyPenalty(logits);
        if (config.isGreedy()) {
            return argmax(scores, vocabSize);
        }
        int n = selectTopK(scores);
        n = keepTopP(n);
        n = keepMinP(n);
        return draw(n);
    }

    /** The index of the largest value in {@code values[0, n)}; the lowest such index on ties (as llama.cpp). */
    public static int argmax(float[] values, int n) {
        int best = 0;
        float bestValue = values[0];
        for (int i = 1; i < n; i++) {
            if (values[i] > bestValue) {
                bestValue = values[i];
                best = i;
            }
        }
        return best;
    }

    // ---- filters ----------------------------------------------------------------------------------------------

    private float[] applyPenalty(float[] logits) {
        float penalty = config.repetitionPenalty();
        if (penalty == 1f || recentCount == 0) {
            return logits;
        }
        System.arraycopy(logits, 0, penalized, 0, vocabSize);
        if (++stamp == 0) { // wrapped: clear the marks so no stale stamp matches
            Arrays.fill(seen, 0);
            stamp = 1;
        }
        for (int i = 0; i < recentCount; i++) {
            int t = recent[i];
            if (t < 0 || t >= vocabSize || seen[t] == stamp) {
                continue; // each token is penalised once, however often it occurred (llama.cpp)
            }
            seen[t] = stamp;
            float l = penalized[t];
            penalized[t] = l <= 0f ? l * penalty : l / penalty;
        }
        return penalized;
    }

    /** Fills {@code candidates} with the top-k (or all) tokens sorted by descending score; returns their count. */
    private int selectTopK(float[] scores) {
        int k = config.topK() == 0 ? vocabSize : Math.min(config.topK(), vocabSize);
        if (k == vocabSize) {
            for (int t = 0; t < vocabSize; t++) {
                candidates[t] = key(scores[t], t);
            }
            Arrays.sort(candidates, 0, vocabSize);
            return vocabSize;
        }
        // A max-heap of the k smallest keys (= the k largest scores) seen so far.
        for (int t = 0; t < k; t++) {
            candidates[t] = key(scores[t], t);
            siftUp(t);
        }
        for (int t = k; t < vocabSize; t++) {
            long key = key(scores[t], t);
            if (key < candidates[0]) {
                candidates[0] = key;
                siftDown(0, k);
            }
        }
        Arrays.sort(candidates, 0, k);
        return k;
    }

    private int keepTopP(int n) {
        float topP = config.topP();
        if (topP >= 1f || n <= 1) {
            return n;
        }
        softmax(n, 1f);
        double cumulative = 0;
        for (int i = 0; i < n; i++) {
            cumulative += probabilities[i];
            if (cumulative >= topP) {
                return i + 1; // keep the token that crosses the threshold
            }
        }
        return n;
    }

    private int keepMinP(int n) {
        float minP = config.minP();
        if (minP <= 0f || n <= 1) {
            return n;
        }
        // p_i >= minP * p_max  <=>  logit_i >= logit_max + ln(minP), which needs no softmax.
        float threshold = scoreOf(candidates[0]) + (float) Math.log(minP);
        int kept = 1;
        while (kept < n && scoreOf(candidates[kept]) >= threshold) {
            kept++;
        }
        return kept;
    }

    private int draw(int n) {
        softmax(n, config.temperature());
        double u = nextDouble();
        double cumulative = 0;
        for (int i = 0; i < n; i++) {
            cumulative += probabilities[i];
            if (u < cumulative) {
                return tokenOf(candidates[i]);
            }
        }
        return tokenOf(candidates[n - 1]); // rounding left u just above the total
    }

    /** probabilities[0, n) = softmax(candidate scores / temperature); candidates are sorted, so [0] is the max. */
    private void softmax(int n, float temperature) {
        float max = scoreOf(candidates[0]);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float p = (float) Math.exp((scoreOf(candidates[i]) - max) / temperature);
            probabilities[i] = p;
            sum += p;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
            probabilities[i] *= inv;
        }
    }

    // ---- keys ---------------------------------------------------------------------------------------------------

    /** Ascending key order = descending score, then ascending token id. */
    static long key(float score, int token) {
        int bits = Float.floatToIntBits(score);
        int ascending = bits ^ ((bits >> 31) & 0x7fffffff); // signed-int order equals float order
        return ((long) ~ascending << 32) | (token & 0xffffffffL);
    }

    static int tokenOf(long key) {
        return (int) key;
    }

    static float scoreOf(long key) {
        int ascending = ~(int) (key >>> 32);
        int bits = ascending ^ ((ascending >> 31) & 0x7fffffff);
        return Float.intBitsToFloat(bits);
    }

    private void siftUp(int i) {
        long v = candidates[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (candidates[parent] >= v) {
                break;
            }
            candidates[i] = candidates[parent];
            i = parent;
        }
        candidates[i] = v;
    }

    private void siftDown(int i, int size) {
        long v = candidates[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && candidates[child + 1] > candidates[child]) {
                child++;
            }
            if (candidates[child] <= v) {
                break;
            }
            candidates[i] = candidates[child];
            i = child;
        }
        candidates[i] = v;
    }

    /** SplitMix64: tiny, allocation-free, and the same sequence on every JVM for a given seed. */
    private double nextDouble() {
        long z = (rngState += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53;
    }
}
