package dev.buddy.router;

/**
 * The token-wise Linear → SiLU → Linear network of the Decision Module and the Budget Predictor (paper §4.2.3,
 * App. C.2): {@code out = W2·silu(W1·x + b1) + b2}.
 *
 * <p>Weights are row-major as GGUF stores an {@code [ne0 = in, ne1 = out]} matrix: row r of W1 is
 * {@code w1[r·inputDim .. (r+1)·inputDim)}. Arithmetic is plain Java float math with a fixed summation order and
 * {@link StrictMath#exp}, so a given input produces the same bits on every JVM and machine: routes are reproducible
 * across hosts, which a SIMD width–dependent reduction would not guarantee. The network is tiny (d·32 + 32·(L−2)
 * multiply-adds per token), so this costs nothing that matters.
 */
public final class TwoLayerMlp {
    private final int inputDim;
    private final int hiddenDim;
    private final int outputDim;
    private final float[] w1;
    private final float[] b1;
    private final float[] w2;
    private final float[] b2;

    public TwoLayerMlp(int inputDim, int hiddenDim, int outputDim, float[] w1, float[] b1, float[] w2, float[] b2) {
        if (inputDim < 1 || hiddenDim < 1 || outputDim < 1) {
            throw new IllegalArgumentException("MLP dimensions must be positive: " + inputDim + " -> " + hiddenDim
                    + " -> " + outputDim);
        }
        requireLength("W1", w1, (long) inputDim * hiddenDim);
        requireLength("b1", b1, hiddenDim);
        requireLength("W2", w2, (long) hiddenDim * outputDim);
        requireLength("b2", b2, outputDim);
        this.inputDim = inputDim;
        this.hiddenDim = hiddenDim;
        this.outputDim = outputDim;
        this.w1 = w1.clone();
        this.b1 = b1.clone();
        this.w2 = w2.clone();
        this.b2 = b2.clone();
    }

    private static void requireLength(String name, float[] a, long expected) {
        if (a.length != expected) {
            throw new IllegalArgumentException(name + " has " + a.length + " values, expected " + expected);
        }
    }

    public int inputDim() {
        return inputDim;
    }

    public int hiddenDim() {
        return hiddenDim;
    }

    public int outputDim() {
        return outputDim;
    }

    /**
     * Computes the network for one token. Allocation-free.
     *
     * @param x       input, {@code inputDim} values from {@code xOffset}
     * @param hidden  scratch of at least {@code hiddenDim}
     * @param out     receives {@code outputDim} values from {@code outOffset}
     */
    public void forward(float[] x, int xOffset, float[] hidden, float[] out, int outOffset) {
        for (int h = 0; h < hiddenDim; h++) {
            float z = b1[h] + dot(w1, h * inputDim, x, xOffset, inputDim);
            hidden[h] = silu(z);
        }
        for (int o = 0; o < outputDim; o++) {
            out[outOffset + o] = b2[o] + dot(w2, o * hiddenDim, hidden, 0, hiddenDim);
        }
    }

    /** Four independent partial sums (a fixed order) so the loop is not bound by one add chain's latency. */
    private static float dot(float[] w, int wOffset, float[] x, int xOffset, int n) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += w[wOffset + i] * x[xOffset + i];
            s1 += w[wOffset + i + 1] * x[xOffset + i + 1];
            s2 += w[wOffset + i + 2] * x[xOffset + i + 2];
            s3 += w[wOffset + i + 3] * x[xOffset + i + 3];
        }
        for (; i < n; i++) {
            s0 += w[wOffset + i] * x[xOffset + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    static float silu(float z) {
        return (float) (z / (1.0 + StrictMath.exp(-z)));
    }

    /** A copy of W1, row-major {@code [hiddenDim][inputDim]}. */
    public float[] w1() {
        return w1.clone();
    }

    public float[] b1() {
        return b1.clone();
    }

    /** A copy of W2, row-major {@code [outputDim][hiddenDim]}. */
    public float[] w2() {
        return w2.clone();
    }

    public float[] b2() {
        return b2.clone();
    }
}
