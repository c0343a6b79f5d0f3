package dev.buddy.engine.e2e;

import java.util.Arrays;

import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.sampling.Sampler;
import dev.buddy.engine.reference.GreedyRun;
import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.reference.TokenProbability;

/**
 * Greedy decoding by Buddy and by llama.cpp from the same prompt token ids, and where they part: a divergence is
 * only acceptable at a near-tie, where llama.cpp's own top-2 logit margin is below {@link #NEAR_TIE}.
 */
public final class GreedyComparison {
    /** A top-2 logit margin below this is a coin toss between two float summation orders. */
    public static final float NEAR_TIE = 1e-3f;

    private GreedyComparison() {}

    /**
     * @param identical      tokens equal before the first divergence (all of them when there is none)
     * @param divergedAt     index of the first differing generated token, or -1
     * @param llamaMargin    llama.cpp's top-2 logit margin at the divergence (NaN without one)
     * @param buddyMargin    Buddy's top-2 logit margin there
     */
    public record Outcome(int[] prompt, int[] buddy, int[] llama, int identical, int divergedAt, float llamaMargin,
            float buddyMargin, int firstDriftStep, float firstDrift) {
        public boolean diverged() {
            return divergedAt >= 0;
        }

        public boolean nearTie() {
            return diverged() && llamaMargin < NEAR_TIE;
        }

        public String describe() {
            if (!diverged()) {
                return identical + "/" + buddy.length + " identical";
            }
            return identical + "/" + buddy.length + " identical, then Buddy " + buddy[divergedAt] + " vs llama.cpp "
                    + llama[divergedAt] + " (top-2 margin llama.cpp " + llamaMargin + ", Buddy " + buddyMargin + ")"
                    + (firstDriftStep >= 0 ? "; decode logits first drifted from llama.cpp's by " + firstDrift
                    + " at step " + firstDriftStep : "");
        }
    }

    /** Buddy's greedy continuation (ignoring end-of-text, like the reference), from position 0. */
    public static int[] buddyGreedy(Transformer tf, InferenceState state, int[] prompt, int n) {
        state.reset();
        int[] out = new int[n];
        float[] logits = tf.forward(state, prompt, 0, prompt.length, null, true);
        int[] one = new int[1];
        for (int i = 0; i < n; i++) {
            out[i] = Sampler.argmax(logits, logits.length);
            if (i + 1 < n) {
                one[0] = out[i];
                logits = tf.forward(state, one, prompt.length + i, 1, null, true);
            }
        }
        return out;
    }

    /** Logit gap above which decoding is said to have drifted (diagnostics only). */
    private static final float DRIFT = 1e-3f;

    public static Outcome compare(Transformer tf, InferenceState state, LlamaCppReference llama, int[] prompt, int n) {
        int[] buddy = buddyGreedy(tf, state, prompt, n);
        GreedyRun run = llama.greedyRun(prompt, n, 5, false);
        int[] reference = run.generatedTokens();
        int first = -1;
        for (int i = 0; i < n; i++) {
            if (buddy[i] != reference[i]) {
                first = i;
                break;
            }
        }
        if (first < 0) {
            return new Outcome(prompt, buddy, reference, n, -1, Float.NaN, Float.NaN, -1, 0f);
        }
        // Replay llama.cpp's tokens through Buddy's decode path and find where its logits first move away.
        int driftStep = -1;
        float drift = 0f;
        state.reset();
        int[] seq = Arrays.copyOf(prompt, prompt.length + n);
        System.arraycopy(reference, 0, seq, prompt.length, n);
        float[] logits = tf.forward(state, seq, 0, prompt.length, null, true);
        for (int step = 0; step < n && driftStep < 0; step++) {
            for (TokenProbability candidate : run.topKPerStep().get(step)) {
                float d = Math.abs(candidate.logit() - logits[candidate.tokenId()]);
                if (d > DRIFT && d > drift) {
                    drift = d;
                    driftStep = step;
                }
            }
            if (step + 1 < n) {
                logits = tf.forward(state, seq, prompt.length + step, prompt.length + step, 1, null, true);
            }
        }
        int[] prefix = Arrays.copyOf(prompt, prompt.length + first);
        System.arraycopy(reference, 0, prefix, prompt.length, first);
        float llamaMargin = topTwoMargin(llama.nextTokenLogits(prefix));
        state.reset();
        float buddyMargin = topTwoMargin(tf.forward(state, prefix, 0, prefix.length, null, true));
        return new Outcome(prompt, buddy, reference, first, first, llamaMargin, buddyMargin, driftStep, drift);
    }

    public static float topTwoMargin(float[] logits) {
        float best = Float.NEGATIVE_INFINITY;
        float second = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            if (l > best) {
                second = best;
                best = l;
            } else if (l > second) {
                second = l;
            }
        }
        return best - second;
    }
}
