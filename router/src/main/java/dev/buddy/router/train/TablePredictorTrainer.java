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
 * ({@link BudgetTable}, from {@code buddy train-predictor --oracle N --table FILE}), the policy is fitted to each
 * prompt's Boltzmann distribution over its rewards, {@code q(k) ∝ exp(r(k)/τ)}, by cross-entropy
 * ({@link PredictorPolicy#backwardTowards}), full batch, Adam at a constant rate. The model and the router are
 * frozen and only block 0 runs (for the prompts' features); the rest is the predictor's small MLP over the training
 * prompts' tokens, on one thread: on SmolLM2, 160 prompts (about 9,000 prompt tokens per step, 50,000 tokens/s),
 * about 20 seconds per 100 steps.
 *
 * <p>WHY this objective: {@code q} is exactly the policy that maximises the entropy-regularised expected reward
 * {@code E_π[r] + τ·H(π)} for one prompt, so a predictor that can represent it is the optimum of the objective GRPO
 * estimates (with β = τ). Maximising that expectation directly with its exact gradient
 * {@code π_a·(r_a − E_π[r])} was tried first and failed the way GRPO did: on 50 SmolLM2 prompts it put all mass on
 * the best single budget within a few hundred steps, where the gradient vanishes for every prompt at once, and its
 * training reward stayed exactly the single budget's. The cross-entropy's gradient {@code π − q} only vanishes when
 * every prompt's own distribution is matched. τ is in reward units: τ → 0 gives each prompt's best budget as a hard
 * label, a large τ spreads the target over budgets whose rewards differ by less than τ.
 *
 * <p>The last rows of the table are held out to answer the question GRPO could not: can the layer-0 features of a
 * prompt predict its best budget? There the predictor's argmax budget (what {@code --budget auto} runs) is scored
 * against the best single budget chosen on the training rows, and against each held-out prompt's own best (the
 * oracle).
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
     * @param stepLosses the mean training cross-entropy at every step (before its update)
     * @param train      the predictor on the rows it was trained on
     * @param heldOut    the predictor on the held-out rows, or null if none were held out
     */
    public record Result(DynamicRouter router, double[] stepLosses, Split train, Split heldOut) {}

    private TablePredictorTrainer() {}

    /**
     * @param table       the scored prompts; must belong to {@code model}, {@code router} and {@code data}
     * @param heldOut     how many of the table's last rows to hold out (0 to train on all), fewer than its rows
     * @param temperature τ of the targets, in reward units, above 0
     * @param config      steps, learning rate, λ_perf, λ_cost, hidden width, seed, maximum length and threads are used;
     *                    batch, group and β are not (every training row, every action; τ takes β's place)
     */
    public static Result train(FrozenModel model, DynamicRouter router, TrainingData data, BudgetTable table,
                               int heldOut, double temperature, PredictorConfig config, PrintStream progress) {
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
        if (!(temperature > 0) || !Double.isFinite(temperature)) {
            throw new InvalidTrainingOptionException("the target temperature must be a positive number, got "
                    + temperature);
        }
        int rows = table.rows();
        int trainRows = rows - heldOut;
        RouterParameters shape = new RouterParameters(router.decision().featureDim(), config.hiddenDim(), layers - 2);
        double[][] rewards = table.rewards(config.lambdaPerf(), config.lambdaCost()).rewards();
        double[][] targets = new double[rows][];
        for (int p = 0; p < rows; p++) {
            targets[p] = boltzmann(rewards[p], temperature);
        }
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
        long stepTokens = 0;
        for (int p = 0; p < trainRows; p++) {
            stepTokens += promptLengths[p];
        }
        ProgressBar bar = new ProgressBar(progress, 0, config.steps());
        if (progress != null) {
            progress.println("full-information training of the budget predictor of " + router.name() + " on "
                    + trainRows + " scored prompts (" + heldOut + " held out), targets softmax(reward / "
                    + temperature + "): " + config);
        }
        for (int step = 0; step < config.steps(); step++) {
            Arrays.fill(gradient, 0.0);
            double loss = 0;
            double expectedReward = 0;
            for (int p = 0; p < trainRows; p++) {
                double[] pi = policy.forward(params, features[p], promptLengths[p]);
                for (int a = 0; a < pi.length; a++) {
                    expectedReward += pi[a] * rewards[p][a];
                }
                loss += policy.backwardTowards(params, features[p], targets[p], 1.0 / trainRows, gradient);
            }
            losses[step] = loss / trainRows;
            adam.step(params, gradient, config.learningRate());
            bar.update(step, losses[step], stepTokens, String.format(Locale.ROOT, "E_pi[reward] %.3f",
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

    /** {@code q_a = exp(r_a/τ) / Σ_b exp(r_b/τ)}, computed from the largest reward down so it cannot overflow. */
    static double[] boltzmann(double[] rewards, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (double r : rewards) {
            max = Math.max(max, r);
        }
        double[] q = new double[rewards.length];
        double sum = 0;
        for (int a = 0; a < q.length; a++) {
            q[a] = Math.exp((rewards[a] - max) / temperature);
            sum += q[a];
        }
        for (int a = 0; a < q.length; a++) {
            q[a] /= sum;
        }
        return q;
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
