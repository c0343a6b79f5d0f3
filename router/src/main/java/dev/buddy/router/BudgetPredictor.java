package dev.buddy.router;

/**
 * BUDDY's Budget Predictor at inference (paper §4.4, Eq. 4): a token-wise MLP over the same layer-0 features,
 * mean-pooled over the prompt, giving logits over actions k ∈ {1..L−2}; k̂ = argmax and b̂ = (k̂+2)/L. Argmax of the
 * softmax equals argmax of the logits; ties go to the smaller k (the cheaper budget). Training (GRPO) is out of scope.
 */
public final class BudgetPredictor {
    private final int layerCount;
    private final TwoLayerMlp mlp;

    public BudgetPredictor(int layerCount, TwoLayerMlp mlp) {
        Budget.requireRoutableDepth(layerCount);
        if (mlp.outputDim() != layerCount - 2) {
            throw new IllegalArgumentException("budget predictor has " + mlp.outputDim() + " actions but a "
                    + layerCount + "-block model has " + (layerCount - 2) + " middle blocks");
        }
        this.layerCount = layerCount;
        this.mlp = mlp;
    }

    public int layerCount() {
        return layerCount;
    }

    public int featureDim() {
        return mlp.inputDim();
    }

    public TwoLayerMlp mlp() {
        return mlp;
    }

    /** Predictor pooling is always the mean over prompt positions. */
    public Pooling pooling() {
        return Pooling.MEAN;
    }

    /** One token's action logits (before pooling). */
    public void tokenLogits(float[] feature, int offset, float[] hidden, float[] out) {
        mlp.forward(feature, offset, hidden, out, 0);
    }

    /** k̂ = 1 + argmax of the pooled logits; NaN logits never win, ties go to the smaller k. */
    public int predictMiddleBlocks(float[] pooledLogits) {
        int actions = layerCount - 2;
        int best = 0;
        float bestKey = key(pooledLogits[0]);
        for (int a = 1; a < actions; a++) {
            float key = key(pooledLogits[a]);
            if (key > bestKey) {
                best = a;
                bestKey = key;
            }
        }
        return best + 1;
    }

    /** b̂ = (k̂+2)/L. */
    public double predictBudget(float[] pooledLogits) {
        return Budget.fractionForMiddleBlocks(predictMiddleBlocks(pooledLogits), layerCount);
    }

    /** The policy π(k | G) = softmax(logits), into {@code probabilities} (index a is k = a+1). */
    public static void softmax(float[] logits, int n, double[] probabilities) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[i]);
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            probabilities[i] = Math.exp(logits[i] - max);
            total += probabilities[i];
        }
        for (int i = 0; i < n; i++) {
            probabilities[i] /= total;
        }
    }

    private static float key(float x) {
        return Float.isNaN(x) ? Float.NEGATIVE_INFINITY : x;
    }
}
