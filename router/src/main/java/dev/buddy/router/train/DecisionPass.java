package dev.buddy.router.train;

import dev.buddy.router.DecisionModule;
import dev.buddy.router.Pooling;

/**
 * The Decision Module over one training sequence: forward exactly as inference routes a prefill (per-token scores
 * from {@link DecisionModule#tokenScores}, pooled as the engine's running pool does, fused with the prior and cut by
 * {@link DecisionModule#route}), so the mask used in training is the one the saved router would pick; and the
 * backward pass from {@code ∂L/∂s'} to the MLP's weights.
 */
final class DecisionPass {
    private final RouterParameters shape;
    private final int layerCount;
    private final int middle;
    private final float[] tokenScores;
    private final float[] rowScratch;
    private final float[] hiddenScratch;
    private final double[] sums;
    private final float[] pooled;
    private final float[] fused;
    private final boolean[] mask;
    private final int[] argmax;
    private final double[] dToken;
    private final double[] z;
    private final double[] dz;
    private Pooling pooling;
    private int length;

    DecisionPass(RouterParameters shape, int layerCount, int capacity) {
        this.shape = shape;
        this.layerCount = layerCount;
        this.middle = layerCount - 2;
        this.tokenScores = new float[capacity * middle];
        this.rowScratch = new float[middle];
        this.hiddenScratch = new float[shape.hiddenDim];
        this.sums = new double[middle];
        this.pooled = new float[middle];
        this.fused = new float[middle];
        this.mask = new boolean[layerCount];
        this.argmax = new int[middle];
        this.dToken = new double[middle];
        this.z = new double[shape.hiddenDim];
        this.dz = new double[shape.hiddenDim];
    }

    /**
     * Scores and routes one sequence.
     *
     * @param features {@code n × featureDim}, the layer-0 rows
     * @param k        middle blocks to run
     */
    void forward(DecisionModule module, float[] features, int n, int k) {
        int d = shape.inputDim;
        this.pooling = module.pooling();
        this.length = n;
        for (int t = 0; t < n; t++) {
            module.tokenScores(features, t * d, hiddenScratch, rowScratch);
            System.arraycopy(rowScratch, 0, tokenScores, t * middle, middle);
        }
        switch (pooling) {
            case MEAN -> {
                java.util.Arrays.fill(sums, 0.0);
                for (int t = 0; t < n; t++) {
                    for (int j = 0; j < middle; j++) {
                        sums[j] += tokenScores[t * middle + j];
                    }
                }
                for (int j = 0; j < middle; j++) {
                    pooled[j] = (float) (sums[j] / n);
                }
            }
            case LAST -> System.arraycopy(tokenScores, (n - 1) * middle, pooled, 0, middle);
            case MAX -> {
                for (int j = 0; j < middle; j++) {
                    float best = tokenScores[j];
                    int at = 0;
                    for (int t = 1; t < n; t++) {
                        float v = tokenScores[t * middle + j];
                        if (Math.max(best, v) != best) {
                            best = Math.max(best, v);
                            at = t;
                        }
                    }
                    pooled[j] = best;
                    argmax[j] = at;
                }
            }
        }
        module.route(pooled, k, fused, mask);
    }

    /** The fused scores s' of the last forward pass, one per middle block. */
    float[] fused() {
        return fused;
    }

    /** The block mask of the last forward pass, {@code layerCount} entries. */
    boolean[] mask() {
        return mask;
    }

    /** The pooled MLP scores s of the last forward pass. */
    float[] pooled() {
        return pooled;
    }

    /**
     * Accumulates {@code ∂L/∂θ} into {@code gradient} given {@code ∂L/∂s'} (which equals {@code ∂L/∂s}: the prior
     * term does not depend on θ).
     *
     * @param params   the flat weights the forward pass used
     * @param features the same features
     */
    void backward(float[] params, float[] features, double[] dFused, double[] gradient) {
        int n = length;
        for (int t = 0; t < n; t++) {
            boolean any = false;
            for (int j = 0; j < middle; j++) {
                dToken[j] = switch (pooling) {
                    case MEAN -> dFused[j] / n;
                    case LAST -> t == n - 1 ? dFused[j] : 0.0;
                    case MAX -> t == argmax[j] ? dFused[j] : 0.0;
                };
                any |= dToken[j] != 0.0;
            }
            if (any) {
                tokenBackward(params, features, t * shape.inputDim, gradient);
            }
        }
    }

    private void tokenBackward(float[] p, float[] x, int xo, double[] g) {
        int d = shape.inputDim;
        int r = shape.hiddenDim;
        for (int h = 0; h < r; h++) {
            double sum = p[shape.b1Offset + h];
            int row = shape.w1Offset + h * d;
            for (int i = 0; i < d; i++) {
                sum += (double) p[row + i] * x[xo + i];
            }
            z[h] = sum;
        }
        for (int h = 0; h < r; h++) {
            double sigma = 1.0 / (1.0 + Math.exp(-z[h]));
            double activation = z[h] * sigma;
            double dHidden = 0;
            for (int j = 0; j < middle; j++) {
                g[shape.w2Offset + j * r + h] += dToken[j] * activation;
                dHidden += p[shape.w2Offset + j * r + h] * dToken[j];
            }
            dz[h] = dHidden * sigma * (1.0 + z[h] * (1.0 - sigma));
        }
        for (int j = 0; j < middle; j++) {
            g[shape.b2Offset + j] += dToken[j];
        }
        for (int h = 0; h < r; h++) {
            double dzh = dz[h];
            if (dzh == 0.0) {
                continue;
            }
            g[shape.b1Offset + h] += dzh;
            int row = shape.w1Offset + h * d;
            for (int i = 0; i < d; i++) {
                g[row + i] += dzh * x[xo + i];
            }
        }
    }

    int layerCount() {
        return layerCount;
    }
}
