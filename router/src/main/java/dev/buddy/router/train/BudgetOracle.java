package dev.buddy.router.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.eval.ProgressBar;

/**
 * Whether per-prompt budgets are worth predicting at all, before any GRPO: for each of the first prompts, the
 * reward {@code r(k) = −λ_perf·CE − λ_cost·b(k)} of every action k = 1..L−2 (the frozen model under the frozen router's
 * top-k mask, exactly {@link BudgetRollout}'s), then the best k per prompt (the oracle a perfect predictor would
 * match) against the best single k for all prompts (a fixed budget). Their mean-reward gap bounds what a predictor
 * can gain over a fixed budget under this reward; a gap near zero means a constant budget is already optimal.
 */
public final class BudgetOracle {
    /**
     * @param layers  the model's blocks L
     * @param rewards per prompt, the reward of action k at index k−1
     */
    public record Result(int layers, double[][] rewards) {
        /** The prompt's best action k (the smallest on ties). */
        public int bestK(int prompt) {
            double[] r = rewards[prompt];
            int best = 0;
            for (int a = 1; a < r.length; a++) {
                if (r[a] > r[best]) {
                    best = a;
                }
            }
            return best + 1;
        }

        /** How many prompts have each k as their best (index k−1). */
        public int[] oracleCounts() {
            int[] counts = new int[layers - 2];
            for (int p = 0; p < rewards.length; p++) {
                counts[bestK(p) - 1]++;
            }
            return counts;
        }

        /** Mean over prompts of each prompt's best reward. */
        public double oracleMeanReward() {
            double sum = 0;
            for (int p = 0; p < rewards.length; p++) {
                sum += rewards[p][bestK(p) - 1];
            }
            return sum / rewards.length;
        }

        /** Mean reward of running action k on every prompt. */
        public double constantMeanReward(int k) {
            double sum = 0;
            for (double[] r : rewards) {
                sum += r[k - 1];
            }
            return sum / rewards.length;
        }

        /** The single k with the best mean reward (the smallest on ties). */
        public int bestConstantK() {
            int best = 1;
            for (int k = 2; k <= layers - 2; k++) {
                if (constantMeanReward(k) > constantMeanReward(best)) {
                    best = k;
                }
            }
            return best;
        }
    }

    private BudgetOracle() {}

    /** {@code r(k) = −λ_perf·CE(k) − λ_cost·b(k)} for one prompt's cross-entropies (index k−1). */
    static double[] rewardRow(double[] crossEntropy, int layers, double lambdaPerf, double lambdaCost) {
        double[] r = new double[crossEntropy.length];
        for (int a = 0; a < r.length; a++) {
            r[a] = BudgetRollout.reward(crossEntropy[a], a + 1, layers, lambdaPerf, lambdaCost);
        }
        return r;
    }

    /**
     * Measures every action's response cross-entropy on the first {@code prompts} examples with a scored response
     * (examples without one are passed over).
     *
     * @param tableFile where the table is kept as it grows (rewritten atomically after every prompt), or null. If it
     *                  exists, it must be a table of the same model, router and data; its rows are kept and the
     *                  scoring continues after them, so an interrupted run loses at most one prompt.
     * @throws InvalidTrainingOptionException if the data has no example with a scored response
     * @throws BudgetTableException           if {@code tableFile} exists and is not a table of this run
     */
    public static BudgetTable measure(FrozenModel model, DynamicRouter router, TrainingData data, int prompts,
                                      int maxTokens, int threads, PrintStream progress, Path tableFile)
            throws IOException {
        router.requireCompatible(model.baseInfo());
        int layers = router.layerCount();
        int actions = layers - 2;
        int[] scored = IntStream.range(0, data.size()).filter(i -> data.example(i).targetCount() > 0).limit(prompts)
                .toArray();
        if (scored.length == 0) {
            throw new InvalidTrainingOptionException(data.describe() + " has no example with a scored response");
        }
        BudgetTable.Identity identity = new BudgetTable.Identity(router.provenance().baseFingerprint(),
                PredictorTrainer.routerIdentity(router), data.describe(), maxTokens);
        double[][] crossEntropy = new double[scored.length][];
        int done = 0;
        if (tableFile != null && Files.exists(tableFile)) {
            BudgetTable kept = BudgetTable.read(tableFile);
            kept.requireIdentity(tableFile, identity);
            done = Math.min(kept.rows(), scored.length);
            for (int p = 0; p < done; p++) {
                if (kept.examples()[p] != scored[p]) {
                    throw new BudgetTableException(tableFile + " row " + (p + 1) + " is example " + kept.examples()[p]
                            + ", expected " + scored[p]);
                }
                crossEntropy[p] = kept.crossEntropy()[p];
            }
            if (progress != null && done > 0) {
                progress.println("continuing " + tableFile + ": " + done + " of " + scored.length
                        + " prompts already scored");
            }
        }
        try (Parallel pool = new Parallel(threads);
             ProgressBar bar = progress == null ? null
                     : new ProgressBar("budget oracle", (long) (scored.length - done) * actions, progress)) {
            BudgetRollout rollout = new BudgetRollout(model, router.decision(), maxTokens, pool);
            for (int p = done; p < scored.length; p++) {
                rollout.prepare(data.example(scored[p]));
                crossEntropy[p] = new double[actions];
                for (int k = 1; k <= actions; k++) {
                    crossEntropy[p][k - 1] = rollout.crossEntropy(k);
                    if (bar != null) {
                        bar.advance(1);
                    }
                }
                if (tableFile != null) {
                    new BudgetTable(identity, layers, Arrays.copyOf(scored, p + 1), Arrays.copyOf(crossEntropy, p + 1))
                            .write(tableFile);
                }
            }
        }
        return new BudgetTable(identity, layers, scored, crossEntropy);
    }
}
