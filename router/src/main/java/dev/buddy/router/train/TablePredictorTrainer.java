package dev.buddy.router.train;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.Budget;
import dev.buddy.router.BudgetPredictor;
import dev.buddy.router.DynamicRouter;

/**
 * Trains the Budget Predictor with full information: on prompts whose every action was scored once
 * ({@link BudgetTable}, from {@code buddy train-predictor --oracle N --table FILE}), it minimises the exact expected
 * loss {@code −E_{k∼π}[r(k)] − β·H(π)} averaged over the training prompts ({@link PredictorPolicy#backwardExpected}),
 * full batch, Adam at a constant rate; the model and the router are frozen and only block 0 runs (for the prompts'
 * features), so a run takes seconds.
 *
 * <p>WHY this exists beside GRPO: GRPO sees four sampled actions per prompt and, on SmolLM2, collapsed onto one
 * budget for every prompt within 80 steps although the oracle shows the prompts' best budgets spread from 0.43 to
 * 1.0. With the whole reward row known, the gradient has no sampling noise and a group can no longer sample one
 * action four times and stop learning, so what is left is the question GRPO could not answer: can the layer-0
 * features of a prompt predict its best budget? The last rows of the table are held out to answer it honestly:
 * the predictor's argmax budget (what {@code --budget auto} runs) is scored there against the best single budget
 * chosen on the training rows, and against each held-out prompt's own best (the oracle).
 */
public final class TablePredictorTrainer {
    /**
     * How a predictor does on some prompts of the table.
     *
     * @param prompts        rows
     * @param policyReward   mean reward of the predictor's argmax budget
     * @param constantK      the best single k on the training rows (the fixed budget to beat)
     * @param constantReward mean reward of {@code constantK} on these rows
     * @param oracleReward   mean reward of each row's best k
     * @param chosen         how many rows the predictor gives each k (index k−1)
     */
    public record Split(int prompts, double policyReward, int constantK, double constantReward, double oracleReward,
                        int[] chosen) {
        /** What the predictor gains over the fixed budget (positive: adapting pays). */
        public double gainOverConstant() {
            return policyReward - constantReward;
        }
    }

    /**
     * @param router     the input router with the trained predictor
     * @param stepLosses the mean training loss at every step (before its update)
     * @param train      the predictor on the rows it was trained on
     * @param heldOut    the predictor on the held-out rows, or null if none were held out
     */
    public record Result(DynamicRouter router, double[] stepLosses, Split train, Split heldOut) {}

    private TablePredictorTrainer() {}

    /**
     * @param table   the scored prompts; must belong to {@code model}, {@code router} and {@code data}
     * @param heldOut how many of the table's last rows to hold out (0 to train on all), fewer than its rows
     * @param config  steps, learning rate, λ_perf, λ_cost, β, hidden width, seed, maximum length and threads are used;
     *                batch and group are not (every training row, every action)
     */
    public static Result train(FrozenModel model, DynamicRouter router, TrainingData data, BudgetTable table,
                               int heldOut, PredictorConfig config, PrintStream progress) {
        router.requireCompatible(model.baseInfo());
        int layers = router.layerCount();
        Budget.requireRoutableDepth(layers);
        if (table.layers() != layers) {
            throw new BudgetTableException("the table has " + (table.layers() - 2) + " actions, the router "
                    + (layers - 2));
        }
        if (heldOut < 0 || heldOut >= table.rows()) {
            throw new InvalidTrainingOptionException("cannot hold out " + heldOut + " of the table's " + table.rows()
                    + " prompts: at least one must be left to train on");
        }
        int rows = table.rows();
        int trainRows = rows - heldOut;
        RouterParameters shape = new RouterParameters(router.decision().featureDim(), config.hiddenDim(), layers - 2);
        double[][] rewards = table.rewards(config.lambdaPerf(), config.lambdaCost()).rewards();
        float[][] features = new float[rows][];
        int[] promptLengths = new int[rows];
        int capacity = 1;
        try (Parallel pool = new Parallel(config.threads())) {
            BudgetRollout rollout = new BudgetRollout(model, router.decision(), config.maxTokens(), pool);
            int featureDim = shape.inputDim;
            for (int p = 0; p < rows; p++) {
                int index = table.examples()[p];
                if (index >= data.size()) {
                    throw new BudgetTableException("the table's row " + (p + 1) + " is example " + index + " but "
                            + data.describe() + " has " + data.size());
                }
                rollout.prepare(data.example(index));
                promptLengths[p] = rollout.promptLength();
                features[p] = Arrays.copyOf(rollout.features(), promptLengths[p] * featureDim);
                capacity = Math.max(capacity, promptLengths[p]);
            }
        }
        PredictorPolicy policy = new PredictorPolicy(shape, layers, capacity);
        float[] params = PredictorTrainer.initialParams(shape, config.seed());
        AdamW adam = new AdamW(shape.size, 0.0);
        double[] gradient = new double[shape.size];
        double[] losses = new double[config.steps()];
        ProgressBar bar = new ProgressBar(progress, 0, config.steps());
        if (progress != null) {
            progress.println("full-information training of the budget predictor of " + router.name() + " on "
                    + trainRows + " scored prompts (" + heldOut + " held out): " + config);
        }
        for (int step = 0; step < config.steps(); step++) {
            Arrays.fill(gradient, 0.0);
            double loss = 0;
            double expectedReward = 0;
            for (int p = 0; p < trainRows; p++) {
                policy.forward(params, features[p], promptLengths[p]);
                double l = policy.backwardExpected(params, features[p], rewards[p], config.entropyBeta(),
                        1.0 / trainRows, gradient);
                loss += l;
                expectedReward -= l + config.entropyBeta() * policy.entropy();
            }
            losses[step] = loss / trainRows;
            adam.step(params, gradient, config.learningRate());
            bar.update(step, losses[step], 0, String.format(Locale.ROOT, "expected reward %.3f",
                    expectedReward / trainRows));
        }
        DynamicRouter trained = PredictorTrainer.withPredictor(router, shape.toMlp(params));
        BudgetPredictor predictor = trained.predictor().orElseThrow();
        int[] chosenK = new int[rows];
        for (int p = 0; p < rows; p++) {
            policy.forward(params, features[p], promptLengths[p]);
            chosenK[p] = predictor.predictMiddleBlocks(policy.logits());
        }
        BudgetOracle.Result trainResult = new BudgetOracle.Result(layers, Arrays.copyOf(rewards, trainRows));
        int constantK = trainResult.bestConstantK();
        Split train = split(layers, rewards, chosenK, 0, trainRows, constantK);
        Split held = heldOut == 0 ? null : split(layers, rewards, chosenK, trainRows, rows, constantK);
        return new Result(trained, losses, train, held);
    }

    private static Split split(int layers, double[][] rewards, int[] chosenK, int from, int to, int constantK) {
        BudgetOracle.Result r = new BudgetOracle.Result(layers, Arrays.copyOfRange(rewards, from, to));
        double policy = 0;
        int[] chosen = new int[layers - 2];
        for (int p = from; p < to; p++) {
            policy += rewards[p][chosenK[p] - 1];
            chosen[chosenK[p] - 1]++;
        }
        return new Split(to - from, policy / (to - from), constantK, r.constantMeanReward(constantK),
                r.oracleMeanReward(), chosen);
    }
}
