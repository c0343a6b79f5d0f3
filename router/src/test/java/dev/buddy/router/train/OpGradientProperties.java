package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import dev.buddy.engine.model.Rope;
import dev.buddy.engine.model.RopeConfig;
import dev.buddy.engine.model.RopeStyle;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.WeightMatrix;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.codec.BlockCodecs;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Each backward op of the training pass against finite differences of its own forward op (or, for the linear ops,
 * against the exact adjoint computed in double): RMSNorm, SwiGLU, causal GQA attention, RoPE in both pair styles,
 * and the transposed product through stored F32, F16 and Q8_0 matrices. Scalar objectives are random projections
 * {@code L = Σ r·y} accumulated in double.
 */
class OpGradientProperties {
    private static final Parallel POOL = new Parallel(2);

    @AfterContainer
    static void closePool() {
        POOL.close();
    }

    @Property(tries = 30)
    void rmsNormInputGradientMatchesFiniteDifferences(@ForAll long seed, @ForAll @IntRange(min = 1, max = 4) int rows,
                                                      @ForAll @IntRange(min = 2, max = 40) int width) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = gaussian(random, rows * width, 1.0);
        float[] w = gaussian(random, width, 1.0);
        float[] r = gaussian(random, rows * width, 1.0);
        float[] dir = gaussian(random, rows * width, 1.0);
        float[] y = new float[rows * width];
        float[] inv = new float[rows];
        float[] dx = new float[rows * width];
        RmsNorm.backward(r, x, invRmsOf(x, rows, width, w), w, rows, width, dx);
        double analytic = FiniteDifference.dot(dx, dir, dir.length);
        double numeric = FiniteDifference.derivative(e -> {
            float[] xe = shifted(x, dir, e);
            RmsNorm.forward(xe, rows, width, w, 1e-5f, y, inv);
            return FiniteDifference.dot(y, r, y.length);
        }, stepFor(x, rows, width));
        assertClose(analytic, numeric, 1e-3, "RMSNorm");
    }

    /**
     * A finite-difference step small against every row's RMS. RMSNorm is x/rms(x): near a row with tiny RMS (a narrow
     * row of small Gaussians) its higher derivatives blow up as 1/rms^k, and a fixed step of 1e-2 along a unit-scale
     * direction then moves the input by a large fraction of itself, so even the 5-point stencil's O(h^4) error exceeds
     * the tolerance. Scaling the step keeps the check about the gradient, not the stencil.
     */
    private static double stepFor(float[] x, int rows, int width) {
        double minRms = Double.MAX_VALUE;
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < width; i++) {
                ss += (double) x[r * width + i] * x[r * width + i];
            }
            minRms = Math.min(minRms, Math.sqrt(ss / width));
        }
        return 1e-2 * Math.min(1.0, Math.max(minRms, 1e-2));
    }

    private static float[] invRmsOf(float[] x, int rows, int width, float[] w) {
        float[] y = new float[x.length];
        float[] inv = new float[rows];
        RmsNorm.forward(x, rows, width, w, 1e-5f, y, inv);
        return inv;
    }

    @Property(tries = 30)
    void swiGluGradientsMatchFiniteDifferences(@ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int n = 37;
        float[] g = gaussian(random, n, 2.0);
        float[] u = gaussian(random, n, 1.0);
        float[] r = gaussian(random, n, 1.0);
        float[] dg = new float[n];
        float[] du = new float[n];
        SwiGlu.backward(r, g, u, n, dg, du);
        float[] dirG = gaussian(random, n, 1.0);
        float[] dirU = gaussian(random, n, 1.0);
        float[] out = new float[n];
        double analytic = FiniteDifference.dot(dg, dirG, n) + FiniteDifference.dot(du, dirU, n);
        double numeric = FiniteDifference.derivative(e -> {
            SwiGlu.forward(shifted(g, dirG, e), shifted(u, dirU, e), n, out);
            return FiniteDifference.dot(out, r, n);
        }, 1e-2);
        assertClose(analytic, numeric, 1e-3, "SwiGLU");
    }

    @Property(tries = 25)
    void causalAttentionGradientsMatchFiniteDifferences(@ForAll long seed,
                                                        @ForAll @IntRange(min = 1, max = 7) int n,
                                                        @ForAll @IntRange(min = 0, max = 2) int layout) {
        int[][] layouts = {{4, 4}, {4, 2}, {6, 1}};
        int heads = layouts[layout][0];
        int kvHeads = layouts[layout][1];
        int headDim = 8;
        int capacity = 8;
        SplittableRandom random = new SplittableRandom(seed);
        CausalAttention attention = new CausalAttention(heads, kvHeads, headDim, capacity);
        int qSize = n * heads * headDim;
        int kvSize = n * kvHeads * headDim;
        float[] q = gaussian(random, qSize, 1.0);
        float[] k = gaussian(random, kvSize, 1.0);
        float[] v = gaussian(random, kvSize, 1.0);
        float[] r = gaussian(random, qSize, 1.0);
        float[] probs = new float[attention.probabilitySize()];
        float[] out = new float[qSize];
        attention.forward(q, k, v, n, probs, out, POOL);
        float[] dq = new float[qSize];
        float[] dk = new float[kvSize];
        float[] dv = new float[kvSize];
        attention.backward(r, q, k, v, probs, n, dq, dk, dv, POOL);
        float[] dirQ = gaussian(random, qSize, 1.0);
        float[] dirK = gaussian(random, kvSize, 1.0);
        float[] dirV = gaussian(random, kvSize, 1.0);
        double analytic = FiniteDifference.dot(dq, dirQ, qSize) + FiniteDifference.dot(dk, dirK, kvSize)
                + FiniteDifference.dot(dv, dirV, kvSize);
        float[] probe = new float[attention.probabilitySize()];
        float[] o = new float[qSize];
        double numeric = FiniteDifference.derivative(e -> {
            attention.forward(shifted(q, dirQ, e), shifted(k, dirK, e), shifted(v, dirV, e), n, probe, o, POOL);
            return FiniteDifference.dot(o, r, qSize);
        }, 1e-2);
        assertClose(analytic, numeric, 1e-3, "attention " + heads + "/" + kvHeads + " heads, n=" + n);
    }

    @Property(tries = 20)
    void ropeBackwardIsTheAdjointOfForward(@ForAll long seed, @ForAll boolean neox,
                                           @ForAll @IntRange(min = 1, max = 6) int n) {
        SplittableRandom random = new SplittableRandom(seed);
        int heads = 3;
        int headDim = 8;
        // Partial rotation (6 of 8 dims) also checks that the unrotated tail passes gradients straight through.
        RopeConfig config = new RopeConfig(neox ? RopeStyle.NEOX : RopeStyle.NORMAL, 6, 10000f, 0.5f, null, null);
        RopeRotation rope = new RopeRotation(new Rope(config), 8);
        rope.prepare(3, n);
        int size = n * heads * headDim;
        float[] x = gaussian(random, size, 1.0);
        float[] y = gaussian(random, size, 1.0);
        float[] rx = x.clone();
        rope.forward(rx, n, heads, headDim);
        float[] rty = y.clone();
        rope.backward(rty, n, heads, headDim);
        double left = FiniteDifference.dot(rx, y, size);
        double right = FiniteDifference.dot(x, rty, size);
        assertClose(left, right, 1e-5, "RoPE adjoint");
    }

    @Property(tries = 12)
    void transposedProductMatchesTheDequantisedAdjoint(@ForAll long seed,
                                                       @ForAll @IntRange(min = 1, max = 9) int n,
                                                       @ForAll @IntRange(min = 0, max = 2) int format) {
        GgmlType type = new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0}[format];
        SplittableRandom random = new SplittableRandom(seed);
        int rows = 37;
        int cols = 64;
        float[] values = gaussian(random, rows * cols, 0.2);
        MemorySegment data = MemorySegment.ofArray(BlockCodecs.quantize(type, values));
        WeightMatrix w = WeightMatrix.of("w", type, new long[] {cols, rows}, data);
        float[] dy = gaussian(random, n * rows, 1.0);
        float[] dx = gaussian(random, n * cols, 1.0);
        float[] before = dx.clone();
        TransposedProduct.accumulate(w, dy, n, dx, POOL);
        float[] row = new float[cols];
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < cols; c++) {
                double expected = before[t * cols + c];
                double scale = Math.abs(before[t * cols + c]);
                for (int r = 0; r < rows; r++) {
                    w.row(r, row, 0);
                    expected += (double) dy[t * rows + r] * row[c];
                    scale += Math.abs((double) dy[t * rows + r] * row[c]);
                }
                double error = Math.abs(expected - dx[t * cols + c]);
                assertTrue(error <= 1e-6 * scale + 1e-7, type + ": dX[" + t + "][" + c + "] = " + dx[t * cols + c]
                        + ", expected " + expected);
            }
        }
    }

    static float[] gaussian(SplittableRandom random, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (SyntheticModel.gaussian(random) * std);
        }
        return a;
    }

    static float[] shifted(float[] x, float[] dir, double e) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) (x[i] + e * dir[i]);
        }
        return out;
    }

    static void assertClose(double analytic, double numeric, double tolerance, String what) {
        double error = FiniteDifference.relativeError(analytic, numeric, 1.0);
        assertTrue(error <= tolerance, what + ": analytic " + analytic + " vs numeric " + numeric + " (relative error "
                + error + " > " + tolerance + ")");
    }
}
