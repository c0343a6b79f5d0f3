package dev.buddy.router.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/**
 * The zero-shot multiple-choice tasks, read from the normalised {@code *.mc.jsonl} files (datasets/SOURCES.md §2),
 * in the column order of the BUDDY paper's tables, with MMLU last.
 *
 * <p>{@link #headline()} is the metric a task contributes to the mean accuracy. lm-evaluation-harness reports acc for
 * every task and acc_norm for ARC, PIQA, HellaSwag and OpenBookQA; the paper (like LLM-Pruner, ShortGPT and SLEB
 * before it) quotes acc_norm for PIQA, HellaSwag, ARC-Challenge and OpenBookQA and acc for the rest, ARC-Easy
 * included: its dense Llama-2-7B row (PIQA 79.11, ARC-E 76.30, ARC-C 46.33, OBQA 44.20) matches exactly those
 * lm-eval metrics.
 */
public enum Task {
    OPENBOOKQA("openbookqa", "openbookqa/openbookqa.mc.jsonl", Format.STANDARD, true, Metric.ACC_NORM),
    PIQA("piqa", "piqa/piqa.mc.jsonl", Format.STANDARD, true, Metric.ACC_NORM),
    /** SuperGLUE BoolQ as lm-eval asks it: the choices are "no" and "yes" after "Answer:". */
    BOOLQ("boolq", "boolq/boolq.mc.jsonl", Format.STANDARD, false, Metric.ACC),
    SIQA("siqa", "siqa/siqa.mc.jsonl", Format.STANDARD, false, Metric.ACC),
    HELLASWAG("hellaswag", "hellaswag/hellaswag.mc.jsonl", Format.STANDARD, true, Metric.ACC_NORM),
    ARC_EASY("arc_easy", "arc/arc_easy.mc.jsonl", Format.STANDARD, true, Metric.ACC),
    ARC_CHALLENGE("arc_challenge", "arc/arc_challenge.mc.jsonl", Format.STANDARD, true, Metric.ACC_NORM),
    /** lm-eval's partial evaluation: the shared continuation is scored after each option's context. */
    WINOGRANDE("winogrande", "winogrande/winogrande.mc.jsonl", Format.PARTIAL, false, Metric.ACC),
    /** Zero-shot MMLU over all 57 subjects; accuracy over all questions (lm-eval's size-weighted group mean). */
    MMLU("mmlu", "mmlu/mmlu.mc.jsonl", Format.STANDARD, false, Metric.ACC);

    /** How a task's lines pair contexts with continuations. */
    public enum Format {
        /** One {@code context}, one continuation per choice: {@code loglik(context, " " + choice)}. */
        STANDARD,
        /** One context per choice ({@code contexts}), one shared {@code continuation}. */
        PARTIAL
    }

    private final String key;
    private final String relativePath;
    private final Format format;
    private final boolean reportsAccNorm;
    private final Metric headline;

    Task(String key, String relativePath, Format format, boolean reportsAccNorm, Metric headline) {
        this.key = key;
        this.relativePath = relativePath;
        this.format = format;
        this.reportsAccNorm = reportsAccNorm;
        this.headline = headline;
    }

    /** The lm-eval task name, e.g. {@code arc_easy}. */
    public String key() {
        return key;
    }

    /** The file below the datasets folder. */
    public Path file(Path datasetsRoot) {
        return datasetsRoot.resolve(relativePath);
    }

    public String relativePath() {
        return relativePath;
    }

    public Format format() {
        return format;
    }

    /** Whether lm-eval reports acc_norm for this task (it is computed only then). */
    public boolean reportsAccNorm() {
        return reportsAccNorm;
    }

    /** The metric this task contributes to the mean accuracy. */
    public Metric headline() {
        return headline;
    }

    /** The eight commonsense tasks averaged in the paper's tables (MMLU excluded). */
    public static List<Task> paperTasks() {
        return List.copyOf(EnumSet.range(OPENBOOKQA, WINOGRANDE));
    }

    /** A task by its key; also accepts {@code arc-easy}, {@code ARC_EASY} and the short forms obqa, arc_e, arc_c. */
    public static Task parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        switch (n) {
            case "obqa" -> n = "openbookqa";
            case "arc_e", "arce" -> n = "arc_easy";
            case "arc_c", "arcc" -> n = "arc_challenge";
            case "social_iqa" -> n = "siqa";
            default -> { }
        }
        for (Task t : values()) {
            if (t.key.equals(n)) {
                return t;
            }
        }
        List<String> known = new ArrayList<>();
        for (Task t : values()) {
            known.add(t.key);
        }
        throw new InvalidEvalOptionException("unknown task '" + name + "': expected one of " + String.join(", ", known));
    }
}
