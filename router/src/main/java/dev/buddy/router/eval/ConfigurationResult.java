package dev.buddy.router.eval;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything measured for one evaluated configuration: a method at a budget.
 *
 * @param method           {@code dense}, {@code buddy}, {@code shortgpt}, {@code ppl}, {@code sleb}, {@code prior}, …
 * @param budget           the budget label, e.g. {@code "0.875"}; {@code "1.0"} for dense
 * @param nominalFraction  the fraction of blocks the budget asks for, (k+2)/L
 * @param executedFraction the fraction of blocks that actually ran, over every token the model ran (NaN if unknown)
 * @param tasks            multiple-choice results by task
 * @param perplexities     perplexity results by corpus
 * @param budgetChoices    under {@code auto}: by task, how often the Budget Predictor chose each budget (empty for a
 *                         fixed budget)
 * @param paths            how many distinct block paths the tokens took and the share on the most common one
 */
public record ConfigurationResult(String method, String budget, double nominalFraction, double executedFraction,
                                  Map<Task, TaskResult> tasks, Map<PerplexityCorpus, PerplexityResult> perplexities,
                                  Map<Task, BudgetChoices.Distribution> budgetChoices, PathSpread paths) {
    /**
     * @param distinct   distinct block masks over every token evaluated (1 for dense and for a static plan); 0 unknown
     * @param topShare   the share of tokens on the most common mask; NaN unknown
     * @param skippedKv  skipped-block slots over {@code L × tokens}, the blocks' worth of key/value projections that
     *                   {@code compute-kv} adds; NaN unknown
     * @param neededKv   of those, the share of {@code L × tokens} a later position of the same sequence reads (the
     *                   floor for a policy that knew which blocks run later); NaN unknown
     */
    public record PathSpread(int distinct, double topShare, double skippedKv, double neededKv) {
        public static final PathSpread UNKNOWN = new PathSpread(0, Double.NaN);

        /** Paths alone, the skipped-block slots not counted. */
        public PathSpread(int distinct, double topShare) {
            this(distinct, topShare, Double.NaN, Double.NaN);
        }
    }

    public ConfigurationResult {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(budget, "budget");
        Objects.requireNonNull(paths, "paths");
        tasks = Collections.unmodifiableMap(tasks.isEmpty() ? new EnumMap<>(Task.class) : new EnumMap<>(tasks));
        perplexities = Collections.unmodifiableMap(perplexities.isEmpty() ? new EnumMap<>(PerplexityCorpus.class)
                : new EnumMap<>(perplexities));
        budgetChoices = Collections.unmodifiableMap(budgetChoices.isEmpty() ? new EnumMap<>(Task.class)
                : new EnumMap<>(budgetChoices));
    }

    /** A fixed-budget result (no chosen-budget distribution) whose paths were not counted. */
    public ConfigurationResult(String method, String budget, double nominalFraction, double executedFraction,
                               Map<Task, TaskResult> tasks, Map<PerplexityCorpus, PerplexityResult> perplexities) {
        this(method, budget, nominalFraction, executedFraction, tasks, perplexities, Map.of(), PathSpread.UNKNOWN);
    }

    /** Mean of the tasks' headline metrics, in percent; NaN without tasks. */
    public double meanAccuracyPercent() {
        if (tasks.isEmpty()) {
            return Double.NaN;
        }
        double sum = 0;
        for (TaskResult r : tasks.values()) {
            sum += r.headline();
        }
        return 100 * sum / tasks.size();
    }

    /** The plot's x value: the measured fraction when known, else the nominal one. */
    public double computeFraction() {
        return Double.isFinite(executedFraction) ? executedFraction : nominalFraction;
    }

    /** Perplexity on a corpus, NaN if it was not measured. */
    public double perplexity(PerplexityCorpus corpus) {
        PerplexityResult r = perplexities.get(corpus);
        return r == null ? Double.NaN : r.perplexity();
    }

    /** Tokens the perplexity on a corpus scored, null if it was not measured. */
    public Long perplexityTokens(PerplexityCorpus corpus) {
        PerplexityResult r = perplexities.get(corpus);
        return r == null ? null : r.tokensScored();
    }
}
