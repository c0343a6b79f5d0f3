package dev.buddy.router;

/**
 * Pools per-token vectors over all positions seen so far with an O(width) update per new token, independent of how
 * many tokens came before. Mean pooling keeps the running sum in double so a long generation does not drift from the
 * exact mean.
 */
final class RunningPool {
    private final Pooling pooling;
    private final int width;
    private final double[] sum;
    private final float[] last;
    private final float[] max;
    private long count;

    RunningPool(Pooling pooling, int width) {
        this.pooling = pooling;
        this.width = width;
        this.sum = new double[pooling == Pooling.MEAN ? width : 0];
        this.last = new float[pooling == Pooling.LAST ? width : 0];
        this.max = new float[pooling == Pooling.MAX ? width : 0];
    }

    void reset() {
        count = 0;
        java.util.Arrays.fill(sum, 0.0);
    }

    long count() {
        return count;
    }

    void add(float[] v, int offset) {
        switch (pooling) {
            case MEAN -> {
                for (int i = 0; i < width; i++) {
                    sum[i] += v[offset + i];
                }
            }
            case LAST -> System.arraycopy(v, offset, last, 0, width);
            case MAX -> {
                if (count == 0) {
                    System.arraycopy(v, offset, max, 0, width);
                } else {
                    for (int i = 0; i < width; i++) {
                        // Math.max propagates NaN, which then ranks last in TopK.
                        max[i] = Math.max(max[i], v[offset + i]);
                    }
                }
            }
        }
        count++;
    }

    /** Writes the pooled vector; zeros before the first token. */
    void pooled(float[] dst) {
        if (count == 0) {
            java.util.Arrays.fill(dst, 0, width, 0f);
            return;
        }
        switch (pooling) {
            case MEAN -> {
                for (int i = 0; i < width; i++) {
                    dst[i] = (float) (sum[i] / count);
                }
            }
            case LAST -> System.arraycopy(last, 0, dst, 0, width);
            case MAX -> System.arraycopy(max, 0, dst, 0, width);
        }
    }
}
