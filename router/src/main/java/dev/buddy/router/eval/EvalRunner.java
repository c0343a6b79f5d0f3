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
     * Examples per checkpoint piece while a task is scored: a stopped run loses at most this many (two or three
     * minutes of BoolQ or HellaSwag on SmolLM2 at two threads).
     */
    static final int CHUNK = 256;

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
    private int chunk = CHUNK;

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

    /** Checkpoints tasks in runs of {@code examples} instead of {@link #CHUNK} (tests). */
    EvalRunner chunkedBy(int examples) {
        if (examples < 1) {
            throw new IllegalArgumentException("a chunk needs at least one example, got " + examples);
        }
        chunk = examples;
        return this;
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
            EvalCheckpoint.TaskPiece piece = scoreTask(config, identity, e.getKey(), e.getValue(), scorers,
                    checkpoint);
            tasks.put(e.getKey(), piece.result());
            usage.add(piece.usage());
            if (piece.choices() != null) {
                choices.put(e.getKey(), piece.choices());
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

    /**
     * One task of one configuration: from the checkpoint when it holds the whole task, otherwise scored in chunks of
     * {@link #CHUNK} examples, each kept as it finishes (and taken from the checkpoint when a stopped run had finished
     * it), then kept whole in place of its chunks.
     */
    private EvalCheckpoint.TaskPiece scoreTask(EvalConfiguration config, String identity, Task task,
            List<McExample> examples, List<LogLikelihoodScorer> scorers, EvalCheckpoint checkpoint) {
        int n = examples.size();
        String key = identity == null ? null
                : identity + " " + task.key() + " " + n + " examples " + PieceDigest.examples(examples);
        EvalCheckpoint.TaskPiece whole = key == null ? null : checkpoint.task(key).orElse(null);
        if (whole != null) {
            restored(config.label() + " " + task.key(), checkpoint);
            return whole;
        }
        List<String> chunkKeys = new ArrayList<>();
        List<EvalCheckpoint.TaskPiece> chunks = new ArrayList<>();
        long toScore = 0;
        for (int from = 0; from < n; from += chunk) {
            int to = Math.min(n, from + chunk);
            String chunkKey = key == null ? null : identity + " " + task.key() + " examples " + from + "-" + to
                    + " of " + n + " " + PieceDigest.examples(examples.subList(from, to));
            chunkKeys.add(chunkKey);
            EvalCheckpoint.TaskPiece done = chunkKey == null ? null : checkpoint.task(chunkKey).orElse(null);
            chunks.add(done);
            toScore += done == null ? to - from : 0;
        }
        if (toScore < n) {
            restored(config.label() + " " + task.key() + " (" + (n - toScore) + " of " + n + " examples)",
                    checkpoint);
        }
        try (Bar bar = bar(config.label() + " " + task.key(), toScore)) {
            for (int c = 0; c < chunks.size(); c++) {
                if (chunks.get(c) != null) {
                    continue;
                }
                if (config.choices() != null) {
                    config.choices().reset();
                }
                scorers.forEach(s -> s.usage().reset());
                int from = c * chunk;
                TaskResult result = TaskEvaluator.evaluate(task, examples.subList(from, Math.min(n, from + chunk)),
                        scorers, bar.listener(), null);
                EvalCheckpoint.TaskPiece piece = new EvalCheckpoint.TaskPiece(result, usageOf(scorers),
                        config.choices() == null ? null : config.choices().snapshot());
                chunks.set(c, piece);
                if (key != null) {
                    checkpoint.put(chunkKeys.get(c), piece);
                }
            }
        }
        whole = EvalCheckpoint.TaskPiece.concat(task, chunks);
        if (key != null) {
            checkpoint.replace(chunkKeys, key, whole);
        }
        return whole;
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
