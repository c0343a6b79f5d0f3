package dev.buddy.router;

/**
 * Per-sequence BUDDY routing with the KV-aware planner (paper §4.3): every observed position's layer-0 feature goes
 * through the token-wise MLP exactly once and into a running pool, so rerouting at a decode step costs one MLP
 * evaluation plus O(L) pooling and top-k, whatever the context length. All buffers are allocated up front; observing
 * and routing allocate nothing.
 *
 * <p>Budget predictor: when the session was opened without a budget, k̂ is predicted from the mean-pooled predictor
 * logits at each prefill route (so a chunked prompt is judged on all chunks seen so far) and frozen at the first decode
 * step, until {@link #reset()}.
 *
 * <p>Causal per-position routes for a call of several tokens come from the same two steps taken once per position
 * ({@link #observe}, then {@link #route} as a decode step): token t's route then pools exactly the positions ≤ t, at
 * O(1) per token. {@link RoutingPlanner#planTokens} drives it that way; a prompt routed as a whole calls
 * {@link #route} once after observing all its positions.
 */
public final class DynamicRoutingSession implements RoutingSession {
    private final DecisionModule decision;
    private final BudgetPredictor predictor;
    private final Reroute reroute;
    private final int layerCount;
    private final int featureDim;

    private final float[] feature;
    private final float[] featureScratch;
    private final float[] hidden;
    private final float[] tokenOut;
    private final float[] pooled;
    private final float[] fused;
    private final boolean[] mask;
    private final boolean[] candidate;
    private final RunningPool pool;

    private final float[] predictorOut;
    private final float[] predictorPooled;
    private final RunningPool predictorPool;
    private boolean predictorFrozen;

    private int k;
    private int positions;
    private long decodeSteps;
    private boolean routed;

    DynamicRoutingSession(DynamicRouter router, Budget budget, Reroute reroute) {
        this.decision = router.decision();
        this.reroute = java.util.Objects.requireNonNull(reroute, "reroute");
        this.layerCount = decision.layerCount();
        this.featureDim = decision.featureDim();
        int middle = layerCount - 2;
        if (budget != null) {
            this.k = budget.middleBlocks(layerCount);
            this.predictor = null;
        } else {
            this.predictor = router.predictor().orElseThrow(() -> new InvalidBudgetException("no budget given and"
                    + " router " + router.name() + " has no budget predictor; give a budget or a drop count"));
            this.k = middle;
        }
        this.feature = new float[featureDim];
        this.featureScratch = new float[featureDim];
        int hiddenWidth = Math.max(decision.mlp().hiddenDim(), predictor == null ? 0 : predictor.mlp().hiddenDim());
        this.hidden = new float[hiddenWidth];
        this.tokenOut = new float[middle];
        this.pooled = new float[middle];
        this.fused = new float[middle];
        this.mask = new boolean[layerCount];
        this.candidate = new boolean[layerCount];
        this.pool = new RunningPool(decision.pooling(), middle);
        this.predictorOut = new float[predictor == null ? 0 : middle];
        this.predictorPooled = new float[predictor == null ? 0 : middle];
        this.predictorPool = predictor == null ? null : new RunningPool(Pooling.MEAN, middle);
        java.util.Arrays.fill(mask, true);
    }

    @Override
    public int layerCount() {
        return layerCount;
    }

    @Override
    public boolean needsFeatures() {
        return true;
    }

    @Override
    public int featureDim() {
        return featureDim;
    }

    public DecisionModule decision() {
        return decision;
    }

    public Reroute reroute() {
        return reroute;
    }

    /** True when k was predicted by the budget predictor rather than given. */
    public boolean budgetPredicted() {
        return predictor != null;
    }

    /** The executed fraction (k+2)/L of the current route; b̂ when predicted. */
    public double budget() {
        return (k + 2) / (double) layerCount;
    }

    /** Decode steps seen since the last reset. */
    public long decodeSteps() {
        return decodeSteps;
    }

    @Override
    public void reset() {
        positions = 0;
        decodeSteps = 0;
        routed = false;
        pool.reset();
        if (predictor != null) {
            predictorPool.reset();
            predictorFrozen = false;
            k = layerCount - 2;
        }
        java.util.Arrays.fill(mask, true);
    }

    @Override
    public int positions() {
        return positions;
    }

    @Override
    public void observe(Layer0Features cache, int position) {
        decision.featureSource().read(cache, position, feature, featureScratch, featureDim);
        append(feature, 0);
    }

    @Override
    public void append(float[] features, int offset) {
        decision.tokenScores(features, offset, hidden, tokenOut);
        pool.add(tokenOut, 0);
        if (predictor != null && !predictorFrozen) {
            predictor.tokenLogits(features, offset, hidden, predictorOut);
            predictorPool.add(predictorOut, 0);
        }
        positions++;
    }

    @Override
    public boolean route(Phase phase) {
        if (positions == 0) {
            throw new IllegalStateException("route() before any position was observed");
        }
        if (phase == Phase.PREFILL || !routed) {
            if (predictor != null && !predictorFrozen) {
                predictorPool.pooled(predictorPooled);
                k = predictor.predictMiddleBlocks(predictorPooled);
            }
        } else {
            predictorFrozen = true;
            decodeSteps++;
            if (!reroute.reroutesAtDecodeStep(decodeSteps)) {
                return false;
            }
        }
        pool.pooled(pooled);
        decision.route(pooled, k, fused, candidate);
        boolean changed = !routed || !java.util.Arrays.equals(candidate, mask);
        System.arraycopy(candidate, 0, mask, 0, layerCount);
        routed = true;
        return changed;
    }

    /** The pooled Decision Module scores s over all observed positions (before the prior), L−2 values. */
    public void pooledScores(float[] dst) {
        pool.pooled(dst);
    }

    @Override
    public boolean runs(int block) {
        return mask[block];
    }

    @Override
    public void copyMaskTo(boolean[] dst) {
        System.arraycopy(mask, 0, dst, 0, layerCount);
    }

    @Override
    public int middleBlocks() {
        return k;
    }
}
