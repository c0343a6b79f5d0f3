package dev.buddy.engine.e2e;

import java.util.Arrays;

/**
 * Compares two engines' next-token distributions position by position: how often their arg-max agrees, and how far
 * apart the reference's ten most likely tokens' probabilities are.
 */
public final class LogitsAgreement {
    private int positions;
    private int top1Agreements;
    private double maxTop10ProbabilityDiff;
    private double maxTop10LogitDiff;
    private int worstPosition = -1;

    /** Adds one position: {@code reference} and {@code actual} are the logits over the same vocabulary. */
    public void add(float[] reference, float[] actual) {
        double[] p = softmax(reference);
        double[] q = softmax(actual);
        int[] top = topIndices(p, 10);
        if (top[0] == topIndices(q, 1)[0]) {
            top1Agreements++;
        }
        for (int t : top) {
            maxTop10LogitDiff = Math.max(maxTop10LogitDiff, Math.abs((double) reference[t] - actual[t]));
            double d = Math.abs(p[t] - q[t]);
            if (d > maxTop10ProbabilityDiff) {
                maxTop10ProbabilityDiff = d;
                worstPosition = positions;
            }
        }
        positions++;
    }

    public void add(double[] reference, float[] actual) {
        float[] r = new float[reference.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = (float) reference[i];
        }
        add(r, actual);
    }

    public int positions() {
        return positions;
    }

    public double top1Agreement() {
        return positions == 0 ? Double.NaN : (double) top1Agreements / positions;
    }

    public double maxTop10ProbabilityDiff() {
        return maxTop10ProbabilityDiff;
    }

    public double maxTop10LogitDiff() {
        return maxTop10LogitDiff;
    }

    public String describe() {
        return String.format(java.util.Locale.ROOT,
                "top-1 %d/%d (%.2f%%), max |Δp| over top-10 %.2e (position %d), max |Δlogit| over top-10 %.2e",
                top1Agreements, positions, 100 * top1Agreement(), maxTop10ProbabilityDiff, worstPosition,
                maxTop10LogitDiff);
    }

    static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** Indices of the k largest values, largest first, ties to the lower index. */
    static int[] topIndices(double[] values, int k) {
        int[] best = new int[k];
        Arrays.fill(best, -1);
        for (int i = 0; i < values.length; i++) {
            int j = k - 1;
            if (best[j] >= 0 && values[best[j]] >= values[i]) {
                continue;
            }
            while (j > 0 && (best[j - 1] < 0 || values[best[j - 1]] < values[i])) {
                best[j] = best[j - 1];
                j--;
            }
            best[j] = i;
        }
        return best;
    }
}
