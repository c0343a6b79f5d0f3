package dev.buddy.router.eval;

import java.io.PrintStream;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Runs configurations over prepared inputs on one {@link TokenModel}: every task's examples through a
 * {@link LogLikelihoodScorer}, then every perplexity stream, with a progress bar per task and text when asked.
 */
public final class EvalRunner {
    /**
     * What every configuration is evaluated on.
     *
     * @param tasks   examples by task, in report order
     * @param streams perplexity token streams by corpus
     * @param window  perplexity window
     * @param stride  perplexity stride
     */
    public record Inputs(Map<Task, List<McExample>> tasks, Map<PerplexityCorpus, int[]> streams, int window,
                         int stride) {
        public Inputs {
            tasks = tasks.isEmpty() ? Map.of() : new EnumMap<>(tasks);
            streams = streams.isEmpty() ? Map.of() : new EnumMap<>(streams);
        }
    }

    private final TokenModel model;
    private final TextEncoder encoder;
    private final RoutingMode mode;
    private final boolean addBos;
    private final PrintStream progress;

    /**
     * @param addBos   prepend BOS to multiple-choice contexts (lm-eval's default is not to)
     * @param progress where progress bars go (stderr), or null for none
     */
    public EvalRunner(TokenModel model, TextEncoder encoder, RoutingMode mode, boolean addBos, PrintStream progress) {
        this.model = Objects.requireNonNull(model, "model");
        this.encoder = Objects.requireNonNull(encoder, "encoder");
        this.mode = Objects.requireNonNull(mode, "mode");
        this.addBos = addBos;
        this.progress = progress;
    }

    public ConfigurationResult evaluate(EvalConfiguration config, Inputs inputs) {
        LogLikelihoodScorer scorer = new LogLikelihoodScorer(model, encoder, config.planners(), mode, addBos);
        Map<Task, TaskResult> tasks = new EnumMap<>(Task.class);
        Map<Task, BudgetChoices.Distribution> choices = new EnumMap<>(Task.class);
        for (Map.Entry<Task, List<McExample>> e : inputs.tasks().entrySet()) {
            Task task = e.getKey();
            if (config.choices() != null) {
                config.choices().reset();
            }
            try (Bar bar = bar(config.label() + " " + task.key(), e.getValue().size())) {
                tasks.put(task, TaskEvaluator.evaluate(task, e.getValue(), scorer, bar.listener(), null));
            }
            if (config.choices() != null) {
                choices.put(task, config.choices().snapshot());
            }
        }
        Map<PerplexityCorpus, PerplexityResult> ppl = new EnumMap<>(PerplexityCorpus.class);
        for (Map.Entry<PerplexityCorpus, int[]> e : inputs.streams().entrySet()) {
            try (Bar bar = bar(config.label() + " " + e.getKey().key() + " ppl", e.getValue().length - 1)) {
                ppl.put(e.getKey(), PerplexityEvaluator.evaluate(e.getKey(), e.getValue(), scorer, inputs.window(),
                        inputs.stride(), bar.listener()));
            }
        }
        BlockUsage usage = scorer.usage();
        return new ConfigurationResult(config.method(), config.budget(), config.nominalFraction(),
                usage.executedFraction(), tasks, ppl, choices,
                new ConfigurationResult.PathSpread(usage.distinctPaths(), usage.topPathShare(),
                        usage.skippedKvFraction(), usage.neededKvFraction()));
    }

    private Bar bar(String label, long total) {
        return new Bar(progress == null || total < 1 ? null : new ProgressBar(label, total, progress));
    }

    /** A progress bar that may be absent. */
    private record Bar(ProgressBar bar) implements AutoCloseable {
        ProgressListener listener() {
            return bar == null ? ProgressListener.NONE : bar;
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
