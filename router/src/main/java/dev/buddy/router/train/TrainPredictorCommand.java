package dev.buddy.router.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

import dev.buddy.router.Budget;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.Router;
import dev.buddy.router.RouterFile;

/**
 * {@code buddy train-predictor}: GRPO for the Budget Predictor of an existing router ({@link PredictorTrainer}), then
 * a summary: the reward at the start and end of the run, throughput, and the budgets the trained predictor chooses
 * on the first prompts of the data.
 */
public final class TrainPredictorCommand {
    /** Prompts whose chosen budget the summary reports. */
    static final int SUMMARY_PROMPTS = 200;

    /**
     * @param model  base model GGUF
     * @param router the router (a dynamic BUDDY router file) whose predictor to train
     * @param data   training data: Alpaca {@code .json} / {@code .jsonl} (prompt = instruction and input, target =
     *               response), or plain text
     * @param output the router file to write: a copy of {@code router} with the predictor
     * @param config the GRPO settings
     * @param resume continue from the checkpoint beside {@code output}
     */
    public record Options(Path model, Path router, Path data, Path output, PredictorConfig config, boolean resume) {}

    /**
     * @param result the training result
     * @param chosen how many of the first prompts chose each k (index k−1)
     */
    public record Summary(PredictorTrainer.Result result, int[] chosen) {}

    private TrainPredictorCommand() {}

    public static Summary run(Options options, PrintStream out, PrintStream progress) throws IOException {
        PredictorConfig config = options.config();
        try (FrozenModel model = FrozenModel.open(options.model())) {
            DynamicRouter router = buddyRouter(options.router(), model);
            TrainingData data = TrainingData.open(options.data(), model.tokenizer(), config.maxTokens());
            PredictorTrainer.Result result = PredictorTrainer.train(model, router, data, config, options.output(),
                    options.resume(), progress);
            double[] rewards = result.stepRewards();
            int from = result.firstStep();
            int window = Math.max(1, Math.min(50, (rewards.length - from) / 4));
            out.printf(Locale.ROOT, "wrote %s: %s with a budget predictor (%d GRPO steps)%n", options.output(),
                    router.name(), rewards.length);
            out.printf(Locale.ROOT, "mean sampled reward: first %d steps %.4f, last %d steps %.4f; %,d tokens,"
                            + " %.1f tok/s%s%n", window, mean(rewards, from, from + window), window,
                    mean(rewards, rewards.length - window, rewards.length), result.tokens(),
                    result.tokensPerSecond(), result.skippedExamples() > 0 ? "; " + result.skippedExamples()
                            + " examples had no scored token within the length limit and were skipped" : "");
            int[] chosen = PredictorEvaluation.chosenBudgets(model, result.router(), data, SUMMARY_PROMPTS,
                    config.threads());
            out.println("budgets chosen by --budget auto on the first " + Math.min(SUMMARY_PROMPTS, data.size())
                    + " prompts:");
            printBudgetCounts(out, "  ", chosen, router.layerCount());
            return new Summary(result, chosen);
        }
    }

    /**
     * {@code buddy train-predictor --oracle N}: no training; every action's reward on the first N prompts
     * ({@link BudgetOracle}), and what a perfect predictor would gain over the best fixed budget.
     *
     * @param tableFile where to keep the measured cross-entropies ({@link BudgetTable}), continuing it if it exists;
     *                  or null
     */
    public static BudgetOracle.Result oracle(Path modelPath, Path routerPath, Path dataPath, PredictorConfig config,
                                             int prompts, Path tableFile, PrintStream out, PrintStream progress)
            throws IOException {
        try (FrozenModel model = FrozenModel.open(modelPath)) {
            DynamicRouter router = buddyRouter(routerPath, model);
            TrainingData data = TrainingData.open(dataPath, model.tokenizer(), config.maxTokens());
            BudgetOracle.Result r = BudgetOracle.measure(model, router, data, prompts, config.maxTokens(),
                    config.threads(), progress, tableFile).rewards(config.lambdaPerf(), config.lambdaCost());
            int layers = r.layers();
            out.printf(Locale.ROOT, "budget oracle on the first %d prompts with a scored response (reward"
                    + " -%s*CE - %s*b):%n", r.rewards().length, config.lambdaPerf(), config.lambdaCost());
            out.println("  each prompt's best budget:");
            printBudgetCounts(out, "    ", r.oracleCounts(), layers);
            int best = r.bestConstantK();
            double oracleReward = r.oracleMeanReward();
            double constantReward = r.constantMeanReward(best);
            out.printf(Locale.ROOT, "  mean reward: oracle %.4f, best single budget b=%.3f (k=%d) %.4f; a perfect"
                    + " predictor gains %.4f over it%n", oracleReward, Budget.fractionForMiddleBlocks(best, layers),
                    best, constantReward, oracleReward - constantReward);
            return r;
        }
    }

    /**
     * {@code buddy train-predictor --from-table FILE}: full-information training on a budget table
     * ({@link TablePredictorTrainer}), the last {@code heldOut} rows held out; writes the router with the predictor
     * and reports the predictor against the best single budget and the oracle on both parts.
     */
    public static TablePredictorTrainer.Result fromTable(Path modelPath, Path routerPath, Path dataPath, Path tablePath,
                                                         int heldOut, double temperature, PredictorConfig config,
                                                         Path output,
                                                         PrintStream out, PrintStream progress) throws IOException {
        try (FrozenModel model = FrozenModel.open(modelPath)) {
            DynamicRouter router = buddyRouter(routerPath, model);
            TrainingData data = TrainingData.open(dataPath, model.tokenizer(), config.maxTokens());
            BudgetTable table = BudgetTable.read(tablePath);
            table.requireIdentity(tablePath, new BudgetTable.Identity(router.provenance().baseFingerprint(),
                    PredictorTrainer.routerIdentity(router), data.describe(), config.maxTokens()));
            TablePredictorTrainer.Result r = TablePredictorTrainer.train(model, router, data, table, heldOut,
                    temperature, config, progress);
            RouterFile.write(r.router(), output);
            int layers = router.layerCount();
            out.printf(Locale.ROOT, "wrote %s: %s with a budget predictor (%d full-information steps on %d prompts of"
                            + " %s; reward -%s*CE - %s*b, targets at temperature %s)%n", output, router.name(),
                    config.steps(), r.train().prompts(), tablePath, config.lambdaPerf(), config.lambdaCost(),
                    temperature);
            printSplit(out, "training prompts", r.train(), layers);
            if (r.heldOut() != null) {
                printSplit(out, "held-out prompts", r.heldOut(), layers);
            }
            return r;
        }
    }

    private static void printSplit(PrintStream out, String name, TablePredictorTrainer.Split s, int layers) {
        out.printf(Locale.ROOT, "%s (%d): mean reward predictor %.4f, best single budget b=%.3f (k=%d, chosen on the"
                        + " training prompts) %.4f, oracle %.4f; predictor - single budget %+.4f%n", name, s.prompts(),
                s.policyReward(), Budget.fractionForMiddleBlocks(s.constantK(), layers), s.constantK(),
                s.constantReward(), s.oracleReward(), s.gainOverConstant());
        out.println("  budgets the predictor chooses:");
        printBudgetCounts(out, "    ", s.chosen(), layers);
    }

    /** The router file as a BUDDY router; a static plan has no top-k routes to choose a budget for. */
    private static DynamicRouter buddyRouter(Path path, FrozenModel model) throws IOException {
        Router loaded = RouterFile.load(path, model.baseInfo());
        if (!(loaded instanceof DynamicRouter router)) {
            throw new InvalidTrainingOptionException(path + " is a static plan; a budget predictor needs a BUDDY"
                    + " router (train one with buddy train-router)");
        }
        return router;
    }

    /** One line per budget chosen at least once: {@code b=0.700 (k=19): 12}; {@code counts} indexed by k−1. */
    private static void printBudgetCounts(PrintStream out, String indent, int[] counts, int layers) {
        for (int k = 1; k <= counts.length; k++) {
            if (counts[k - 1] > 0) {
                out.printf(Locale.ROOT, "%sb=%.3f (k=%d): %d%n", indent, Budget.fractionForMiddleBlocks(k, layers),
                        k, counts[k - 1]);
            }
        }
    }

    private static double mean(double[] a, int from, int to) {
        double s = 0;
        int n = 0;
        for (int i = Math.max(0, from); i < Math.min(to, a.length); i++) {
            if (!Double.isNaN(a[i])) {
                s += a[i];
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }
}
