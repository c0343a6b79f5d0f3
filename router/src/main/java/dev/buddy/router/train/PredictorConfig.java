package dev.buddy.router.train;

import java.util.Locale;

/**
 * Everything that shapes a Budget Predictor GRPO run (paper §4.4, App. D.7). {@link #defaults} gives the paper's
 * settings: group size 4, Adam at lr 1e-5 (constant, no weight decay), batch 2, λ_perf = 5.0, λ_cost = 0.05.
 *
 * <p>The entropy weight β is not given in the paper; the default 0.01 is ours. WHY that value: the advantages are
 * group-normalised to unit scale, so the policy-gradient term moves the pooled logits by O(1/G) per example, and
 * the entropy gradient {@code β·π_a(log π_a + H)} is then about 1% of it near the uniform policy: enough to stop the
 * argmax from collapsing onto whichever action a few early groups happened to favour, too little to hold the policy
 * at uniform once one budget is consistently better (the paper's Fig. 12 shows an entropy near ln(L−2) throughout,
 * i.e. a weak regulariser).
 *
 * @param steps           optimiser steps
 * @param learningRate    Adam's learning rate (constant)
 * @param batchSize       prompts per step
 * @param groupSize       actions sampled per prompt (G)
 * @param lambdaPerf      weight of the response cross-entropy in the reward
 * @param lambdaCost      weight of the budget b(k) = (k+2)/L in the reward
 * @param entropyBeta     entropy bonus β
 * @param advantageEps    ε in A = (r − μ)/(σ + ε); σ is the group's population standard deviation
 * @param hiddenDim       the predictor MLP's hidden width (32, the Decision Module's)
 * @param seed            seeds the initial weights, the data order and the action samples
 * @param maxTokens       longest example; longer ones are cut
 * @param checkpointEvery checkpoint (and output file) every this many steps; 0 only at the end
 * @param threads         worker threads for the model's kernels
 */
public record PredictorConfig(int steps, double learningRate, int batchSize, int groupSize, double lambdaPerf,
                              double lambdaCost, double entropyBeta, double advantageEps, int hiddenDim, long seed,
                              int maxTokens, int checkpointEvery, int threads) {
    public static final double PAPER_LEARNING_RATE = 1e-5;
    public static final int PAPER_BATCH = 2;
    public static final int PAPER_GROUP = 4;
    public static final double PAPER_LAMBDA_PERF = 5.0;
    public static final double PAPER_LAMBDA_COST = 0.05;
    public static final double DEFAULT_BETA = 0.01;

    public PredictorConfig {
        if (steps < 1 || batchSize < 1 || groupSize < 2 || hiddenDim < 1 || threads < 1) {
            throw new InvalidTrainingOptionException("steps, batch, hidden width and threads must be at least 1 and"
                    + " the group at least 2; got steps " + steps + ", batch " + batchSize + ", group " + groupSize
                    + ", hidden " + hiddenDim + ", threads " + threads);
        }
        if (maxTokens < 2) {
            throw new InvalidTrainingOptionException("maximum sequence length must be at least 2 tokens, got "
                    + maxTokens);
        }
        if (!(learningRate > 0) || !Double.isFinite(learningRate) || !(entropyBeta >= 0) || !(advantageEps > 0)
                || !Double.isFinite(lambdaPerf) || !Double.isFinite(lambdaCost) || checkpointEvery < 0) {
            throw new InvalidTrainingOptionException("invalid predictor settings: lr " + learningRate + ", beta "
                    + entropyBeta + ", eps " + advantageEps + ", lambda_perf " + lambdaPerf + ", lambda_cost "
                    + lambdaCost + ", checkpoint every " + checkpointEvery);
        }
    }

    /** The paper's settings for a run of {@code steps} steps. */
    public static PredictorConfig defaults(int steps) {
        return new PredictorConfig(steps, PAPER_LEARNING_RATE, PAPER_BATCH, PAPER_GROUP, PAPER_LAMBDA_PERF,
                PAPER_LAMBDA_COST, DEFAULT_BETA, 1e-6, dev.buddy.router.DecisionModule.DEFAULT_HIDDEN, 0L, 512, 100,
                Runtime.getRuntime().availableProcessors());
    }

    public PredictorConfig withOptimizer(double lr, int batch) {
        return new PredictorConfig(steps, lr, batch, groupSize, lambdaPerf, lambdaCost, entropyBeta, advantageEps,
                hiddenDim, seed, maxTokens, checkpointEvery, threads);
    }

    public PredictorConfig withReward(double perf, double cost, double beta) {
        return new PredictorConfig(steps, learningRate, batchSize, groupSize, perf, cost, beta, advantageEps,
                hiddenDim, seed, maxTokens, checkpointEvery, threads);
    }

    public PredictorConfig withGroupSize(int g) {
        return new PredictorConfig(steps, learningRate, batchSize, g, lambdaPerf, lambdaCost, entropyBeta,
                advantageEps, hiddenDim, seed, maxTokens, checkpointEvery, threads);
    }

    public PredictorConfig withSteps(int s) {
        return new PredictorConfig(s, learningRate, batchSize, groupSize, lambdaPerf, lambdaCost, entropyBeta,
                advantageEps, hiddenDim, seed, maxTokens, checkpointEvery, threads);
    }

    public PredictorConfig withSeed(long s) {
        return new PredictorConfig(steps, learningRate, batchSize, groupSize, lambdaPerf, lambdaCost, entropyBeta,
                advantageEps, hiddenDim, s, maxTokens, checkpointEvery, threads);
    }

    public PredictorConfig withMaxTokens(int m) {
        return new PredictorConfig(steps, learningRate, batchSize, groupSize, lambdaPerf, lambdaCost, entropyBeta,
                advantageEps, hiddenDim, seed, m, checkpointEvery, threads);
    }

    public PredictorConfig withCheckpointEvery(int every) {
        return new PredictorConfig(steps, learningRate, batchSize, groupSize, lambdaPerf, lambdaCost, entropyBeta,
                advantageEps, hiddenDim, seed, maxTokens, every, threads);
    }

    public PredictorConfig withThreads(int t) {
        return new PredictorConfig(steps, learningRate, batchSize, groupSize, lambdaPerf, lambdaCost, entropyBeta,
                advantageEps, hiddenDim, seed, maxTokens, checkpointEvery, t);
    }

    /**
     * The settings that change what a run computes, as one comparable line (threads and the checkpoint interval are
     * left out, so a run may resume with different ones).
     */
    String runIdentity() {
        return String.format(Locale.ROOT, "grpo=predictor, steps=%d, lr=%s, batch=%d, group=%d, lambdaPerf=%s, "
                        + "lambdaCost=%s, beta=%s, eps=%s, hidden=%d, seed=%d, maxTokens=%d", steps,
                learningRate, batchSize, groupSize, lambdaPerf, lambdaCost, entropyBeta, advantageEps, hiddenDim, seed,
                maxTokens);
    }

    @Override
    public String toString() {
        return "PredictorConfig[" + runIdentity() + ", threads=" + threads + "]";
    }
}
