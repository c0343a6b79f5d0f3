package dev.buddy.router;

import java.util.Arrays;

/**
 * BUDDY's Decision Module (paper §4.2): a token-wise two-layer MLP from a layer-0 cache feature to one score per
 * middle block, pooled over positions, fused with the offline prior as {@code s' = s + ω·p̃}, and cut to the top k.
 * Output j scores block j+1 (blocks 0 and L−1 always run and have no score).
 *
 * <p>Immutable and shareable; per-sequence state lives in {@link DynamicRoutingSession}.
 */
public final class DecisionModule {
    /** Hidden width r of the paper's MLP (App. C.2). */
    public static final int DEFAULT_HIDDEN = 32;
    /** The paper's default prior weight ω (§5.1, Table 7). */
    public static final float DEFAULT_OMEGA = 0.1f;

    private final int layerCount;
    private final TwoLayerMlp mlp;
    private final float[] prior;
    private final float omega;
    private final FeatureSource featureSource;
    private final Pooling pooling;

    /**
     * @param prior the normalised prior p̃, one value per middle block (all zeros for none)
     */
    public DecisionModule(int layerCount, TwoLayerMlp mlp, float[] prior, float omega, FeatureSource featureSource,
                          Pooling pooling) {
        Budget.requireRoutableDepth(layerCount);
        int middle = layerCount - 2;
        if (mlp.outputDim() != middle) {
            throw new IllegalArgumentException("decision MLP has " + mlp.outputDim() + " outputs but a "
                    + layerCount + "-block model has " + middle + " middle blocks");
        }
        if (prior.length != middle) {
            throw new IllegalArgumentException("prior has " + prior.length + " values, expected " + middle);
        }
        for (float p : prior) {
            if (!Float.isFinite(p)) {
                throw new IllegalArgumentException("prior contains a non-finite value");
            }
        }
        if (!Float.isFinite(omega)) {
            throw new IllegalArgumentException("omega must be finite, got " + omega);
        }
        this.layerCount = layerCount;
        this.mlp = mlp;
        this.prior = prior.clone();
        this.omega = omega;
        this.featureSource = featureSource;
        this.pooling = pooling;
    }

    public int layerCount() {
        return layerCount;
    }

    public int middleCount() {
        return layerCount - 2;
    }

    /** Width of one input feature: the layer-0 KV row, n_kv_heads·head_dim. */
    public int featureDim() {
        return mlp.inputDim();
    }

    public TwoLayerMlp mlp() {
        return mlp;
    }

    public float[] prior() {
        return prior.clone();
    }

    public float omega() {
        return omega;
    }

    public FeatureSource featureSource() {
        return featureSource;
    }

    public Pooling pooling() {
        return pooling;
    }

    /** One token's per-block scores u_t (before pooling); {@code hidden} is scratch of the MLP's hidden width. */
    public void tokenScores(float[] feature, int offset, float[] hidden, float[] out) {
        mlp.forward(feature, offset, hidden, out, 0);
    }

    /**
     * Turns pooled scores into a block mask: {@code s' = pooled + ω·p̃}, top-k of the middle blocks, first and last
     * block always set. Allocation-free.
     *
     * @param pooled   pooled scores, {@link #middleCount()} values
     * @param k        middle blocks to run, 1..L−2
     * @param fused    scratch for s', {@link #middleCount()} values
     * @param mask     receives the mask, {@link #layerCount()} values
     */
    public void route(float[] pooled, int k, float[] fused, boolean[] mask) {
        int middle = layerCount - 2;
        for (int j = 0; j < middle; j++) {
            fused[j] = pooled[j] + omega * prior[j];
        }
        TopK.select(fused, middle, k, mask, 1);
        mask[0] = true;
        mask[layerCount - 1] = true;
    }

    /**
     * Routes a whole feature sequence at once: the reference the incremental session must agree with. Allocates;
     * meant for offline tools and tests.
     */
    public boolean[] routeSequence(float[][] features, int k) {
        int middle = layerCount - 2;
        RunningPool pool = new RunningPool(pooling, middle);
        float[] hidden = new float[mlp.hiddenDim()];
        float[] out = new float[middle];
        for (float[] f : features) {
            tokenScores(f, 0, hidden, out);
            pool.add(out, 0);
        }
        float[] pooled = new float[middle];
        pool.pooled(pooled);
        boolean[] mask = new boolean[layerCount];
        route(pooled, k, new float[middle], mask);
        return mask;
    }

    @Override
    public String toString() {
        return "DecisionModule[L=" + layerCount + ", d=" + featureDim() + ", r=" + mlp.hiddenDim() + ", "
                + featureSource.fileName() + ", " + pooling.fileName() + ", ω=" + omega + ", prior="
                + (isZero(prior) ? "none" : "set") + "]";
    }

    private static boolean isZero(float[] a) {
        return Arrays.equals(a, new float[a.length]);
    }
}
