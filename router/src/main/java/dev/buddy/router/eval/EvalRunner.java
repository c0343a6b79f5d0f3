package dev.buddy.router.eval;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Runs configurations over prepared inputs: every task's examples through a {@link LogLikelihoodScorer}, then every
 * perplexity stream, with a progress bar per task and text when asked. Given several {@link TokenModel}s (each its own
 * sequence state over the same weights), it scores that many examples or windows at once, one scorer per model, and
 * reports exactly what one model would.
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

    private final List<TokenModel> models;
    private final TextEncoder encoder;
    private final RoutingMode mode;
    private final boolean addBos;
    private final PrintStream progress;

    /**
     * @param addBos   prepend BOS to multiple-choice contexts (lm-eval's default is not to)
     * @param progress where progress bars go (stderr), or null for none
     */
    public EvalRunner(TokenModel model, TextEncoder encoder, RoutingMode mode, boolean addBos, PrintStream progress) {
        this(List.of(model), encoder, mode, addBos, progress);
    }

    /**
     * @param models one or more models over the same weights, each with its own state: examples are scored on as
     *               many threads at once
     */
    public EvalRunner(List<? extends TokenModel> models, TextEncoder encoder, RoutingMode mode, boolean addBos,
            PrintStream progress) {
        this.models = List.copyOf(models);
        if (this.models.isEmpty()) {
            throw new IllegalArgumentException("at least one model is needed");
        }
        this.encoder = Objects.requireNonNull(encoder, "encoder");
        this.mode = Objects.requireNonNull(mode, "mode");
        this.addBos = addBos;
        this.progress = progress;
    }

    public ConfigurationResult evaluate(EvalConfiguration config, Inputs inputs) {
        int workers = models.size();
        List<LogLikelihoodScorer> scorers = new ArrayList<>(workers);
        for (int w = 0; w < workers; w++) {
            scorers.add(new LogLikelihoodScorer(models.get(w), encoder, config.planners(), mode, addBos));
        }
        Map<Task, TaskResult> tasks = new EnumMap<>(Task.class);
        Map<Task, BudgetChoices.Distribution> choices = new EnumMap<>(Task.class);
        for (Map.Entry<Task, List<McExample>> e : inputs.tasks().entrySet()) {
            Task task = e.getKey();
            if (config.choices() != null) {
                config.choices().reset();
            }
            try (Bar bar = bar(config.label() + " " + task.key(), e.getValue().size())) {
                tasks.put(task, TaskEvaluator.evaluate(task, e.getValue(), scorers, bar.listener(), null));
            }
            if (config.choices() != null) {
                choices.put(task, config.choices().snapshot());
            }
        }
        Map<PerplexityCorpus, PerplexityResult> ppl = new EnumMap<>(PerplexityCorpus.class);
        for (Map.Entry<PerplexityCorpus, int[]> e : inputs.streams().entrySet()) {
            try (Bar bar = bar(config.label() + " " + e.getKey().key() + " ppl", e.getValue().length - 1)) {
                ppl.put(e.getKey(), PerplexityEvaluator.evaluate(e.getKey(), e.getValue(), scorers, inputs.window(),
                        inputs.stride(), bar.listener()));
            }
        }
        BlockUsage usage = scorers.get(0).usage();
        for (int w = 1; w < workers; w++) {
            usage.add(scorers.get(w).usage());
        }
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
