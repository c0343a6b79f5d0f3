package dev.buddy.router.eval;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.router.Budget;
import dev.buddy.router.InvalidBudgetException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Everything {@code buddy eval} needs to know.
 *
 * @param model          the GGUF model
 * @param routers        router or static-plan files (may be empty: dense only)
 * @param budgets        budgets each router is evaluated at
 * @param tasks          multiple-choice tasks, in report order
 * @param limit          the first N examples of each task; {@link Integer#MAX_VALUE} for all
 * @param perplexity     perplexity texts
 * @param pplLimitTokens the first N tokens of each perplexity text; {@link Integer#MAX_VALUE} for all
 * @param pplWindow      perplexity window in tokens; 0 for {@code min(context, 512)}
 * @param pplStride      perplexity stride; 0 for half the window
 * @param outputDir      where the reports go
 * @param datasetsDir    the datasets folder (with {@code arc/}, {@code piqa/}, … as in shared/datasets)
 * @param routingMode    how routed configurations route the continuation tokens
 * @param bos            prepend BOS to multiple-choice contexts (lm-eval: no); perplexity texts follow the model's
 *                       {@code add_bos_token}
 * @param contextLength  positions of the evaluation state; 0 for {@code min(model context, 2048)} (lm-eval's
 *                       default max length is 2048)
 * @param kvCacheType    KV storage
 * @param skippedKv      what skipped blocks leave in the KV cache
 * @param threads        worker threads; 0 for all processors
 * @param parallel       examples (and perplexity windows) scored at once, each on its own copy of the evaluation
 *                       state with {@code threads / parallel} kernel threads; the results are the same for any value
 * @param prefillBatch   most context tokens per forward call; 0 for the whole evaluation context, so that every
 *                       context is one planner call and routed as a whole, as the paper's prefill is
 * @param dense          also evaluate the dense model
 * @param autoBudget     also evaluate every router that has a Budget Predictor with the budget it chooses per
 *                       sequence ({@code auto} in {@code --budgets})
 * @param resume         take the tasks and texts already finished from the output folder's checkpoint
 *                       ({@link EvalCheckpoint}) instead of scoring them again
 */
public record EvalOptions(Path model, List<Path> routers, List<Budget> budgets, List<Task> tasks, int limit,
                          List<PerplexityCorpus> perplexity, int pplLimitTokens, int pplWindow, int pplStride,
                          Path outputDir, Path datasetsDir, RoutingMode routingMode, boolean bos, int contextLength,
                          KvCacheType kvCacheType, SkippedKvPolicy skippedKv, int threads, int parallel,
                          int prefillBatch, boolean dense, boolean autoBudget, boolean resume) {

    /** The paper's budgets for a 32-block model: 4, 8, 12 and 16 blocks removed. */
    public static final List<Budget> PAPER_BUDGETS = List.of(Budget.fraction(0.875), Budget.fraction(0.75),
            Budget.fraction(0.625), Budget.fraction(0.5));

    /** lm-eval's default maximum length when a model does not state one. */
    public static final int DEFAULT_MAX_CONTEXT = 2048;

    public EvalOptions {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(outputDir, "outputDir");
        Objects.requireNonNull(datasetsDir, "datasetsDir");
        Objects.requireNonNull(routingMode, "routingMode");
        Objects.requireNonNull(kvCacheType, "kvCacheType");
        Objects.requireNonNull(skippedKv, "skippedKv");
        routers = List.copyOf(routers);
        budgets = List.copyOf(budgets);
        tasks = List.copyOf(new java.util.LinkedHashSet<>(tasks));
        perplexity = List.copyOf(new java.util.LinkedHashSet<>(perplexity));
        if (limit < 1) {
            throw new InvalidEvalOptionException("--limit must be at least 1, got " + limit);
        }
        if (pplLimitTokens < 2) {
            throw new InvalidEvalOptionException("the perplexity token limit must be at least 2, got "
                    + pplLimitTokens);
        }
        if (pplWindow < 0 || pplWindow == 1) {
            throw new InvalidEvalOptionException("the perplexity window must be at least 2 tokens, got " + pplWindow);
        }
        if (pplStride < 0) {
            throw new InvalidEvalOptionException("the perplexity stride must be positive, got " + pplStride);
        }
        if (contextLength < 0 || threads < 0 || prefillBatch < 0) {
            throw new InvalidEvalOptionException("context length, threads and prefill batch must not be negative");
        }
        if (parallel < 1) {
            throw new InvalidEvalOptionException("--parallel must be at least 1, got " + parallel);
        }
        if (!routers.isEmpty() && budgets.isEmpty() && !autoBudget) {
            throw new InvalidEvalOptionException("router files were given but no budget to evaluate them at");
        }
        if (autoBudget && routers.isEmpty()) {
            throw new InvalidEvalOptionException("--budgets auto needs a --router with a budget predictor");
        }
        if (routers.isEmpty() && !dense) {
            throw new InvalidEvalOptionException("nothing to evaluate: no router file and the dense model is off");
        }
        if (tasks.isEmpty() && perplexity.isEmpty()) {
            throw new InvalidEvalOptionException("nothing to measure: no task and no perplexity text");
        }
    }

    /** Defaults: the paper's eight tasks and budgets, all examples, WikiText-2 perplexity, per-token routing. */
    public static Builder builder(Path model, Path outputDir, Path datasetsDir) {
        return new Builder(model, outputDir, datasetsDir);
    }

    /**
     * A budget as written on the command line: a fraction of blocks to execute ({@code 0.875}), or a number of middle
     * blocks to remove ({@code drop4}, {@code rm4}).
     */
    public static Budget parseBudget(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        for (String prefix : new String[] {"drop", "rm"}) {
            if (t.startsWith(prefix)) {
                String n = t.substring(prefix.length()).replace("=", "").replace(":", "");
                try {
                    return Budget.drop(Integer.parseInt(n));
                } catch (NumberFormatException e) {
                    throw new InvalidEvalOptionException("bad budget '" + text + "': expected " + prefix
                            + "N with a whole number N");
                }
            }
        }
        try {
            return Budget.fraction(Double.parseDouble(t));
        } catch (NumberFormatException e) {
            throw new InvalidEvalOptionException("bad budget '" + text + "': expected a fraction in (0, 1] such as"
                    + " 0.875, or dropN");
        } catch (InvalidBudgetException e) {
            throw new InvalidEvalOptionException("bad budget '" + text + "': " + e.getMessage());
        }
    }

    /** Comma-separated fixed budgets; {@code auto} entries are left to {@link #parseAuto}. */
    public static List<Budget> parseBudgets(String text) {
        List<Budget> out = new ArrayList<>();
        for (String part : text.split(",")) {
            if (!part.isBlank() && !isAuto(part)) {
                out.add(parseBudget(part));
            }
        }
        return out;
    }

    /** Whether comma-separated budgets include {@code auto} (the router's Budget Predictor chooses). */
    public static boolean parseAuto(String text) {
        for (String part : text.split(",")) {
            if (isAuto(part)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isAuto(String part) {
        return part.trim().equalsIgnoreCase("auto");
    }

    /** Comma-separated task names; {@code paper} stands for the paper's eight, {@code all} adds MMLU. */
    public static List<Task> parseTasks(String text) {
        List<Task> out = new ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            if (p.isEmpty() || p.equals("none")) {
                continue;
            }
            switch (p) {
                case "paper" -> out.addAll(Task.paperTasks());
                case "all" -> out.addAll(List.of(Task.values()));
                default -> out.add(Task.parse(p));
            }
        }
        return out;
    }

    /** Comma-separated perplexity texts ({@code wikitext2}, {@code tinystories}; {@code none} for none). */
    public static List<PerplexityCorpus> parsePerplexity(String text) {
        List<PerplexityCorpus> out = new ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.trim();
            if (!p.isEmpty() && !p.equalsIgnoreCase("none")) {
                out.add(PerplexityCorpus.parse(p));
            }
        }
        return out;
    }

    /** Mutable collector for {@link EvalOptions}. */
    public static final class Builder {
        private final Path model;
        private final Path outputDir;
        private final Path datasetsDir;
        private List<Path> routers = List.of();
        private List<Budget> budgets = PAPER_BUDGETS;
        private List<Task> tasks = Task.paperTasks();
        private int limit = Integer.MAX_VALUE;
        private List<PerplexityCorpus> perplexity = List.of(PerplexityCorpus.WIKITEXT2);
        private int pplLimitTokens = Integer.MAX_VALUE;
        private int pplWindow;
        private int pplStride;
        private RoutingMode routingMode = RoutingMode.PER_TOKEN;
        private boolean bos;
        private int contextLength;
        private KvCacheType kvCacheType = KvCacheType.F16;
        private SkippedKvPolicy skippedKv = SkippedKvPolicy.ZEROS;
        private int threads;
        private int parallel = 1;
        private int prefillBatch;
        private boolean dense = true;
        private boolean autoBudget;
        private boolean resume;

        private Builder(Path model, Path outputDir, Path datasetsDir) {
            this.model = model;
            this.outputDir = outputDir;
            this.datasetsDir = datasetsDir;
        }

        public Builder routers(List<Path> v) {
            routers = v;
            return this;
        }

        public Builder budgets(List<Budget> v) {
            budgets = v;
            return this;
        }

        public Builder tasks(List<Task> v) {
            tasks = v;
            return this;
        }

        public Builder limit(int v) {
            limit = v;
            return this;
        }

        public Builder perplexity(List<PerplexityCorpus> v) {
            perplexity = v;
            return this;
        }

        public Builder pplLimitTokens(int v) {
            pplLimitTokens = v;
            return this;
        }

        public Builder pplWindow(int v) {
            pplWindow = v;
            return this;
        }

        public Builder pplStride(int v) {
            pplStride = v;
            return this;
        }

        public Builder routingMode(RoutingMode v) {
            routingMode = v;
            return this;
        }

        public Builder bos(boolean v) {
            bos = v;
            return this;
        }

        public Builder contextLength(int v) {
            contextLength = v;
            return this;
        }

        public Builder kvCacheType(KvCacheType v) {
            kvCacheType = v;
            return this;
        }

        public Builder skippedKv(SkippedKvPolicy v) {
            skippedKv = v;
            return this;
        }

        public Builder threads(int v) {
            threads = v;
            return this;
        }

        public Builder parallel(int v) {
            parallel = v;
            return this;
        }

        public Builder prefillBatch(int v) {
            prefillBatch = v;
            return this;
        }

        public Builder dense(boolean v) {
            dense = v;
            return this;
        }

        public Builder autoBudget(boolean v) {
            autoBudget = v;
            return this;
        }

        public Builder resume(boolean v) {
            resume = v;
            return this;
        }

        public EvalOptions build() {
            return new EvalOptions(model, routers, budgets, tasks, limit, perplexity, pplLimitTokens, pplWindow,
                    pplStride, outputDir, datasetsDir, routingMode, bos, contextLength, kvCacheType, skippedKv,
                    threads, parallel, prefillBatch, dense, autoBudget, resume);
        }
    }
}
