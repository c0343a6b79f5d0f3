package dev.buddy.router.train;

import dev.buddy.engine.model.Rope;

/**
 * RoPE over a whole sequence of heads, forward and backward, using the engine's {@link Rope} (both pair styles, YaRN
 * and per-pair factors) so training rotates exactly as inference does. Each position's rotation is a scaled
 * orthogonal map R, so the input gradient is {@code Rᵀ·dy}: the same rotation with the sines negated.
 */
final class RopeRotation {
    private final Rope rope;
    private final int pairs;
    private final float[] cos;
    private final float[] sin;
    private final float[] negSin;
    private int preparedStart = -1;
    private int preparedCount;

    RopeRotation(Rope rope, int capacity) {
        this.rope = rope;
        this.pairs = rope.dimensions() / 2;
        this.cos = new float[capacity * pairs];
        this.sin = new float[capacity * pairs];
        this.negSin = new float[capacity * pairs];
    }

    /** Computes the angles of positions {@code start .. start+n} (cached while they stay the same). */
    void prepare(int start, int n) {
        if (start == preparedStart && n <= preparedCount) {
            return;
        }
        for (int t = 0; t < n; t++) {
            rope.angles(start + t, cos, sin, t * pairs);
        }
        for (int i = 0; i < n * pairs; i++) {
            negSin[i] = -sin[i];
        }
        preparedStart = start;
        preparedCount = n;
    }

    /** Rotates every head of {@code n} rows of {@code heads·headDim} values in place. */
    void forward(float[] x, int n, int heads, int headDim) {
        apply(x, n, heads, headDim, sin);
    }

    /** Applies Rᵀ to the gradient rows in place. */
    void backward(float[] dx, int n, int heads, int headDim) {
        apply(dx, n, heads, headDim, negSin);
    }

    private void apply(float[] x, int n, int heads, int headDim, float[] sines) {
        int width = heads * headDim;
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                rope.rotate(x, t * width + h * headDim, cos, sines, t * pairs);
            }
        }
    }
}
