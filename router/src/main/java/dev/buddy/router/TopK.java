package dev.buddy.router;

/**
 * Hard top-k selection over middle-block scores (paper Eq. 2; softmax is monotone, so top-k of the raw scores is the
 * same set). Ties go to the lower block index, so the choice is a pure function of the scores. NaN ranks below every
 * number, so a broken score can only lose its block, never win one.
 */
public final class TopK {
    private TopK() {}

    /**
     * Sets {@code selected[offset + i]} for the {@code k} best of {@code scores[0..n)} and clears the rest.
     * O(k·n) with no allocation; n is the number of middle blocks, a few dozen.
     */
    public static void select(float[] scores, int n, int k, boolean[] selected, int offset) {
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("cannot select " + k + " of " + n);
        }
        for (int i = 0; i < n; i++) {
            selected[offset + i] = false;
        }
        for (int round = 0; round < k; round++) {
            int best = -1;
            float bestKey = 0f;
            for (int i = 0; i < n; i++) {
                if (selected[offset + i]) {
                    continue;
                }
                float key = key(scores[i]);
                // Strictly greater: among equal keys the first (lowest index) seen stays best.
                if (best < 0 || key > bestKey) {
                    best = i;
                    bestKey = key;
                }
            }
            selected[offset + best] = true;
        }
    }

    private static float key(float s) {
        return Float.isNaN(s) ? Float.NEGATIVE_INFINITY : s;
    }
}
