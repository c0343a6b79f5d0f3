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
        return evaluate(config, null, inputs, EvalCheckpoint.none());
    }

    /**
     * Evaluates {@code config}, taking every task and text that {@code checkpoint} already holds for it from there
     * and keeping every one it scores there. The result is the one an uninterrupted run gives: a piece holds the
     * task's per-example outcomes and the block usage its examples caused, which add up the same in any order.
     *
     * @param identity what the configuration's results depend on beyond the checkpoint's inputs (the router file's
     *                 content and the budget), or null to neither read nor keep pieces
     */
    public ConfigurationResult evaluate(EvalConfiguration config, String identity, Inputs inputs,
            EvalCheckpoint checkpoint) {
        int workers = models.size();
        List<LogLikelihoodScorer> scorers = new ArrayList<>(workers);
        for (int w = 0; w < workers; w++) {
            scorers.add(new LogLikelihoodScorer(models.get(w), encoder, config.planners(), mode, addBos));
        }
        BlockUsage usage = new BlockUsage(scorers.get(0).usage().layerCount());
        Map<Task, TaskResult> tasks = new EnumMap<>(Task.class);
        Map<Task, BudgetChoices.Distribution> choices = new EnumMap<>(Task.class);
        for (Map.Entry<Task, List<McExample>> e : inputs.tasks().entrySet()) {
            Task task = e.getKey();
            String key = identity == null ? null : identity + " " + task.key() + " " + e.getValue().size()
                    + " examples " + PieceDigest.examples(e.getValue());
            EvalCheckpoint.TaskPiece piece = key == null ? null : checkpoint.task(key).orElse(null);
            if (piece == null) {
                if (config.choices() != null) {
                    config.choices().reset();
                }
                scorers.forEach(s -> s.usage().reset());
                TaskResult result;
                try (Bar bar = bar(config.label() + " " + task.key(), e.getValue().size())) {
                    result = TaskEvaluator.evaluate(task, e.getValue(), scorers, bar.listener(), null);
                }
                piece = new EvalCheckpoint.TaskPiece(result, usageOf(scorers),
                        config.choices() == null ? null : config.choices().snapshot());
                if (key != null) {
                    checkpoint.put(key, piece);
                }
            } else {
                restored(config.label() + " " + task.key(), checkpoint);
            }
            tasks.put(task, piece.result());
            usage.add(piece.usage());
            if (piece.choices() != null) {
                choices.put(task, piece.choices());
            }
        }
        Map<PerplexityCorpus, PerplexityResult> ppl = new EnumMap<>(PerplexityCorpus.class);
        for (Map.Entry<PerplexityCorpus, int[]> e : inputs.streams().entrySet()) {
            String key = identity == null ? null : identity + " " + e.getKey().key() + " ppl " + e.getValue().length
                    + " tokens " + PieceDigest.tokens(e.getValue(), inputs.window(), inputs.stride());
            EvalCheckpoint.PerplexityPiece piece = key == null ? null : checkpoint.perplexity(key).orElse(null);
            if (piece == null) {
                scorers.forEach(s -> s.usage().reset());
                PerplexityResult result;
                try (Bar bar = bar(config.label() + " " + e.getKey().key() + " ppl", e.getValue().length - 1)) {
                    result = PerplexityEvaluator.evaluate(e.getKey(), e.getValue(), scorers, inputs.window(),
                            inputs.stride(), bar.listener());
                }
                piece = new EvalCheckpoint.PerplexityPiece(result, usageOf(scorers));
                if (key != null) {
                    checkpoint.put(key, piece);
                }
            } else {
                restored(config.label() + " " + e.getKey().key() + " ppl", checkpoint);
            }
            ppl.put(e.getKey(), piece.result());
            usage.add(piece.usage());
        }
        return new ConfigurationResult(config.method(), config.budget(), config.nominalFraction(),
                usage.executedFraction(), tasks, ppl, choices,
                new ConfigurationResult.PathSpread(usage.distinctPaths(), usage.topPathShare(),
                        usage.skippedKvFraction(), usage.neededKvFraction()));
    }

    /** What the scorers recorded since their usage was last reset, summed. */
    private static BlockUsage.Counts usageOf(List<LogLikelihoodScorer> scorers) {
        BlockUsage sum = new BlockUsage(scorers.get(0).usage().layerCount());
        for (LogLikelihoodScorer s : scorers) {
            sum.add(s.usage());
        }
        return sum.counts();
    }

    private void restored(String label, EvalCheckpoint checkpoint) {
        if (progress != null) {
            progress.println(label + ": taken from " + checkpoint.file());
        }
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
