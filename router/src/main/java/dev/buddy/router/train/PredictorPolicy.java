package dev.buddy.router.train;

import dev.buddy.router.BudgetPredictor;
import dev.buddy.router.DecisionModule;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;

/**
 * The Budget Predictor as a policy over one prompt (paper §4.4): token-wise MLP logits over the prompt's layer-0
 * features, mean-pooled, {@code π(k | G) = softmax(logits)} over k ∈ {1..L−2} (index a is k = a+1); and the gradient
 * of the GRPO loss of one group,
 *
 * <pre>
 *   ℓ(θ) = −(1/G)·Σ_j A_j·log π(k_j) − β·H(π),   H(π) = −Σ_a π_a·log π_a
 *   ∂ℓ/∂z_a = −(1/G)·Σ_j A_j·(1[a = k_j − 1] − π_a) + β·π_a·(log π_a + H)
 * </pre>
 *
 * with respect to the pooled logits z, then through the pooling and the MLP to θ.
 *
 * <p>WHY the Decision Module's {@link DecisionPass}: the predictor has exactly its shape (Linear → SiLU → Linear,
 * mean pooling, L−2 outputs), and a {@link DecisionModule} with a zero prior and ω = 0 pools to exactly the logits
 * {@link BudgetPredictor} pools at inference. Reusing that pass means the forward arithmetic is the inference
 * arithmetic bit for bit and the (already gradient-checked) MLP backward is shared rather than copied.
 */
final class PredictorPolicy {
    private final RouterParameters shape;
    private final int layers;
    private final int actions;
    private final DecisionPass pass;
    private final float[] zeroPrior;
    private final double[] probabilities;
    private final double[] dLogits;
    private double entropy;

    PredictorPolicy(RouterParameters shape, int layers, int capacity) {
        this.shape = shape;
        this.layers = layers;
        this.actions = layers - 2;
        this.pass = new DecisionPass(shape, layers, capacity);
        this.zeroPrior = new float[actions];
        this.probabilities = new double[actions];
        this.dLogits = new double[actions];
    }

    int actions() {
        return actions;
    }

    /**
     * Computes π over the first {@code n} rows of {@code features} for the weights {@code params}.
     *
     * @return the policy's probabilities (a view, valid until the next call), index a for k = a+1
     */
    double[] forward(float[] params, float[] features, int n) {
        DecisionModule asModule = new DecisionModule(layers, shape.toMlp(params), zeroPrior, 0f,
                FeatureSource.VALUE, Pooling.MEAN);
        pass.forward(asModule, features, n, 1);
        BudgetPredictor.softmax(pass.pooled(), actions, probabilities);
        double h = 0;
        for (double p : probabilities) {
            if (p > 0) {
                h -= p * Math.log(p);
            }
        }
        entropy = h;
        return probabilities;
    }

    /** H(π) of the last {@link #forward}. */
    double entropy() {
        return entropy;
    }

    /** The pooled logits of the last {@link #forward}. */
    float[] logits() {
        return pass.pooled();
    }

    /**
     * The cross-entropy of the last {@link #forward}'s policy against a target distribution q over the actions,
     * accumulating {@code scale·∂ℓ/∂θ} into {@code gradient}:
     *
     * <pre>
     *   ℓ(θ) = −Σ_a q_a·log π_a,   ∂ℓ/∂z_a = π_a − q_a
     * </pre>
     *
     * @param target q, index a for k = a+1, summing to 1
     */
    double backwardTowards(float[] params, float[] features, double[] target, double scale, double[] gradient) {
        double loss = 0;
        for (int a = 0; a < actions; a++) {
            double p = probabilities[a];
            if (target[a] > 0) {
                loss -= target[a] * Math.log(p);
            }
            dLogits[a] = scale * (p - target[a]);
        }
        pass.backward(params, features, dLogits, gradient);
        return loss;
    }

    /**
     * The loss ℓ of one group under the last {@link #forward}, accumulating {@code scale·∂ℓ/∂θ} into
     * {@code gradient}.
     *
     * @param chosen     the sampled actions k_j (1..L−2)
     * @param advantages A_j
     * @param beta       entropy bonus β
     */
    double backward(float[] params, float[] features, int[] chosen, double[] advantages, double beta, double scale,
                    double[] gradient) {
        int g = chosen.length;
        double loss = -beta * entropy;
        for (int a = 0; a < actions; a++) {
            double p = probabilities[a];
            double logP = p > 0 ? Math.log(p) : -Double.MAX_VALUE;
            dLogits[a] = beta * p * (logP + entropy);
        }
        for (int j = 0; j < g; j++) {
            int a = chosen[j] - 1;
            double weight = advantages[j] / g;
            loss -= weight * Math.log(probabilities[a]);
            for (int i = 0; i < actions; i++) {
                dLogits[i] += weight * probabilities[i];
            }
            dLogits[a] -= weight;
        }
        for (int a = 0; a < actions; a++) {
            dLogits[a] *= scale;
        }
        pass.backward(params, features, dLogits, gradient);
        return loss;
    }
}
