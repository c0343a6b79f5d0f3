package dev.buddy.router.train;

import java.util.Arrays;

import dev.buddy.router.DecisionModule;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;

/**
 * Everything that shapes a router training run. {@link #defaults()} gives the paper's settings (§5.1, App. C.3):
 * lr 1e-4 with 100 warm-up steps, batch 8, AdamW, hidden width 32, ω = 0.1, layer-0 V features; budgets
 * {0.5, 0.625, 0.75, 0.875, 1.0} (i.e. 0–4 of every 8 blocks removed, full depth included as the paper asks).
 *
 * @param budgets          budgets b a training example may draw (uniformly); each in (0, 1]
 * @param steps            optimiser steps of the whole run (the schedule decays to 0 at the last)
 * @param learningRate     peak learning rate; 0 keeps the router exactly as initialised, so a run with LoRA adapters
 *                         trains only them (with {@link RouterInit#PRIOR} from a static plan's order: that plan with
 *                         the same LoRA training, the paper's fair baseline)
 * @param warmupSteps      linear warm-up steps
 * @param batchSize        examples per optimiser step
 * @param seed             seeds the initial weights (as {@link dev.buddy.router.RandomRouter} with this seed), data
 *                         order and budget draws; a fixed seed gives a bit-identical run on the same machine
 * @param maxTokens        longest sequence; longer examples are cut
 * @param weightDecay      AdamW's decoupled weight decay (0, the Hugging Face Trainer's default)
 * @param maxGradNorm      global gradient-norm clip (1.0, the Hugging Face Trainer's default); 0 disables it
 * @param relaxation       the straight-through estimator's backward relaxation
 * @param probeSkipped     compute F(h) for blocks the mask skips so their gate gradient is the first-order value of
 *                         adding them (true, the default); false gives skipped blocks a zero gate gradient, so only
 *                         running blocks (through the relaxation's coupling) move the scores
 * @param featureSource    which layer-0 cache rows feed the router
 * @param pooling          how per-token scores are pooled
 * @param hiddenDim        the MLP's hidden width r
 * @param omega            the prior's weight ω in s' = s + ω·p̃
 * @param checkpointEvery  write a checkpoint (and the router file) every this many steps; 0 only at the end
 * @param threads          worker threads for the model's kernels
 * @param init             how the Decision Module starts ({@link RouterInit}; random by default)
 * @param secantBlocks     0 (the default): every block's gate gradient is the analytic slope {@code ∂L/∂m}; N &gt;
 *                         0: the N running and N skipped middle blocks next to the top-k cut get the measured
 *                         secant {@code L(m=1) − L(m=0)} instead, and only they move ({@link SecantGateProbe})
 */
public record TrainConfig(double[] budgets, int steps, double learningRate, int warmupSteps, int batchSize, long seed,
                          int maxTokens, double weightDecay, double maxGradNorm, GateRelaxation relaxation,
                          boolean probeSkipped, FeatureSource featureSource, Pooling pooling, int hiddenDim, float omega,
                          int checkpointEvery, int threads, RouterInit init,
                          int secantBlocks) {

    /** The paper's training budgets. */
    public static final double[] PAPER_BUDGETS = {0.5, 0.625, 0.75, 0.875, 1.0};

    public TrainConfig {
        budgets = budgets.clone();
        if (budgets.length == 0) {
            throw new IllegalArgumentException("at least one training budget is needed");
        }
        for (double b : budgets) {
            if (!(b > 0 && b <= 1)) {
                throw new IllegalArgumentException("training budget " + b + " is outside (0, 1]");
            }
        }
        positive("steps", steps);
        positive("batch size", batchSize);
        positive("hidden width", hiddenDim);
        positive("threads", threads);
        if (init == null) {
            throw new IllegalArgumentException("router initialisation is required");
        }
        if (secantBlocks < 0) {
            throw new IllegalArgumentException("secant blocks per side must be 0 (off) or more, got " + secantBlocks);
        }
        if (maxTokens < 2) {
            throw new IllegalArgumentException("maximum sequence length must be at least 2 tokens, got " + maxTokens);
        }
        if (!(learningRate >= 0) || warmupSteps < 0 || weightDecay < 0 || maxGradNorm < 0 || checkpointEvery < 0
                || !Float.isFinite(omega)) {
            throw new IllegalArgumentException("invalid training settings: lr " + learningRate + ", warm-up "
                    + warmupSteps + ", weight decay " + weightDecay + ", max grad norm " + maxGradNorm
                    + ", checkpoint every " + checkpointEvery + ", omega " + omega);
        }
    }

    private static void positive(String what, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(what + " must be at least 1, got " + v);
        }
    }

    /** The paper's settings for a run of {@code steps} steps. */
    public static TrainConfig defaults(int steps) {
        return new TrainConfig(PAPER_BUDGETS, steps, 1e-4, 100, 8, 0L, 512, 0.0, 1.0, GateRelaxation.SOFTMAX, true,
                FeatureSource.VALUE, Pooling.MEAN, DecisionModule.DEFAULT_HIDDEN, DecisionModule.DEFAULT_OMEGA, 100,
                Runtime.getRuntime().availableProcessors(), RouterInit.RANDOM, 0);
    }

    @Override
    public double[] budgets() {
        return budgets.clone();
    }

    public TrainConfig withBudgets(double[] b) {
        return new TrainConfig(b, steps, learningRate, warmupSteps, batchSize, seed, maxTokens, weightDecay,
                maxGradNorm, relaxation, probeSkipped, featureSource, pooling, hiddenDim, omega, checkpointEvery,
                threads, init, secantBlocks);
    }

    public TrainConfig withSteps(int s) {
        return new TrainConfig(budgets, s, learningRate, warmupSteps, batchSize, seed, maxTokens, weightDecay,
                maxGradNorm, relaxation, probeSkipped, featureSource, pooling, hiddenDim, omega, checkpointEvery,
                threads, init, secantBlocks);
    }

    public TrainConfig withOptimizer(double lr, int warmup, int batch) {
        return new TrainConfig(budgets, steps, lr, warmup, batch, seed, maxTokens, weightDecay, maxGradNorm, relaxation,
                probeSkipped, featureSource, pooling, hiddenDim, omega, checkpointEvery, threads, init, secantBlocks);
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(budgets, steps, learningRate, warmupSteps, batchSize, s, maxTokens, weightDecay,
                maxGradNorm, relaxation, probeSkipped, featureSource, pooling, hiddenDim, omega, checkpointEvery,
                threads, init, secantBlocks);
    }

    public TrainConfig withMaxTokens(int m) {
        return new TrainConfig(budgets, steps, learningRate, warmupSteps, batchSize, seed, m, weightDecay, maxGradNorm,
                relaxation, probeSkipped, featureSource, pooling, hiddenDim, omega, checkpointEvery, threads, init,
                secantBlocks);
    }

    public TrainConfig withRelaxation(GateRelaxation r) {
        return new TrainConfig(budgets, steps, learningRate, warmupSteps, batchSize, seed, maxTokens, weightDecay,
                maxGradNorm, r, probeSkipped, featureSource, pooling, hiddenDim, omega, checkpointEvery, threads, init,
                secantBlocks);
    }

    public TrainConfig withProbeSkipped(boolean probe) {
        return new TrainConfig(budgets, steps, learningRate, warmupSteps, batchSize, seed, maxTokens, weightDecay,
                maxGradNorm, relaxation, probe, featureSource, pooling, hiddenDim, omega, checkpointEvery, threads,
                init, secantBlocks);
    }

    public TrainConfig withRouterShape(FeatureSource source, Pooling pool, int hidden, float w) {
        return new TrainConfig(budgets, steps, learningRate, warmupSteps, batchSize, seed, maxTokens, weightDecay,
                maxGradNorm, relaxation, probeSkipped, source, pool, hidden, w, checkpointEvery, threads, init,
                secantBlocks);
    }

    public TrainConfig withCheckpointEvery(int every) {
        return new TrainConfig(budgets, steps, learningRate, warmupSteps, batchSize, seed, maxTokens, weightDecay,
                maxGradNorm, relaxation, probeSkipped, featureSource, pooling, hiddenDim, omega, every, threads, init,
                secantBlocks);
    }

    public TrainConfig withThreads(int t) {
        return new TrainConfig(budgets, steps, learningRate, warmupSteps, batchSize, seed, maxTokens, weightDecay,
                maxGradNorm, relaxation, probeSkipped, featureSource, pooling, hiddenDim, omega, checkpointEvery, t,
                init, secantBlocks);
    }

    public TrainConfig withInit(RouterInit i) {
        return new TrainConfig(budgets, steps, learningRate, warmupSteps, batchSize, seed, maxTokens, weightDecay,
                maxGradNorm, relaxation, probeSkipped, featureSource, pooling, hiddenDim, omega, checkpointEvery,
                threads, i, secantBlocks);
    }

    public TrainConfig withRegularisation(double decay, double clipNorm) {
        return new TrainConfig(budgets, steps, learningRate, warmupSteps, batchSize, seed, maxTokens, decay, clipNorm,
                relaxation, probeSkipped, featureSource, pooling, hiddenDim, omega, checkpointEvery, threads, init,
                secantBlocks);
    }

    public TrainConfig withSecantBlocks(int perSide) {
        return new TrainConfig(budgets, steps, learningRate, warmupSteps, batchSize, seed, maxTokens, weightDecay,
                maxGradNorm, relaxation, probeSkipped, featureSource, pooling, hiddenDim, omega, checkpointEvery,
                threads, init, perSide);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainConfig c && Arrays.equals(c.budgets, budgets) && c.steps == steps
                && c.learningRate == learningRate && c.warmupSteps == warmupSteps && c.batchSize == batchSize
                && c.seed == seed && c.maxTokens == maxTokens && c.weightDecay == weightDecay
                && c.maxGradNorm == maxGradNorm && c.relaxation == relaxation && c.probeSkipped == probeSkipped
                && c.featureSource == featureSource
                && c.pooling == pooling && c.hiddenDim == hiddenDim && Float.compare(c.omega, omega) == 0
                && c.checkpointEvery == checkpointEvery && c.threads == threads && c.init == init
                && c.secantBlocks == secantBlocks;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(budgets) * 31 + Long.hashCode(seed) + steps;
    }

    @Override
    public String toString() {
        return "TrainConfig[budgets=" + Arrays.toString(budgets) + ", steps=" + steps + ", lr=" + learningRate
                + ", warmup=" + warmupSteps + ", batch=" + batchSize + ", seed=" + seed + ", maxTokens=" + maxTokens
                + ", weightDecay=" + weightDecay + ", maxGradNorm=" + maxGradNorm
                + ", relaxation=" + relaxation + ", probeSkipped=" + probeSkipped + ", features=" + featureSource
                + ", pooling=" + pooling + ", hidden=" + hiddenDim + ", omega=" + omega + ", checkpointEvery=" + checkpointEvery + ", threads=" + threads + ", init=" + init.cliName()
                + (secantBlocks == 0 ? "" : ", secant=" + secantBlocks) + "]";
    }
}
