package dev.buddy.router.train;

/**
 * One training sequence under teacher forcing: position t predicts {@code tokens[t+1]}, and only tokens from
 * {@code firstTarget} on are scored (the response of an instruction example; everything after BOS for plain text).
 *
 * @param tokens      the whole sequence, prompt included
 * @param firstTarget index of the first scored token, at least 1
 * @param label       where the example came from, for messages (e.g. {@code alpaca_5000.json example 17})
 */
public record TrainingExample(int[] tokens, int firstTarget, String label) {
    public TrainingExample {
        if (firstTarget < 1) {
            throw new IllegalArgumentException("the first scored token must come after position 0, got "
                    + firstTarget);
        }
    }

    public int length() {
        return tokens.length;
    }

    /** How many tokens are scored. */
    public int targetCount() {
        return Math.max(0, tokens.length - firstTarget);
    }

    /** Writes position t's target token, or -1 where nothing is scored, for {@code t < length()}. */
    public void targets(int[] dst) {
        int n = tokens.length;
        for (int t = 0; t < n; t++) {
            int next = t + 1;
            dst[t] = next < n && next >= firstTarget ? tokens[next] : -1;
        }
    }
}
