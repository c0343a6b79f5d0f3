package dev.buddy.router.eval;

/** The summary statistics evaluation reports, as lm-evaluation-harness computes them. */
public final class Stats {
    private Stats() {}

    /**
     * Standard error of a proportion {@code p = correct/n} of 0/1 outcomes: lm-eval's {@code mean_stderr}, the sample
     * standard deviation over {@code sqrt(n)}, which for 0/1 values is {@code sqrt(p(1−p)/(n−1))}. NaN for
     * {@code n < 2}, where the sample standard deviation is undefined.
     */
    public static double binomialStderr(long correct, long n) {
        if (correct < 0 || correct > n) {
            throw new IllegalArgumentException(correct + " correct out of " + n);
        }
        if (n < 2) {
            return Double.NaN;
        }
        double p = correct / (double) n;
        return Math.sqrt(p * (1 - p) / (n - 1));
    }

    /**
     * numpy's {@code argmax}: the index of the first maximum, where a NaN counts as larger than everything (numpy
     * returns the first NaN).
     */
    public static int argmax(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("argmax of no values");
        }
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (Double.isNaN(values[best])) {
                return best;
            }
            if (Double.isNaN(values[i]) || values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
