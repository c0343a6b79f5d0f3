package dev.buddy.router.eval;

import dev.buddy.gguf.AtomicFiles;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The results of an evaluation run, written as a Markdown table (tasks × methods × budgets), a long-format CSV, a
 * detailed JSON, the {@code summary.json} that tables and plots are built from, and the accuracy–compute plot as SVG
 * and PNG. Accuracies are written in percent; perplexities as they are.
 *
 * <p>{@code summary.json}:
 * <pre>
 * {"model": "...",
 *  "methods": {"dense": {"1.0": {"mean_acc": 64.36, "wikitext_ppl": 5.47, "wikitext_tokens": 8191,
 *                                "tinystories_ppl": null, "tinystories_tokens": null,
 *                                "executed_fraction": 1.0, "tasks": {"openbookqa": 44.2, ...},
 *                                "tasks_stderr": {"openbookqa": 2.22, ...},
 *                                "tasks_examples": {"openbookqa": 500, ...}}},
 *              "buddy": {"0.875": {...}, "0.75": {...}}, "shortgpt": {...}, "ppl": {...}, "sleb": {...},
 *              "prior": {...}}}
 * </pre>
 * Task values are each task's headline metric ({@link Task#headline()}); {@code mean_acc} is their mean;
 * {@code tasks_examples} says how many examples of each task were scored ({@code --limit}), so a reader of a merged
 * summary can tell a 20-example figure from a full test set's; {@code wikitext_tokens} and {@code tinystories_tokens}
 * likewise say how many tokens each perplexity scored ({@code --ppl-tokens}), null where it was not measured.
 */
public final class EvalReport {
    public static final String MARKDOWN = "results.md";
    public static final String CSV = "results.csv";
    public static final String JSON = "results.json";
    public static final String SUMMARY = "summary.json";
    public static final String PLOT_SVG = "accuracy_compute.svg";
    public static final String PLOT_PNG = "accuracy_compute.png";

    /** The order methods are listed in: the dense reference, BUDDY, then the static baselines. */
    private static final List<String> METHOD_ORDER = List.of("dense", "buddy", "shortgpt", "ppl", "sleb", "prior");

    private final String model;
    private final Map<String, Object> settings;
    private final List<ConfigurationResult> results;
    private final List<ConstantAnswer> constantAnswers;

    /**
     * @param model    the model's name (file name or {@code general.name})
     * @param settings how the run was made (limit, routing mode, windows, …), reported as given
     */
    public EvalReport(String model, Map<String, Object> settings, List<ConfigurationResult> results) {
        this(model, settings, results, List.of());
    }

    /**
     * @param constantAnswers each task's constant-answer baseline over the examples evaluated, reported beside the
     *                        methods so that a score a preference alone reaches is visible (BoolQ's "yes")
     */
    public EvalReport(String model, Map<String, Object> settings, List<ConfigurationResult> results,
            List<ConstantAnswer> constantAnswers) {
        this.model = Objects.requireNonNull(model, "model");
        this.constantAnswers = List.copyOf(constantAnswers);
        this.settings = new LinkedHashMap<>(settings);
        List<ConfigurationResult> sorted = new ArrayList<>(results);
        sorted.sort(Comparator.comparingInt((ConfigurationResult r) -> methodRank(r.method()))
                .thenComparing(ConfigurationResult::method)
                .thenComparing(Comparator.comparingDouble(ConfigurationResult::nominalFraction).reversed()));
        this.results = List.copyOf(sorted);
    }

    public List<ConfigurationResult> results() {
        return results;
    }

    /**
     * The method name reports use for a router's {@code buddy.router.method}: lower case, and the ΔPPL ranking of
     * Shortened LLaMA ({@code dppl}) is called {@code ppl}.
     */
    public static String canonicalMethod(String routerMethod) {
        String m = routerMethod.trim().toLowerCase(Locale.ROOT);
        return switch (m) {
            case "dppl", "delta-ppl", "deltappl", "shortened-llama", "shortenedllama" -> "ppl";
            default -> m;
        };
    }

    /** A budget fraction as a label: at most four decimals, trailing zeros dropped, at least one decimal. */
    public static String budgetLabel(double fraction) {
        BigDecimal d = BigDecimal.valueOf(fraction).setScale(4, RoundingMode.HALF_UP).stripTrailingZeros();
        if (d.scale() < 1) {
            d = d.setScale(1, RoundingMode.UNNECESSARY);
        }
        return d.toPlainString();
    }

    private static int methodRank(String method) {
        // "buddy:file" (two files of one method in a run) ranks as its method
        int colon = method.indexOf(':');
        int i = METHOD_ORDER.indexOf(colon < 0 ? method : method.substring(0, colon));
        return i < 0 ? METHOD_ORDER.size() : i;
    }

    /** Tasks that any configuration measured, in {@link Task} order. */
    private Set<Task> tasks() {
        Set<Task> tasks = EnumSet.noneOf(Task.class);
        results.forEach(r -> tasks.addAll(r.tasks().keySet()));
        return tasks;
    }

    private Set<PerplexityCorpus> corpora() {
        Set<PerplexityCorpus> corpora = EnumSet.noneOf(PerplexityCorpus.class);
        results.forEach(r -> corpora.addAll(r.perplexities().keySet()));
        return corpora;
    }

    private static String percent(double fraction) {
        return Double.isFinite(fraction) ? String.format(Locale.ROOT, "%.2f", 100 * fraction) : "";
    }

    private static String signed(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%+.2f", v) : "";
    }

    private static String fixed(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "";
    }

    /** JSON numbers: percent rounded to 4 decimals so files stay readable; NaN becomes null. */
    private static Double rounded(double v, int decimals) {
        if (!Double.isFinite(v)) {
            return Double.NaN;
        }
        return BigDecimal.valueOf(v).setScale(decimals, RoundingMode.HALF_EVEN).doubleValue();
    }

    // ---- Markdown ------------------------------------------------------------------------------------------

    public String markdown() {
        Set<Task> tasks = tasks();
        Set<PerplexityCorpus> corpora = corpora();
        StringBuilder sb = new StringBuilder(4096);
        sb.append("# Evaluation: ").append(model).append("\n\n");
        if (!settings.isEmpty()) {
            for (Map.Entry<String, Object> e : settings.entrySet()) {
                sb.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
            }
            sb.append('\n');
        }
        sb.append("Accuracy in percent ± standard error; each task shows its headline metric, and Mean is their"
                + " mean.\n\n");
        sb.append("| Method | Budget | Executed |");
        for (Task t : tasks) {
            sb.append(' ').append(t.key()).append(" (").append(t.headline().key()).append(") |");
        }
        if (!tasks.isEmpty()) {
            sb.append(" Mean |");
        }
        for (PerplexityCorpus c : corpora) {
            sb.append(' ').append(c.key()).append(" PPL |");
        }
        sb.append('\n').append("|---|---:|---:|");
        sb.repeat("---:|", tasks.size() + (tasks.isEmpty() ? 0 : 1) + corpora.size());
        sb.append('\n');
        for (ConfigurationResult r : results) {
            sb.append("| ").append(r.method()).append(" | ").append(r.budget()).append(" | ")
                    .append(fixed(r.computeFraction(), 3)).append(" |");
            for (Task t : tasks) {
                TaskResult tr = r.tasks().get(t);
                sb.append(' ');
                if (tr != null) {
                    sb.append(percent(tr.headline()));
                    if (Double.isFinite(tr.headlineStderr())) {
                        sb.append(" ± ").append(percent(tr.headlineStderr()));
                    }
                }
                sb.append(" |");
            }
            if (!tasks.isEmpty()) {
                sb.append(' ').append(fixed(r.meanAccuracyPercent(), 2)).append(" |");
            }
            for (PerplexityCorpus c : corpora) {
                sb.append(' ').append(fixed(r.perplexity(c), 3)).append(" |");
            }
            sb.append('\n');
        }
        if (!tasks.isEmpty()) {
            sb.append("\nAll metrics (n = examples evaluated):\n\n");
            sb.append("| Method | Budget | Task | n | acc | acc_norm |\n|---|---:|---|---:|---:|---:|\n");
            for (ConfigurationResult r : results) {
                for (TaskResult tr : r.tasks().values()) {
                    sb.append("| ").append(r.method()).append(" | ").append(r.budget()).append(" | ")
                            .append(tr.task().key()).append(" | ").append(tr.n()).append(" | ")
                            .append(percent(tr.acc())).append(" ± ").append(percent(tr.accStderr())).append(" | ");
                    if (tr.task().reportsAccNorm()) {
                        sb.append(percent(tr.accNorm())).append(" ± ").append(percent(tr.accNormStderr()));
                    }
                    sb.append(" |\n");
                }
            }
        }
        if (!constantAnswers.isEmpty()) {
            sb.append("\nConstant answer (always the choice at the position most often gold among the examples"
                    + " evaluated; what a preference alone scores, without reading the question):\n\n");
            sb.append("| Task | n | Always | Accuracy |\n|---|---:|---|---:|\n");
            for (ConstantAnswer c : constantAnswers) {
                sb.append("| ").append(c.task().key()).append(" | ").append(c.n()).append(" | choice ")
                        .append(c.position() + 1);
                if (c.text() != null) {
                    sb.append(" (\"").append(c.text()).append("\")");
                }
                sb.append(" | ").append(percent(c.accuracy())).append(" |\n");
            }
        }
        List<PairedDifference> paired = PairedDifference.of(results);
        if (!paired.isEmpty()) {
            sb.append("\nPaired differences (the first method listed at a budget minus each other one, on the same"
                    + " examples: headline metric in points, per task and as the mean over tasks; the paired standard"
                    + " error is that of the per-question differences, the unpaired one what the two rows' own errors"
                    + " imply if they were independent):\n\n");
            sb.append("| Budget | Method | Minus | Mean difference | Paired SE | Unpaired SE |");
            for (Task t : tasks) {
                sb.append(' ').append(t.key()).append(" |");
            }
            sb.append("\n|---|---|---|---:|---:|---:|");
            sb.append("---:|".repeat(tasks.size())).append('\n');
            for (PairedDifference d : paired) {
                sb.append("| ").append(d.budget()).append(" | ").append(d.method()).append(" | ").append(d.reference())
                        .append(" | ").append(signed(d.difference())).append(" | ").append(fixed(d.pairedStderr(), 2))
                        .append(" | ").append(fixed(d.unpairedStderr(), 2)).append(" |");
                for (Task t : tasks) {
                    Double v = d.tasks().get(t);
                    sb.append(' ').append(v == null ? "" : signed(v)).append(" |");
                }
                sb.append('\n');
            }
        }
        if (results.stream().anyMatch(r -> r.paths().distinct() > 0)) {
            sb.append("\nBlock paths (distinct masks over every token evaluated, and the share of tokens on the most"
                    + " common one; a static plan, or a router that routes as one, has 1 path). Skipped slots: the"
                    + " share of the L x tokens block slots that were skipped, whose keys and values compute-kv"
                    + " projects anyway; read later: the share a later token of the same sequence runs and so"
                    + " attends to, all a policy that knew the future would project:\n\n");
            sb.append("| Method | Budget | Paths | Top path | Skipped slots | Read later |\n"
                    + "|---|---:|---:|---:|---:|---:|\n");
            for (ConfigurationResult r : results) {
                if (r.paths().distinct() > 0) {
                    sb.append("| ").append(r.method()).append(" | ").append(r.budget()).append(" | ")
                            .append(r.paths().distinct()).append(" | ").append(percent(r.paths().topShare()))
                            .append(" % | ").append(percent(r.paths().skippedKv())).append(" % | ")
                            .append(percent(r.paths().neededKv())).append(" % |\n");
                }
            }
        }
        if (results.stream().anyMatch(r -> !r.budgetChoices().isEmpty())) {
            sb.append("\nBudgets chosen by the Budget Predictor (budget auto; counts of routed sequences, mean chosen"
                    + " b = fraction of blocks executed):\n\n");
            sb.append("| Method | Task | Sequences | Mean b | Chosen budgets (b: count) |\n|---|---|---:|---:|---|\n");
            for (ConfigurationResult r : results) {
                r.budgetChoices().forEach((task, d) -> {
                    StringBuilder counts = new StringBuilder();
                    d.byBudget().forEach((b, n) -> counts.append(counts.isEmpty() ? "" : ", ").append(b)
                            .append(": ").append(n));
                    sb.append("| ").append(r.method()).append(" | ").append(task.key()).append(" | ")
                            .append(d.total()).append(" | ").append(fixed(d.meanBudget(), 3)).append(" | ")
                            .append(counts).append(" |\n");
                });
            }
        }
        List<ComputeMatch> matches = ComputeMatch.of(results);
        if (!matches.isEmpty()) {
            sb.append("\nBudget Predictor against the same method's fixed budgets at the same compute (the fixed"
                    + " budgets' mean accuracy interpolated linearly at auto's executed fraction; ± one standard"
                    + " error, configurations treated as independent):\n\n");
            sb.append("| Method | auto executed | auto mean | fixed budgets around it | fixed at that compute |"
                    + " auto − fixed |\n|---|---:|---:|---|---:|---:|\n");
            for (ComputeMatch m : matches) {
                sb.append("| ").append(m.method()).append(" | ").append(fixed(m.autoFraction(), 3)).append(" | ")
                        .append(fixed(m.autoAccuracy(), 2)).append(" ± ").append(fixed(m.autoStderr(), 2))
                        .append(" | ");
                if (m.matched()) {
                    sb.append(m.lowerBudget()).append(" – ").append(m.upperBudget()).append(" | ")
                            .append(fixed(m.matchedAccuracy(), 2)).append(" ± ").append(fixed(m.matchedStderr(), 2))
                            .append(" | ").append(String.format(Locale.ROOT, "%+.2f ± %.2f", m.difference(),
                                    m.differenceStderr())).append(" |\n");
                } else {
                    sb.append("outside the measured budgets (").append(m.lowerBudget() == null
                            ? "all above" : "all below").append(") | | |\n");
                }
            }
        }
        if (!corpora.isEmpty()) {
            sb.append("\nPerplexity windows:\n\n");
            sb.append("| Method | Budget | Text | Tokens scored | Window | Stride | PPL |\n");
            sb.append("|---|---:|---|---:|---:|---:|---:|\n");
            for (ConfigurationResult r : results) {
                for (PerplexityResult p : r.perplexities().values()) {
                    sb.append("| ").append(r.method()).append(" | ").append(r.budget()).append(" | ")
                            .append(p.corpus().key()).append(" | ").append(p.tokensScored()).append(" | ")
                            .append(p.window()).append(" | ").append(p.stride()).append(" | ")
                            .append(fixed(p.perplexity(), 3)).append(" |\n");
                }
            }
        }
        return sb.toString();
    }

    // ---- CSV -----------------------------------------------------------------------------------------------

    /** Long format, one measurement per row: {@code method,budget,executed_fraction,task,metric,value,stderr,n}. */
    public String csv() {
        StringBuilder sb = new StringBuilder(4096);
        sb.append("method,budget,executed_fraction,task,metric,value,stderr,n\n");
        for (ConfigurationResult r : results) {
            String head = csvField(r.method()) + "," + csvField(r.budget()) + "," + fixed(r.computeFraction(), 6) + ",";
            for (TaskResult tr : r.tasks().values()) {
                sb.append(head).append(tr.task().key()).append(",acc,").append(fixed(100 * tr.acc(), 4)).append(',')
                        .append(fixed(100 * tr.accStderr(), 4)).append(',').append(tr.n()).append('\n');
                if (tr.task().reportsAccNorm()) {
                    sb.append(head).append(tr.task().key()).append(",acc_norm,").append(fixed(100 * tr.accNorm(), 4))
                            .append(',').append(fixed(100 * tr.accNormStderr(), 4)).append(',').append(tr.n())
                            .append('\n');
                }
            }
            if (!r.tasks().isEmpty()) {
                sb.append(head).append("mean,mean_acc,").append(fixed(r.meanAccuracyPercent(), 4)).append(",,")
                        .append(r.tasks().size()).append('\n');
            }
            for (PerplexityResult p : r.perplexities().values()) {
                sb.append(head).append(p.corpus().key()).append(",ppl,").append(fixed(p.perplexity(), 6)).append(",,")
                        .append(p.tokensScored()).append('\n');
            }
        }
        return sb.toString();
    }

    private static String csvField(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }

    // ---- JSON ----------------------------------------------------------------------------------------------

    /** Every measurement with its counts and standard errors. */
    public Map<String, Object> json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("model", model);
        root.put("settings", settings);
        List<Object> list = new ArrayList<>();
        for (ConfigurationResult r : results) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("method", r.method());
            entry.put("budget", r.budget());
            entry.put("nominal_fraction", r.nominalFraction());
            entry.put("executed_fraction", r.executedFraction());
            entry.put("mean_acc", rounded(r.meanAccuracyPercent(), 4));
            Map<String, Object> tasks = new LinkedHashMap<>();
            for (TaskResult tr : r.tasks().values()) {
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("n", tr.n());
                t.put("headline_metric", tr.task().headline().key());
                t.put("acc", rounded(100 * tr.acc(), 4));
                t.put("acc_stderr", rounded(100 * tr.accStderr(), 4));
                if (tr.task().reportsAccNorm()) {
                    t.put("acc_norm", rounded(100 * tr.accNorm(), 4));
                    t.put("acc_norm_stderr", rounded(100 * tr.accNormStderr(), 4));
                }
                if (!tr.outcomes().isEmpty()) {
                    t.put("outcomes", tr.outcomes());
                }
                tasks.put(tr.task().key(), t);
            }
            entry.put("tasks", tasks);
            Map<String, Object> ppl = new LinkedHashMap<>();
            for (PerplexityResult p : r.perplexities().values()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("ppl", p.perplexity());
                m.put("nll_per_token", p.meanNegLogLikelihood());
                m.put("tokens_scored", p.tokensScored());
                m.put("window", p.window());
                m.put("stride", p.stride());
                ppl.put(p.corpus().key(), m);
            }
            entry.put("perplexity", ppl);
            if (r.paths().distinct() > 0) {
                entry.put("distinct_paths", r.paths().distinct());
                entry.put("top_path_share", rounded(r.paths().topShare(), 6));
                if (Double.isFinite(r.paths().skippedKv())) {
                    entry.put("skipped_kv_fraction", rounded(r.paths().skippedKv(), 6));
                    entry.put("needed_kv_fraction", rounded(r.paths().neededKv(), 6));
                }
            }
            if (!r.budgetChoices().isEmpty()) {
                entry.put("budget_choices", budgetChoicesJson(r));
            }
            list.add(entry);
        }
        root.put("results", list);
        List<PairedDifference> paired = PairedDifference.of(results);
        if (!paired.isEmpty()) {
            root.put("paired_differences", paired.stream().map(EvalReport::pairedDifferenceJson).toList());
        }
        if (!constantAnswers.isEmpty()) {
            Map<String, Object> constant = new LinkedHashMap<>();
            for (ConstantAnswer c : constantAnswers) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("n", c.n());
                entry.put("choice", c.position());
                entry.put("text", c.text());
                entry.put("acc", rounded(100 * c.accuracy(), 4));
                constant.put(c.task().key(), entry);
            }
            root.put("constant_answer", constant);
        }
        List<Object> matched = new ArrayList<>();
        for (ComputeMatch m : ComputeMatch.of(results)) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("method", m.method());
            entry.put("auto_executed_fraction", m.autoFraction());
            entry.put("auto_mean_acc", rounded(m.autoAccuracy(), 4));
            entry.put("auto_mean_acc_stderr", rounded(m.autoStderr(), 4));
            entry.put("lower_budget", m.lowerBudget());
            entry.put("upper_budget", m.upperBudget());
            entry.put("fixed_mean_acc_at_same_compute", rounded(m.matchedAccuracy(), 4));
            entry.put("fixed_mean_acc_at_same_compute_stderr", rounded(m.matchedStderr(), 4));
            matched.add(entry);
        }
        if (!matched.isEmpty()) {
            root.put("auto_against_fixed_at_same_compute", matched);
        }
        return root;
    }

    /**
     * Under {@code auto}, per task: the mean chosen budget, the routed sequences counted and how many chose each
     * budget (see {@link BudgetChoices} for what a sequence is).
     */
    private static Map<String, Object> pairedDifferenceJson(PairedDifference d) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("method", d.method());
        entry.put("reference", d.reference());
        entry.put("budget", d.budget());
        entry.put("difference", rounded(d.difference(), 4));
        entry.put("paired_stderr", rounded(d.pairedStderr(), 4));
        entry.put("unpaired_stderr", rounded(d.unpairedStderr(), 4));
        Map<String, Object> tasks = new LinkedHashMap<>();
        d.tasks().forEach((t, v) -> tasks.put(t.key(), rounded(v, 4)));
        entry.put("tasks", tasks);
        return entry;
    }

    private static Map<String, Object> budgetChoicesJson(ConfigurationResult r) {
        Map<String, Object> byTask = new LinkedHashMap<>();
        r.budgetChoices().forEach((task, d) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mean_budget", rounded(d.meanBudget(), 4));
            m.put("sequences", d.total());
            m.put("counts", new LinkedHashMap<String, Object>(d.byBudget()));
            byTask.put(task.key(), m);
        });
        return byTask;
    }

    /** The {@code summary.json} shape (see the class comment). */
    public Map<String, Object> summary() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("model", model);
        Map<String, Object> methods = new LinkedHashMap<>();
        for (ConfigurationResult r : results) {
            @SuppressWarnings("unchecked")
            Map<String, Object> budgets = (Map<String, Object>) methods.computeIfAbsent(r.method(),
                    m -> new LinkedHashMap<String, Object>());
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("mean_acc", rounded(r.meanAccuracyPercent(), 4));
            entry.put("wikitext_ppl", r.perplexity(PerplexityCorpus.WIKITEXT2));
            entry.put("wikitext_tokens", r.perplexityTokens(PerplexityCorpus.WIKITEXT2));
            entry.put("tinystories_ppl", r.perplexity(PerplexityCorpus.TINYSTORIES));
            entry.put("tinystories_tokens", r.perplexityTokens(PerplexityCorpus.TINYSTORIES));
            entry.put("executed_fraction", r.computeFraction());
            if (!r.budgetChoices().isEmpty()) {
                entry.put("budget_choices", budgetChoicesJson(r));
            }
            Map<String, Object> tasks = new LinkedHashMap<>();
            Map<String, Object> stderr = new LinkedHashMap<>();
            Map<String, Object> examples = new LinkedHashMap<>();
            for (TaskResult tr : r.tasks().values()) {
                tasks.put(tr.task().key(), rounded(100 * tr.headline(), 4));
                stderr.put(tr.task().key(), rounded(100 * tr.headlineStderr(), 4));
                examples.put(tr.task().key(), tr.n());
            }
            entry.put("tasks", tasks);
            entry.put("tasks_stderr", stderr);
            entry.put("tasks_examples", examples);
            budgets.put(r.budget(), entry);
        }
        root.put("methods", methods);
        return root;
    }

    // ---- plot and files ------------------------------------------------------------------------------------

    /** Mean accuracy against executed fraction, one series per method (configurations without tasks left out). */
    public AccuracyComputePlot plot() {
        Map<String, List<AccuracyComputePlot.Point>> byMethod = new LinkedHashMap<>();
        for (ConfigurationResult r : results) {
            if (!r.tasks().isEmpty()) {
                // auto is one point of its own: a line through it and the fixed budgets would mix two curves.
                String name = r.budget().equals(EvalConfiguration.AUTO) ? r.method() + " auto" : r.method();
                byMethod.computeIfAbsent(name, m -> new ArrayList<>())
                        .add(new AccuracyComputePlot.Point(r.computeFraction(), r.meanAccuracyPercent()));
            }
        }
        List<AccuracyComputePlot.Series> series = new ArrayList<>();
        byMethod.forEach((m, pts) -> series.add(new AccuracyComputePlot.Series(m, pts)));
        return new AccuracyComputePlot("Mean accuracy vs. compute: " + model, series);
    }

    /** What {@link #writeAll} wrote, and the PNG problem if the PNG could not be made. */
    public record Written(List<Path> files, String pngProblem) {}

    /**
     * Writes every output into {@code dir}, each atomically. A PNG that cannot be rendered (a JDK without fonts or
     * image writers) is reported in {@link Written#pngProblem()} rather than failing the run; the SVG has the same
     * plot.
     */
    public Written writeAll(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        Path md = dir.resolve(MARKDOWN);
        AtomicFiles.writeString(md, markdown());
        files.add(md);
        Path csv = dir.resolve(CSV);
        AtomicFiles.writeString(csv, csv());
        files.add(csv);
        Path json = dir.resolve(JSON);
        AtomicFiles.writeString(json, JsonText.write(json()) + "\n");
        files.add(json);
        Path summary = dir.resolve(SUMMARY);
        AtomicFiles.writeString(summary, JsonText.write(summary()) + "\n");
        files.add(summary);
        String pngProblem = null;
        if (results.stream().anyMatch(r -> !r.tasks().isEmpty())) {
            AccuracyComputePlot plot = plot();
            Path svg = dir.resolve(PLOT_SVG);
            plot.writeSvg(svg);
            files.add(svg);
            Path png = dir.resolve(PLOT_PNG);
            try {
                plot.writePng(png);
                files.add(png);
            } catch (IOException | RuntimeException | Error e) {
                // Headless AWT needs fonts; a minimal JDK image may lack them. The SVG above is the same plot.
                if (e instanceof VirtualMachineError vme) {
                    throw vme;
                }
                pngProblem = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }
        return new Written(List.copyOf(files), pngProblem);
    }
}
