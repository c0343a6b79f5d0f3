package dev.buddy.router.eval;

import dev.buddy.gguf.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The finished pieces of an evaluation, kept in the output folder so that an interrupted run can go on where it
 * stopped ({@code buddy eval --resume}): one piece per configuration and task (its counts, per-example outcomes, block
 * usage and chosen budgets), per run of {@link EvalRunner#CHUNK} examples of a task still being scored, or per
 * configuration and perplexity text. A whole-test-set run takes hours on a laptop; with the file rewritten after
 * every piece, a stop loses at most one run of examples (or one text).
 *
 * <p>Each piece is found by a key that names everything its result depends on that the run's {@code inputs} do not:
 * the configuration's identity (the router file's content and the budget), the task or text (and which of its
 * examples), and a digest of the examples or tokens scored ({@link EvalRunner} builds it). The {@code inputs} (the model file and the options that
 * change results: routing, KV policy and type, BOS, context, window, stride, prefill batch) must equal those of the
 * run that wrote the file; thread counts and {@code --parallel} change no result and may differ. So a resumed run may
 * add tasks, budgets or routers, and reuses exactly the pieces it would have computed the same.
 *
 * <p>The file is JSON, rewritten whole through a temporary file and a rename after every piece, so an interrupted
 * run never leaves half of it.
 */
public final class EvalCheckpoint {
    /** The checkpoint's file name in the output folder. */
    public static final String FILE_NAME = "checkpoint.json";
    static final String FORMAT = "buddy eval checkpoint";
    static final int VERSION = 1;
    /** A checkpoint larger than this is not read (a whole-test-set run of every method writes a few MiB). */
    static final long MAX_BYTES = 256L << 20;

    /**
     * A task's finished piece (or a run of its examples): its result, the block usage it caused, and the budgets
     * chosen (null unless auto).
     */
    public record TaskPiece(TaskResult result, BlockUsage.Counts usage, BudgetChoices.Distribution choices) {
        public TaskPiece {
            Objects.requireNonNull(result, "result");
            Objects.requireNonNull(usage, "usage");
        }

        /** Consecutive runs of one task's examples, in order, as one piece: what scoring them at once gives. */
        static TaskPiece concat(Task task, List<TaskPiece> parts) {
            int n = 0;
            int correct = 0;
            int correctNorm = 0;
            StringBuilder outcomes = new StringBuilder();
            BlockUsage usage = new BlockUsage(parts.getFirst().usage().layerCount());
            long[] chosen = null;
            int chosenLayers = 0;
            for (TaskPiece p : parts) {
                n += p.result().n();
                correct += p.result().correct();
                correctNorm += p.result().correctNorm();
                outcomes.append(p.result().outcomes());
                usage.add(p.usage());
                if (p.choices() != null) {
                    long[] counts = p.choices().counts();
                    chosen = chosen == null ? new long[counts.length] : chosen;
                    chosenLayers = p.choices().layerCount();
                    for (int i = 0; i < counts.length; i++) {
                        chosen[i] += counts[i];
                    }
                }
            }
            return new TaskPiece(new TaskResult(task, n, correct, task.reportsAccNorm() ? correctNorm : -1,
                    outcomes.toString()), usage.counts(),
                    chosen == null ? null : new BudgetChoices.Distribution(chosenLayers, chosen));
        }
    }

    /** A perplexity text's finished piece: its result and the block usage it caused. */
    public record PerplexityPiece(PerplexityResult result, BlockUsage.Counts usage) {
        public PerplexityPiece {
            Objects.requireNonNull(result, "result");
            Objects.requireNonNull(usage, "usage");
        }
    }

    private static final EvalCheckpoint NONE = new EvalCheckpoint(null, Map.of(), new LinkedHashMap<>());

    private final Path file;
    private final Map<String, String> inputs;
    private final Map<String, Object> pieces;

    private EvalCheckpoint(Path file, Map<String, String> inputs, Map<String, Object> pieces) {
        this.file = file;
        this.inputs = Map.copyOf(inputs);
        this.pieces = pieces;
    }

    /** Keeps nothing and finds nothing. */
    public static EvalCheckpoint none() {
        return NONE;
    }

    /** A new checkpoint in {@code dir}, replacing any file there once the first piece is done. */
    public static EvalCheckpoint start(Path dir, Map<String, String> inputs) {
        return new EvalCheckpoint(dir.resolve(FILE_NAME), inputs, new LinkedHashMap<>());
    }

    /**
     * The checkpoint in {@code dir}, to go on from; a new one when there is none.
     *
     * @throws InvalidEvalOptionException if the file was written for other {@code inputs}, naming the first that
     *                                    differs
     * @throws CheckpointFormatException  if the file is not a checkpoint this version wrote
     */
    public static EvalCheckpoint resume(Path dir, Map<String, String> inputs) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return start(dir, inputs);
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new CheckpointFormatException(file, "larger than " + (MAX_BYTES >> 20) + " MiB");
        }
        Object parsed;
        try {
            parsed = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (Json.JsonSyntaxException | java.nio.charset.MalformedInputException e) {
            throw new CheckpointFormatException(file, "not JSON (" + e.getMessage() + ")");
        }
        Reader r = new Reader(file);
        Map<String, Object> root = r.object(parsed, "the file");
        if (!FORMAT.equals(root.get("format")) || !Long.valueOf(VERSION).equals(root.get("version"))) {
            throw new CheckpointFormatException(file, "no '" + FORMAT + "' version " + VERSION + " header");
        }
        Map<String, Object> written = r.object(root.get("inputs"), "inputs");
        for (Map.Entry<String, String> e : inputs.entrySet()) {
            Object was = written.get(e.getKey());
            if (!e.getValue().equals(was)) {
                throw new InvalidEvalOptionException(file + " was written by an evaluation with " + e.getKey() + " = "
                        + (was == null ? "(none)" : was) + ", not " + e.getValue()
                        + "; run without --resume to start over, or choose another -o");
            }
        }
        if (written.size() != inputs.size()) {
            throw new InvalidEvalOptionException(file + " was written by an evaluation with other settings ("
                    + written.keySet() + "); run without --resume to start over, or choose another -o");
        }
        Map<String, Object> pieces = new LinkedHashMap<>();
        for (Object o : r.list(root.get("pieces"), "pieces")) {
            Map<String, Object> piece = r.object(o, "a piece");
            String key = r.string(piece, "key");
            pieces.put(key, switch (r.string(piece, "kind")) {
                case "task" -> r.taskPiece(piece);
                case "perplexity" -> r.perplexityPiece(piece);
                default -> throw new CheckpointFormatException(file, "piece " + key + " is of unknown kind");
            });
        }
        return new EvalCheckpoint(file, inputs, pieces);
    }

    /** Finished pieces held. */
    public int size() {
        return pieces.size();
    }

    /** Where the checkpoint is kept; null for {@link #none()}. */
    public Path file() {
        return file;
    }

    public Optional<TaskPiece> task(String key) {
        return pieces.get(key) instanceof TaskPiece p ? Optional.of(p) : Optional.empty();
    }

    public Optional<PerplexityPiece> perplexity(String key) {
        return pieces.get(key) instanceof PerplexityPiece p ? Optional.of(p) : Optional.empty();
    }

    /** Keeps a finished task and rewrites the file. */
    public void put(String key, TaskPiece piece) {
        keep(key, piece);
    }

    /** Keeps a finished perplexity text and rewrites the file. */
    public void put(String key, PerplexityPiece piece) {
        keep(key, piece);
    }

    /** Keeps a finished task in place of the pieces it was scored in, and rewrites the file. */
    public void replace(java.util.Collection<String> parts, String key, TaskPiece piece) {
        if (file != null) {
            parts.forEach(pieces::remove);
        }
        keep(key, piece);
    }

    private void keep(String key, Object piece) {
        if (file == null) {
            return;
        }
        pieces.put(Objects.requireNonNull(key, "key"), piece);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        root.put("inputs", new java.util.TreeMap<>(inputs));
        List<Object> list = new ArrayList<>();
        pieces.forEach((k, p) -> list.add(json(k, p)));
        root.put("pieces", list);
        try {
            AtomicFiles.writeString(file, JsonText.write(root) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, Object> json(String key, Object piece) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", key);
        switch (piece) {
            case TaskPiece t -> {
                m.put("kind", "task");
                m.put("task", t.result().task().key());
                m.put("n", t.result().n());
                m.put("correct", t.result().correct());
                m.put("correct_norm", t.result().correctNorm());
                m.put("outcomes", t.result().outcomes());
                m.put("usage", json(t.usage()));
                if (t.choices() != null) {
                    m.put("choices_layers", t.choices().layerCount());
                    List<Object> counts = new ArrayList<>();
                    for (long c : t.choices().counts()) {
                        counts.add(c);
                    }
                    m.put("choices", counts);
                }
            }
            case PerplexityPiece p -> {
                m.put("kind", "perplexity");
                m.put("corpus", p.result().corpus().key());
                m.put("window", p.result().window());
                m.put("stride", p.result().stride());
                m.put("tokens_scored", p.result().tokensScored());
                // Double.toString gives the shortest decimal that reads back as the same double
                m.put("nll", Double.toString(p.result().negLogLikelihood()));
                m.put("usage", json(p.usage()));
            }
            default -> throw new IllegalArgumentException("not a piece: " + piece);
        }
        return m;
    }

    private static Map<String, Object> json(BlockUsage.Counts u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layers", u.layerCount());
        m.put("tokens", u.tokens());
        m.put("blocks_run", u.blocksRun());
        m.put("skipped_slots", u.skippedSlots());
        m.put("needed_slots", u.neededSlots());
        m.put("paths", new java.util.TreeMap<>(u.paths()));
        return m;
    }

    /** Reads the parsed JSON back, failing with the file's name on anything out of shape. */
    private record Reader(Path file) {
        TaskPiece taskPiece(Map<String, Object> m) {
            try {
                Task task = Task.parse(string(m, "task"));
                TaskResult result = new TaskResult(task, integer(m, "n"), integer(m, "correct"),
                        integer(m, "correct_norm"), string(m, "outcomes"));
                BudgetChoices.Distribution choices = null;
                if (m.containsKey("choices")) {
                    List<Object> list = list(m.get("choices"), "choices");
                    long[] counts = new long[list.size()];
                    for (int i = 0; i < counts.length; i++) {
                        counts[i] = number(list.get(i), "a choice count");
                    }
                    choices = new BudgetChoices.Distribution(integer(m, "choices_layers"), counts);
                }
                return new TaskPiece(result, usage(object(m.get("usage"), "usage")), choices);
            } catch (IllegalArgumentException | InvalidEvalOptionException e) {
                throw new CheckpointFormatException(file, "piece " + m.get("key") + ": " + e.getMessage());
            }
        }

        PerplexityPiece perplexityPiece(Map<String, Object> m) {
            try {
                PerplexityResult result = new PerplexityResult(PerplexityCorpus.parse(string(m, "corpus")),
                        integer(m, "window"), integer(m, "stride"), number(m.get("tokens_scored"), "tokens_scored"),
                        Double.parseDouble(string(m, "nll")));
                return new PerplexityPiece(result, usage(object(m.get("usage"), "usage")));
            } catch (IllegalArgumentException | InvalidEvalOptionException e) {
                throw new CheckpointFormatException(file, "piece " + m.get("key") + ": " + e.getMessage());
            }
        }

        BlockUsage.Counts usage(Map<String, Object> m) {
            Map<String, Long> paths = new LinkedHashMap<>();
            object(m.get("paths"), "paths").forEach((k, v) -> paths.put(k, number(v, "a path's tokens")));
            return new BlockUsage.Counts(integer(m, "layers"), number(m.get("tokens"), "tokens"),
                    number(m.get("blocks_run"), "blocks_run"), paths, number(m.get("skipped_slots"), "skipped_slots"),
                    number(m.get("needed_slots"), "needed_slots"));
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> object(Object o, String what) {
            if (o instanceof Map<?, ?> m) {
                return (Map<String, Object>) m;
            }
            throw new CheckpointFormatException(file, what + " is not a JSON object");
        }

        @SuppressWarnings("unchecked")
        List<Object> list(Object o, String what) {
            if (o instanceof List<?> l) {
                return (List<Object>) l;
            }
            throw new CheckpointFormatException(file, what + " is not a JSON array");
        }

        String string(Map<String, Object> m, String key) {
            if (m.get(key) instanceof String s) {
                return s;
            }
            throw new CheckpointFormatException(file, "'" + key + "' is missing or not a string");
        }

        int integer(Map<String, Object> m, String key) {
            long v = number(m.get(key), key);
            if (v != (int) v) {
                throw new CheckpointFormatException(file, "'" + key + "' is out of range");
            }
            return (int) v;
        }

        long number(Object o, String what) {
            if (o instanceof Long l) {
                return l;
            }
            throw new CheckpointFormatException(file, what + " is missing or not a whole number");
        }
    }
}
