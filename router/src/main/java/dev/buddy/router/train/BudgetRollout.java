package dev.buddy.router.train;

import java.util.Arrays;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.Budget;
import dev.buddy.router.DecisionModule;

/**
 * One example under every budget action of a frozen model and a frozen router: block 0 and the layer-0 features are
 * computed once, the router's pooled scores once, and then for each action k the model runs teacher-forced under
 * the router's top-k mask for {@code b(k) = (k+2)/L}, giving the response's mean cross-entropy
 * {@code CE = −1/T·Σ_t log p(y_t | x, y_<t)} over the T scored tokens. Each k's cross-entropy is computed at most
 * once per example (a group that samples the same k twice reuses it: the pass is deterministic).
 *
 * <p>The mask is the one {@link RouterTrainer} trains with, from the pooled features of the whole sequence.
 */
final class BudgetRollout {
    private final ModelPass pass;
    private final DecisionModule router;
    private final DecisionPass decision;
    private final int layers;
    private final int featureDim;
    private final float[] features;
    private final int[] targets;
    private final float[] gates;
    private final float[] fused;
    private final boolean[] mask;
    private final double[] crossEntropy;
    private TrainingExample example;
    private long forwardTokens;

    BudgetRollout(FrozenModel model, DecisionModule router, int capacity, Parallel pool) {
        this.pass = new ModelPass(model, capacity, pool);
        this.router = router;
        this.layers = model.spec().blockCount();
        this.featureDim = router.featureDim();
        this.decision = new DecisionPass(new RouterParameters(featureDim, router.mlp().hiddenDim(), layers - 2),
                layers, capacity);
        this.features = new float[capacity * featureDim];
        this.targets = new int[capacity];
        this.gates = new float[layers];
        this.fused = new float[layers - 2];
        this.mask = new boolean[layers];
        this.crossEntropy = new double[layers - 1];
    }

    int capacity() {
        return pass.capacity();
    }

    /** Runs block 0 on the example and routes it; the prompt's features are then in {@link #features()}. */
    void prepare(TrainingExample e) {
        int n = e.length();
        if (n > pass.capacity()) {
            throw new TrainingDataException(e.label() + " has " + n + " tokens, more than the run's maximum of "
                    + pass.capacity() + "; open the data with the same maximum");
        }
        this.example = e;
        pass.embed(e.tokens(), n);
        pass.beginForward(n);
        pass.layer0Features(router.featureSource(), n, features);
        decision.forward(router, features, n, layers - 2);
        e.targets(targets);
        Arrays.fill(crossEntropy, Double.NaN);
    }

    /** The layer-0 feature rows of the prepared example ({@code featureDim} per position). */
    float[] features() {
        return features;
    }

    /** Positions the predictor reads: the prompt, i.e. everything before the first scored token. */
    int promptLength() {
        return Math.min(example.firstTarget(), example.length());
    }

    /** The response's mean cross-entropy with k middle blocks running. */
    double crossEntropy(int k) {
        if (Double.isNaN(crossEntropy[k])) {
            router.route(decision.pooled(), k, fused, mask);
            for (int l = 0; l < layers; l++) {
                gates[l] = mask[l] ? 1f : 0f;
            }
            pass.finishForward(gates, false);
            crossEntropy[k] = pass.headLoss(targets, 1f, false) / example.targetCount();
            forwardTokens += example.length();
        }
        return crossEntropy[k];
    }

    /** r(k) = −λ_perf·CE − λ_cost·b(k). */
    double reward(int k, double lambdaPerf, double lambdaCost) {
        return reward(crossEntropy(k), k, layers, lambdaPerf, lambdaCost);
    }

    /** The reward of action k whose response cross-entropy is {@code crossEntropy}: one formula for every caller. */
    static double reward(double crossEntropy, int k, int layers, double lambdaPerf, double lambdaCost) {
        return -lambdaPerf * crossEntropy - lambdaCost * Budget.fractionForMiddleBlocks(k, layers);
    }

    /** Positions run through the model since construction (block 0 not counted twice). */
    long forwardTokens() {
        return forwardTokens;
    }
}
