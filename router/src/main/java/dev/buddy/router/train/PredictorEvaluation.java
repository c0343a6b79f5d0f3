package dev.buddy.router.train;

import java.util.Locale;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.Budget;
import dev.buddy.router.BudgetPredictor;
import dev.buddy.router.DynamicRouter;

/**
 * The GRPO objective measured exactly on a data set: for every example the frozen model runs under every action k,
 * so the policy's expected reward {@code E_π[r] = Σ_k π(k)·r(k)}, the reward of the budget {@code --budget auto}
 * would choose (argmax π, as {@link BudgetPredictor} picks it) and the reward of every fixed budget are all known
 * without sampling noise. Costs L−2 forward passes per example: meant for held-out checks on small models.
 */
public final class PredictorEvaluation {
    /**
     * @param expectedReward mean over examples of E_π[r]
     * @param argmaxReward   mean reward of the argmax action (what {@code --budget auto} runs)
     * @param argmaxBudget   mean b of the argmax action (the fraction of blocks executed)
     * @param fixedRewards   mean reward of each fixed k (index k−1)
     * @param fixedCrossEntropy mean response CE of each fixed k (index k−1)
     * @param chosenCounts   how many examples chose each k (index k−1) under argmax
     * @param examples       examples with a scored token
     */
    public record Result(double expectedReward, double argmaxReward, double argmaxBudget, double[] fixedRewards,
                         double[] fixedCrossEntropy, int[] chosenCounts, int examples) {
        /** The best fixed-k mean reward. */
        public double bestFixedReward() {
            double best = Double.NEGATIVE_INFINITY;
            for (double r : fixedRewards) {
                best = Math.max(best, r);
            }
            return best;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "E_pi[r] %.4f, auto r %.4f at mean b %.3f, best fixed r %.4f, "
                    + "chosen k counts %s over %d examples", expectedReward, argmaxReward, argmaxBudget,
                    bestFixedReward(), java.util.Arrays.toString(chosenCounts), examples);
        }
    }

    private PredictorEvaluation() {}

    /** Evaluates {@code router}'s predictor (which must be present) on {@code data}. */
    public static Result evaluate(FrozenModel model, DynamicRouter router, TrainingData data, double lambdaPerf,
                                  double lambdaCost, int threads) {
        BudgetPredictor predictor = router.predictor().orElseThrow(() -> new InvalidTrainingOptionException(
                "router " + router.name() + " has no budget predictor to evaluate"));
        int layers = router.layerCount();
        int actions = layers - 2;
        RouterParameters shape = new RouterParameters(predictor.featureDim(), predictor.mlp().hiddenDim(), actions);
        float[] params = shape.flatten(predictor.mlp());
        int capacity = 2;
        for (int i = 0; i < data.size(); i++) {
            capacity = Math.max(capacity, data.example(i).length());
        }
        double expected = 0;
        double argmaxReward = 0;
        double argmaxBudget = 0;
        double[] fixed = new double[actions];
        double[] fixedCe = new double[actions];
        int[] counts = new int[actions];
        int examples = 0;
        try (Parallel pool = new Parallel(threads)) {
            BudgetRollout rollout = new BudgetRollout(model, router.decision(), capacity, pool);
            PredictorPolicy policy = new PredictorPolicy(shape, layers, capacity);
            for (int i = 0; i < data.size(); i++) {
                TrainingExample e = data.example(i);
                if (e.targetCount() == 0) {
                    continue;
                }
                rollout.prepare(e);
                double[] pi = policy.forward(params, rollout.features(), rollout.promptLength());
                int chosen = predictor.predictMiddleBlocks(policy.logits());
                for (int k = 1; k <= actions; k++) {
                    double r = rollout.reward(k, lambdaPerf, lambdaCost);
                    expected += pi[k - 1] * r;
                    fixed[k - 1] += r;
                    fixedCe[k - 1] += rollout.crossEntropy(k);
                }
                argmaxReward += rollout.reward(chosen, lambdaPerf, lambdaCost);
                argmaxBudget += Budget.fractionForMiddleBlocks(chosen, layers);
                counts[chosen - 1]++;
                examples++;
            }
        }
        if (examples == 0) {
            throw new TrainingDataException(data.describe() + " has no example with a scored token");
        }
        for (int k = 0; k < actions; k++) {
            fixed[k] /= examples;
            fixedCe[k] /= examples;
        }
        return new Result(expected / examples, argmaxReward / examples, argmaxBudget / examples, fixed, fixedCe,
                counts, examples);
    }

    /**
     * How many of the first {@code limit} scored examples the predictor sends to each k (index k−1): the budget
     * {@code --budget auto} picks from each prompt. Needs only block 0, so it is cheap on any model.
     */
    public static int[] chosenBudgets(FrozenModel model, DynamicRouter router, TrainingData data, int limit,
                                      int threads) {
        BudgetPredictor predictor = router.predictor().orElseThrow(() -> new InvalidTrainingOptionException(
                "router " + router.name() + " has no budget predictor"));
        int actions = router.layerCount() - 2;
        RouterParameters shape = new RouterParameters(predictor.featureDim(), predictor.mlp().hiddenDim(), actions);
        float[] params = shape.flatten(predictor.mlp());
        int count = Math.min(limit, data.size());
        int capacity = 2;
        for (int i = 0; i < count; i++) {
            capacity = Math.max(capacity, data.example(i).length());
        }
        int[] counts = new int[actions];
        try (Parallel pool = new Parallel(threads)) {
            BudgetRollout rollout = new BudgetRollout(model, router.decision(), capacity, pool);
            PredictorPolicy policy = new PredictorPolicy(shape, router.layerCount(), capacity);
            for (int i = 0; i < count; i++) {
                TrainingExample e = data.example(i);
                if (e.targetCount() == 0) {
                    continue;
                }
                rollout.prepare(e);
                policy.forward(params, rollout.features(), rollout.promptLength());
                counts[predictor.predictMiddleBlocks(policy.logits()) - 1]++;
            }
        }
        return counts;
    }
}
