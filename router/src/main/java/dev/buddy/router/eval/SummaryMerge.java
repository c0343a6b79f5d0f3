package dev.buddy.router.eval;

import dev.buddy.gguf.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Combines the {@code summary.json} files of several {@code buddy eval} runs of one model (different routers,
 * routing modes, KV policies, each run in its own process) into one report: a merged {@code summary.json} of the same
 * shape, a {@code results.md} with a method × budget table and a per-task table, and the accuracy–compute plot.
 *
 * <p>Inputs are merged in order, field by field: when two files hold the same method at the same budget, each field
 * the later one measured wins (and {@link #replacements()} says so when it overwrote a measured score), and a field it
 * left unmeasured (null, or no tasks) keeps the earlier value, so an accuracy-only run and a perplexity-only run of
 * one router combine into one entry. Each input may rename methods first ({@code FILE:buddy=buddy-reuse}), so the same
 * router evaluated under another setting becomes its own method. Budget labels are normalised with
 * {@link EvalReport#budgetLabel} so {@code "0.60"} and {@code "0.6"} are the same budget.
 */
public final class SummaryMerge {
    /** Methods first in every table and in the JSON: the dense reference, BUDDY, then the static baselines. */
    private static final List<String> METHOD_ORDER = List.of("dense", "buddy", "shortgpt", "ppl", "sleb", "prior");
    /** The per-configuration fields {@code EvalReport.summary()} writes, in its order; other keys follow as read. */
    private static final List<String> FIELD_ORDER = List.of("mean_acc", "wikitext_ppl", "wikitext_tokens",
            "tinystories_ppl", "tinystories_tokens", "executed_fraction", "budget_choices", "tasks", "tasks_stderr",
            "tasks_examples");
    private static final List<String> NUMBER_FIELDS = List.of("mean_acc", "wikitext_ppl", "tinystories_ppl",
            "executed_fraction");
    private static final List<String> TASK_FIELDS = List.of("tasks", "tasks_stderr");
    /** Examples scored per task: absent from summaries written before the field existed. */
    private static final String TASK_EXAMPLES = "tasks_examples";
    /** Tokens each perplexity scored: absent from summaries written before the fields existed, null if unmeasured. */
    private static final List<String> TOKEN_FIELDS = List.of("wikitext_tokens", "tinystories_tokens");
    /**
     * Fields that describe one measurement, keyed by the field that says it was measured: a later file that measured
     * it replaces the whole group, so a score never keeps the counts of the score it replaced.
     */
    private static final Map<String, List<String>> GROUPS = Map.of(
            "tasks", List.of("tasks", "tasks_stderr", TASK_EXAMPLES),
            "wikitext_ppl", List.of("wikitext_ppl", "wikitext_tokens"),
            "tinystories_ppl", List.of("tinystories_ppl", "tinystories_tokens"));

    /**
     * One input: a summary file and the methods to rename in it (old name → new name).
     */
    public record Input(Path file, Map<String, String> renames) {
        public Input {
            Objects.requireNonNull(file, "file");
            renames = Collections.unmodifiableMap(new LinkedHashMap<>(renames));
        }

        /**
         * Parses {@code FILE[:OLD=NEW[,OLD=NEW...]]}. The rename part starts at the first {@code ':'} that is
         * followed by an {@code '='}, so method names with a colon ({@code buddy:router-a}) can be renamed and a
         * path with a colon but no rename is read whole.
         *
         * @throws SummaryFormatException for a rename part that is not {@code OLD=NEW} pairs
         */
        public static Input parse(String argument) {
            Objects.requireNonNull(argument, "argument");
            int split = -1;
            for (int i = argument.indexOf(':'); i >= 0; i = argument.indexOf(':', i + 1)) {
                if (argument.indexOf('=', i) > i) {
                    split = i;
                    break;
                }
            }
            if (split < 0) {
                return new Input(Path.of(argument), Map.of());
            }
            Path file = Path.of(argument.substring(0, split));
            Map<String, String> renames = new LinkedHashMap<>();
            for (String pair : argument.substring(split + 1).split(",", -1)) {
                int eq = pair.indexOf('=');
                String from = eq < 0 ? "" : pair.substring(0, eq).strip();
                String to = eq < 0 ? "" : pair.substring(eq + 1).strip();
                if (from.isEmpty() || to.isEmpty() || to.indexOf('=') >= 0) {
                    throw new SummaryFormatException(file, "bad rename '" + pair + "' in '" + argument
                            + "' (expected FILE:OLD=NEW, e.g. run2/summary.json:buddy=buddy-reuse)");
                }
                if (renames.put(from, to) != null) {
                    throw new SummaryFormatException(file, "method '" + from + "' renamed twice in '" + argument + "'");
                }
            }
            return new Input(file, renames);
        }

        /** How the input was given, for the report. */
        public String describe() {
            if (renames.isEmpty()) {
                return file.toString();
            }
            StringBuilder sb = new StringBuilder(file.toString()).append(" (");
            renames.forEach((from, to) -> sb.append(sb.charAt(sb.length() - 1) == '(' ? "" : ", ").append(from)
                    .append(" → ").append(to));
            return sb.append(')').toString();
        }
    }

    /** A method at a budget that a later input replaced. */
    public record Replacement(String method, String budget, Path replaced, Path by) {}

    private final String model;
    private final List<Input> inputs;
    /** method → budget → the configuration's fields, both levels in report order. */
    private final Map<String, Map<String, Map<String, Object>>> methods;
    private final List<Replacement> replacements;

    private SummaryMerge(String model, List<Input> inputs, Map<String, Map<String, Map<String, Object>>> methods,
                         List<Replacement> replacements) {
        this.model = model;
        this.inputs = List.copyOf(inputs);
        this.methods = methods;
        this.replacements = List.copyOf(replacements);
    }

    /**
     * Reads and merges the inputs, in order.
     *
     * @throws SummaryFormatException naming the file: unreadable JSON, a shape other than {@code summary.json}'s,
     *                                another model than the first file's, or a rename of a method the file lacks
     * @throws IOException            if a file cannot be read (e.g. {@link java.nio.file.NoSuchFileException})
     */
    public static SummaryMerge merge(List<Input> inputs) throws IOException {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("no summary files to merge");
        }
        String model = null;
        Path modelFile = null;
        Map<String, Map<String, Map<String, Object>>> merged = new LinkedHashMap<>();
        Map<String, Path> origin = new LinkedHashMap<>(); // "method\0budget" → file it came from
        List<Replacement> replacements = new ArrayList<>();
        for (Input input : inputs) {
            Map<String, Object> root = readObject(input.file());
            String fileModel = modelOf(input.file(), root);
            if (model == null) {
                model = fileModel;
                modelFile = input.file();
            } else if (!model.equals(fileModel)) {
                throw new SummaryFormatException(input.file(), "model '" + fileModel + "' differs from '" + model
                        + "' in " + modelFile + "; only evaluations of one model can be merged");
            }
            Map<String, Map<String, Map<String, Object>>> methods = renamed(input, methodsOf(input.file(), root));
            methods.forEach((method, budgets) -> budgets.forEach((budget, entry) -> {
                Path previous = origin.put(method + '\0' + budget, input.file());
                Map<String, Map<String, Object>> byBudget = merged.computeIfAbsent(method, m -> new LinkedHashMap<>());
                Map<String, Object> earlier = byBudget.get(budget);
                if (earlier != null && overwritesAScore(earlier, entry)) {
                    replacements.add(new Replacement(method, budget, previous, input.file()));
                }
                byBudget.put(budget, earlier == null ? entry : combined(earlier, entry));
            }));
        }
        return new SummaryMerge(model, inputs, sorted(merged), replacements);
    }

    /** A field's value counts as measured unless it is null (read as NaN) or an empty task map. */
    private static boolean measured(Object value) {
        return value != null && !(value instanceof Double d && d.isNaN())
                && !(value instanceof Map<?, ?> m && m.isEmpty());
    }

    /** True when {@code later} has a measured score (not the executed fraction) that {@code earlier} measured too. */
    private static boolean overwritesAScore(Map<String, Object> earlier, Map<String, Object> later) {
        for (Map.Entry<String, Object> e : later.entrySet()) {
            if (!e.getKey().equals("executed_fraction") && measured(e.getValue()) && measured(earlier.get(e.getKey()))) {
                return true;
            }
        }
        return false;
    }

    /** {@code earlier}'s fields, each replaced by {@code later}'s where that one is measured; in field order. */
    private static Map<String, Object> combined(Map<String, Object> earlier, Map<String, Object> later) {
        Map<String, Object> out = new LinkedHashMap<>(earlier);
        // scores, errors and counts describe one evaluation: later accuracies or perplexities from an older file
        // (no counts) must not inherit the counts of the scores they replace
        GROUPS.forEach((lead, group) -> {
            if (measured(later.get(lead))) {
                group.forEach(out::remove);
            }
        });
        later.forEach((key, value) -> {
            if (measured(value) || !out.containsKey(key)) {
                out.put(key, value);
            }
        });
        return inFieldOrder(out);
    }

    public String model() {
        return model;
    }

    public List<Input> inputs() {
        return inputs;
    }

    /** method → budget → fields, in report order (read-only). */
    public Map<String, Map<String, Map<String, Object>>> methods() {
        return Collections.unmodifiableMap(methods);
    }

    /** The method/budget pairs a later input replaced, in the order that happened. */
    public List<Replacement> replacements() {
        return replacements;
    }

    // ---- reading ---------------------------------------------------------------------------------------------

    private static Map<String, Object> readObject(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new SummaryFormatException(file, "is a folder; give the summary.json inside it");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SummaryFormatException(file, "not UTF-8 text, so not a summary.json");
        }
        Object value;
        try {
            value = Json.parse(text);
        } catch (Json.JsonSyntaxException e) {
            throw new SummaryFormatException(file, "not valid JSON: " + e.getMessage());
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new SummaryFormatException(file, "expected a JSON object with \"model\" and \"methods\" (the"
                    + " summary.json buddy eval writes)");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> root = (Map<String, Object>) map;
        return root;
    }

    private static String modelOf(Path file, Map<String, Object> root) {
        if (!(root.get("model") instanceof String s) || s.isBlank()) {
            throw new SummaryFormatException(file, "no \"model\" name (expected the summary.json buddy eval writes)");
        }
        return s;
    }

    /** The file's methods, checked field by field and with numbers as doubles (null read as NaN). */
    private static Map<String, Map<String, Map<String, Object>>> methodsOf(Path file, Map<String, Object> root) {
        if (!(root.get("methods") instanceof Map<?, ?> methodMap)) {
            throw new SummaryFormatException(file, "no \"methods\" object (expected the summary.json buddy eval"
                    + " writes)");
        }
        Map<String, Map<String, Map<String, Object>>> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> m : methodMap.entrySet()) {
            String method = (String) m.getKey();
            String where = "methods." + method;
            if (method.isBlank()) {
                throw new SummaryFormatException(file, "a method with an empty name");
            }
            if (!(m.getValue() instanceof Map<?, ?> budgetMap)) {
                throw new SummaryFormatException(file, where + " is not an object of budgets");
            }
            Map<String, Map<String, Object>> budgets = new LinkedHashMap<>();
            for (Map.Entry<?, ?> b : budgetMap.entrySet()) {
                String budget = normalisedBudget(file, where, (String) b.getKey());
                String at = where + "[\"" + b.getKey() + "\"]";
                if (!(b.getValue() instanceof Map<?, ?> fields)) {
                    throw new SummaryFormatException(file, at + " is not an object");
                }
                if (budgets.put(budget, entry(file, at, fields)) != null) {
                    throw new SummaryFormatException(file, where + " has budget " + budget + " twice");
                }
            }
            out.put(method, budgets);
        }
        return out;
    }

    private static String normalisedBudget(Path file, String where, String label) {
        String s = label.strip();
        if (s.isEmpty()) {
            throw new SummaryFormatException(file, where + " has an empty budget label");
        }
        try {
            double v = Double.parseDouble(s);
            if (!(v > 0 && v <= 1)) {
                throw new SummaryFormatException(file, where + " has budget " + label + "; budgets are fractions in"
                        + " (0, 1] or auto");
            }
            return EvalReport.budgetLabel(v);
        } catch (NumberFormatException notANumber) {
            return s; // auto, or a label a newer eval writes
        }
    }

    private static Map<String, Object> entry(Path file, String at, Map<?, ?> fields) {
        Map<String, Object> entry = new LinkedHashMap<>();
        for (String key : NUMBER_FIELDS) {
            entry.put(key, number(file, at + "." + key, fields.get(key)));
        }
        if (Double.isNaN((Double) entry.get("executed_fraction")) && !fields.containsKey("executed_fraction")) {
            throw new SummaryFormatException(file, at + " has no executed_fraction");
        }
        for (String key : TASK_FIELDS) {
            Object value = fields.get(key);
            Map<String, Object> tasks = new LinkedHashMap<>();
            if (value instanceof Map<?, ?> map) {
                map.forEach((task, v) -> tasks.put((String) task, number(file, at + "." + key + "." + task, v)));
            } else if (value != null) {
                throw new SummaryFormatException(file, at + "." + key + " is not an object of task values");
            }
            entry.put(key, tasks);
        }
        if (fields.get(TASK_EXAMPLES) instanceof Map<?, ?> map) {
            Map<String, Object> counts = new LinkedHashMap<>();
            map.forEach((task, v) -> counts.put((String) task, count(file, at + "." + TASK_EXAMPLES + "." + task, v)));
            entry.put(TASK_EXAMPLES, counts);
        } else if (fields.containsKey(TASK_EXAMPLES)) {
            throw new SummaryFormatException(file, at + "." + TASK_EXAMPLES + " is not an object of example counts");
        }
        for (String key : TOKEN_FIELDS) {
            if (fields.get(key) != null) {
                entry.put(key, count(file, at + "." + key, fields.get(key)));
            } else if (fields.containsKey(key)) {
                entry.put(key, null);
            }
        }
        fields.forEach((k, v) -> entry.putIfAbsent((String) k, v)); // budget_choices and anything newer, as read
        return inFieldOrder(entry);
    }

    /** The fields in {@link #FIELD_ORDER}, then any others in their order. */
    private static Map<String, Object> inFieldOrder(Map<String, Object> fields) {
        Map<String, Object> rest = new LinkedHashMap<>(fields);
        Map<String, Object> ordered = new LinkedHashMap<>();
        for (String key : FIELD_ORDER) {
            if (rest.containsKey(key)) {
                ordered.put(key, rest.remove(key));
            }
        }
        ordered.putAll(rest);
        return ordered;
    }

    /** An example or token count: a positive whole number. */
    private static Long count(Path file, String where, Object value) {
        if (!(value instanceof Number n) || n.doubleValue() < 1 || n.doubleValue() != Math.rint(n.doubleValue())) {
            String found = value == null ? "null" : value instanceof Number ? value.toString() : describe(value);
            throw new SummaryFormatException(file, where + " is " + found + ", expected a positive whole number");
        }
        return n.longValue();
    }

    private static Double number(Path file, String where, Object value) {
        if (value == null) {
            return Double.NaN;
        }
        if (value instanceof Number n) {
            return n.doubleValue();
        }
        throw new SummaryFormatException(file, where + " is " + describe(value) + ", expected a number or null");
    }

    private static String describe(Object value) {
        return switch (value) {
            case String s -> "the string \"" + (s.length() > 20 ? s.substring(0, 20) + "…" : s) + "\"";
            case Boolean b -> b.toString();
            case Map<?, ?> m -> "an object";
            case List<?> l -> "an array";
            default -> value.getClass().getSimpleName();
        };
    }

    private static Map<String, Map<String, Map<String, Object>>> renamed(Input input,
            Map<String, Map<String, Map<String, Object>>> methods) {
        for (String from : input.renames().keySet()) {
            if (!methods.containsKey(from)) {
                throw new SummaryFormatException(input.file(), "no method '" + from + "' to rename (it has "
                        + String.join(", ", methods.keySet()) + ")");
            }
        }
        Map<String, Map<String, Map<String, Object>>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Map<String, Object>>> e : methods.entrySet()) {
            String name = input.renames().getOrDefault(e.getKey(), e.getKey());
            if (out.put(name, e.getValue()) != null) {
                throw new SummaryFormatException(input.file(), "renaming gives two methods named '" + name + "'");
            }
        }
        return out;
    }

    // ---- order -----------------------------------------------------------------------------------------------

    private static Map<String, Map<String, Map<String, Object>>> sorted(
            Map<String, Map<String, Map<String, Object>>> merged) {
        Map<String, Map<String, Map<String, Object>>> out = new TreeMap<>(
                Comparator.comparingInt(SummaryMerge::methodRank).thenComparing(Comparator.naturalOrder()));
        merged.forEach((method, budgets) -> {
            Map<String, Map<String, Object>> byBudget = new TreeMap<>(BUDGET_ORDER);
            byBudget.putAll(budgets);
            out.put(method, new LinkedHashMap<>(byBudget));
        });
        return new LinkedHashMap<>(out);
    }

    private static int methodRank(String method) {
        int i = METHOD_ORDER.indexOf(method);
        return i < 0 ? METHOD_ORDER.size() : i;
    }

    /** Largest fraction first (dense's 1.0 leads), then labels that are not numbers ({@code auto}) by name. */
    private static final Comparator<String> BUDGET_ORDER = (a, b) -> {
        double x = fraction(a);
        double y = fraction(b);
        if (Double.isNaN(x) || Double.isNaN(y)) {
            return Double.isNaN(x) && Double.isNaN(y) ? a.compareTo(b) : Double.isNaN(x) ? 1 : -1;
        }
        return x != y ? Double.compare(y, x) : a.compareTo(b);
    };

    private static double fraction(String budget) {
        try {
            return Double.parseDouble(budget);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    // ---- outputs ---------------------------------------------------------------------------------------------

    /** The merged {@code summary.json}: {@code {"model": ..., "methods": {method: {budget: {...}}}}}. */
    public Map<String, Object> summary() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("model", model);
        root.put("methods", methods);
        return root;
    }

    private static double field(Map<String, Object> entry, String key) {
        return entry.get(key) instanceof Double d ? d : Double.NaN;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> tasks(Map<String, Object> entry, String key) {
        return entry.get(key) instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private boolean anyFinite(String key) {
        return methods.values().stream().flatMap(b -> b.values().stream()).anyMatch(e -> Double.isFinite(field(e, key)));
    }

    private static String fixed(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "—";
    }

    /** {@code results.md}: the method × budget table, then each configuration's task accuracies. */
    public String markdown() {
        StringBuilder sb = new StringBuilder(4096);
        sb.append("# Merged evaluation: ").append(model).append("\n\nFrom:\n\n");
        for (Input in : inputs) {
            sb.append("- ").append(in.describe()).append('\n');
        }
        if (!replacements.isEmpty()) {
            sb.append("\nReplaced by a later file:\n\n");
            for (Replacement r : replacements) {
                sb.append("- ").append(r.method()).append(" @ ").append(r.budget()).append(": ").append(r.replaced())
                        .append(" → ").append(r.by()).append('\n');
            }
        }
        // A cell holds every metric some configuration measured, so runs without tasks or without WikiText still
        // read; the legend says which.
        List<String> metrics = new ArrayList<>();
        List<String> names = new ArrayList<>();
        if (anyFinite("mean_acc")) {
            metrics.add("mean_acc");
            names.add("mean accuracy %");
        }
        if (anyFinite("wikitext_ppl")) {
            metrics.add("wikitext_ppl");
            names.add("WikiText-2 PPL");
        }
        if (anyFinite("tinystories_ppl")) {
            metrics.add("tinystories_ppl");
            names.add("TinyStories PPL");
        }
        Set<String> budgets = new TreeSet<>(BUDGET_ORDER);
        methods.values().forEach(b -> budgets.addAll(b.keySet()));
        sb.append("\nEach cell: ").append(names.isEmpty() ? "" : String.join(" / ", names) + " ")
                .append("(fraction of blocks executed); — not measured.\n\n");
        sb.append("| Method |");
        budgets.forEach(b -> sb.append(' ').append(b).append(" |"));
        sb.append("\n|---|");
        sb.repeat("---:|", budgets.size());
        sb.append('\n');
        methods.forEach((method, byBudget) -> {
            sb.append("| ").append(method).append(" |");
            for (String budget : budgets) {
                Map<String, Object> e = byBudget.get(budget);
                sb.append(' ');
                if (e != null) {
                    List<String> parts = new ArrayList<>();
                    for (String m : metrics) {
                        parts.add(fixed(field(e, m), m.equals("mean_acc") ? 2 : 3));
                    }
                    sb.append(String.join(" / ", parts)).append(parts.isEmpty() ? "" : " ").append('(')
                            .append(fixed(field(e, "executed_fraction"), 3)).append(')');
                }
                sb.append(" |");
            }
            sb.append('\n');
        });

        Set<String> taskNames = new LinkedHashSet<>();
        methods.values().forEach(b -> b.values().forEach(e -> taskNames.addAll(tasks(e, "tasks").keySet())));
        if (!taskNames.isEmpty()) {
            sb.append("\nPer task (headline metric, accuracy % ± standard error):\n\n| Method | Budget | Executed |");
            taskNames.forEach(t -> sb.append(' ').append(t).append(" |"));
            sb.append(" Mean |\n|---|---:|---:|");
            sb.repeat("---:|", taskNames.size() + 1);
            sb.append('\n');
            methods.forEach((method, byBudget) -> byBudget.forEach((budget, e) -> {
                sb.append("| ").append(method).append(" | ").append(budget).append(" | ")
                        .append(fixed(field(e, "executed_fraction"), 3)).append(" |");
                Map<String, Object> acc = tasks(e, "tasks");
                Map<String, Object> err = tasks(e, "tasks_stderr");
                for (String t : taskNames) {
                    sb.append(' ');
                    if (acc.get(t) instanceof Double a && Double.isFinite(a)) {
                        sb.append(fixed(a, 2));
                        if (err.get(t) instanceof Double s && Double.isFinite(s)) {
                            sb.append(" ± ").append(fixed(s, 2));
                        }
                    }
                    sb.append(" |");
                }
                sb.append(' ').append(Double.isFinite(field(e, "mean_acc")) ? fixed(field(e, "mean_acc"), 2) : "")
                        .append(" |\n");
            }));
        }
        return sb.toString();
    }

    /**
     * Mean accuracy against executed fraction, one series per method that measured accuracy; the dense point is
     * the plot's reference line.
     */
    public AccuracyComputePlot plot() {
        List<AccuracyComputePlot.Series> series = new ArrayList<>();
        methods.forEach((method, byBudget) -> {
            List<AccuracyComputePlot.Point> points = new ArrayList<>();
            List<AccuracyComputePlot.Point> auto = new ArrayList<>();
            byBudget.forEach((budget, e) -> (budget.equals(EvalConfiguration.AUTO) ? auto : points)
                    .add(new AccuracyComputePlot.Point(field(e, "executed_fraction"), field(e, "mean_acc"))));
            series.add(new AccuracyComputePlot.Series(method, points)); // the plot drops series with no finite point
            // auto is one point of its own, as in EvalReport's plot.
            series.add(new AccuracyComputePlot.Series(method + " auto", auto));
        });
        return new AccuracyComputePlot("Mean accuracy vs. compute: " + model, series);
    }

    /**
     * Writes {@code summary.json}, {@code results.md} and, when any configuration measured accuracy, the plot as SVG
     * and PNG into {@code dir}, each atomically. A PNG that cannot be rendered is reported in
     * {@link EvalReport.Written#pngProblem()}, as {@code buddy eval} does.
     */
    public EvalReport.Written writeAll(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        Path summary = dir.resolve(EvalReport.SUMMARY);
        AtomicFiles.writeString(summary, JsonText.write(summary()) + "\n");
        files.add(summary);
        Path md = dir.resolve(EvalReport.MARKDOWN);
        AtomicFiles.writeString(md, markdown());
        files.add(md);
        String pngProblem = null;
        if (anyFinite("mean_acc")) {
            AccuracyComputePlot plot = plot();
            Path svg = dir.resolve(EvalReport.PLOT_SVG);
            plot.writeSvg(svg);
            files.add(svg);
            Path png = dir.resolve(EvalReport.PLOT_PNG);
            try {
                plot.writePng(png);
                files.add(png);
            } catch (IOException | RuntimeException | Error e) {
                if (e instanceof VirtualMachineError vme) {
                    throw vme;
                }
                pngProblem = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }
        return new EvalReport.Written(List.copyOf(files), pngProblem);
    }
}
