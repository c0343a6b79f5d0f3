package dev.buddy.router;

import java.util.Arrays;

/**
 * Normalisation of an offline per-block importance indicator into the prior p̃ the Decision Module adds to its
 * scores (paper §4.2.2, App. B): heavy-tail stabilisation, robust z-score, rank normalisation to (0,1), then the
 * standardisation of Eq. 2. Direction unification (clipping ΔPPL or Taylor scores at 0, 1−cos for cosine) is the
 * indicator's own business and happens before this.
 */
public final class Priors {
    /** ε of the robust z-score and of Eq. 2's standardisation. */
    public static final double EPSILON = 1e-6;

    private Priors() {}

    /**
     * The full App. B pipeline for one indicator over the middle blocks.
     *
     * @param raw       non-negative importance per middle block, larger = more important
     * @param heavyTail apply log(1+x) first (ΔPPL and Taylor); false for cosine distances
     */
    public static float[] normalize(double[] raw, boolean heavyTail) {
        int n = raw.length;
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(raw[i]) || raw[i] < 0) {
                throw new IllegalArgumentException("importance of middle block " + (i + 1) + " is " + raw[i]
                        + "; indicators must be finite and non-negative after direction unification");
            }
            x[i] = heavyTail ? Math.log1p(raw[i]) : raw[i];
        }
        double[] sorted = x.clone();
        Arrays.sort(sorted);
        double median = quantile(sorted, 0.5);
        double iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25);
        double[] z = new double[n];
        for (int i = 0; i < n; i++) {
            z[i] = (x[i] - median) / (iqr + EPSILON);
        }
        return standardize(rankNormalize(z));
    }

    /** u = (1 + rank)/(n + 1) ∈ (0,1), rank 0-based ascending; tied values share their average rank. */
    static double[] rankNormalize(double[] z) {
        int n = z.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(z[a], z[b]));
        double[] u = new double[n];
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && z[order[j + 1]] == z[order[i]]) {
                j++;
            }
            double rank = (i + j) / 2.0;
            for (int t = i; t <= j; t++) {
                u[order[t]] = (1 + rank) / (n + 1);
            }
            i = j + 1;
        }
        return u;
    }

    /** Eq. 2: p̃ = (p − mean(p)) / (std(p) + ε), population standard deviation. */
    public static float[] standardize(double[] p) {
        int n = p.length;
        double mean = 0;
        for (double v : p) {
            mean += v;
        }
        mean /= n;
        double var = 0;
        for (double v : p) {
            var += (v - mean) * (v - mean);
        }
        double std = Math.sqrt(var / n);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) ((p[i] - mean) / (std + EPSILON));
        }
        return out;
    }

    /** Linear-interpolated quantile of sorted data (NumPy's default). */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
