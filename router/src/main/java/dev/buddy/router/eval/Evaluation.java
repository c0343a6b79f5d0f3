package dev.buddy.router.eval;

import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Budget;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.Router;
import dev.buddy.router.RouterFile;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * {@code buddy eval}'s engine, ready for a CLI command to call: loads the model and the router or plan files,
 * reads the tasks and perplexity texts, evaluates the dense model and every router at every budget, and writes the
 * reports ({@link EvalReport}) into the output folder. Progress bars and notes go to the given stream (stderr).
 */
public final class Evaluation {
    private Evaluation() {}

    /**
     * Runs the evaluation the options describe.
     *
     * @param log where progress bars and notes go, typically stderr
     * @return the report, already written to {@link EvalOptions#outputDir()}
     * @throws IOException                if a file cannot be read or written
     * @throws EvalException              for a bad option or dataset line
     * @throws dev.buddy.router.RouterException for a router file that is invalid or belongs to another model
     */
    public static EvalReport run(EvalOptions options, PrintStream log) throws IOException {
        return run(options, log, null);
    }

    /**
     * As {@link #run(EvalOptions, PrintStream)}, with the LoRA adapters of {@code loraFile} applied to the model
     * ({@code eval --lora FILE}) when it is not null.
     *
     * @throws dev.buddy.router.lora.LoraException for an adapter file that is invalid or belongs to another model
     */
    public static EvalReport run(EvalOptions options, PrintStream log, java.nio.file.Path loraFile)
            throws IOException {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(log, "log");
        try (Model loaded = Model.load(options.model())) {
            Model model = loraFile == null ? loaded : dev.buddy.router.lora.LoraInference.apply(loaded, loraFile);
            ModelSpec spec = model.spec();
            int context = options.contextLength() > 0 ? options.contextLength()
                    : Math.min(spec.contextLength(), EvalOptions.DEFAULT_MAX_CONTEXT);
            TokenizerTextEncoder encoder = new TokenizerTextEncoder(model.tokenizer());

            int window = options.pplWindow() > 0 ? options.pplWindow() : PerplexityWindows.defaultWindow(context);
            if (window > context) {
                throw new InvalidEvalOptionException("perplexity window of " + window + " tokens exceeds the "
                        + context + "-token evaluation context");
            }
            int stride = options.pplStride() > 0 ? options.pplStride() : PerplexityWindows.defaultStride(window);
            // the checkpoint first: a run that cannot resume stops before it prints anything
            Map<String, String> checkpointInputs = checkpointInputs(options, loraFile, context, window, stride);
            EvalCheckpoint checkpoint = options.resume()
                    ? EvalCheckpoint.resume(options.outputDir(), checkpointInputs)
                    : EvalCheckpoint.start(options.outputDir(), checkpointInputs);
            List<String> identities = new ArrayList<>();
            List<EvalConfiguration> configurations = configurations(options, model, log, identities);
            Map<Task, List<McExample>> tasks = new LinkedHashMap<>();
            for (Task task : options.tasks()) {
                tasks.put(task, McDatasetReader.read(task, task.file(options.datasetsDir()), options.limit()));
            }
            Map<PerplexityCorpus, int[]> streams = new LinkedHashMap<>();
            for (PerplexityCorpus corpus : options.perplexity()) {
                // A Hugging Face tokenizer call adds BOS when the model's tokenizer does; the stream follows suit.
                streams.put(corpus, PerplexityEvaluator.tokenStream(corpus.documents(options.datasetsDir()), encoder,
                        encoder.addsBos(), options.pplLimitTokens()));
            }
            EvalRunner.Inputs inputs = new EvalRunner.Inputs(tasks, streams, window, stride);
            if (options.resume()) {
                log.println(checkpoint.size() == 0
                        ? "note: nothing to resume in " + checkpoint.file() + "; starting from the beginning"
                        : "resuming from " + checkpoint.file() + ": " + checkpoint.size() + " piece"
                                + (checkpoint.size() == 1 ? "" : "s") + " already scored (tasks, runs of "
                                + EvalRunner.CHUNK + " examples, texts)");
            }

            List<ConfigurationResult> results = new ArrayList<>();
            int threads = options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
            // --parallel N: N sequence states over the one set of weights, each driven by its own thread with its own
            // share of the kernel threads (at least one)
            int threadsPerState = Math.max(1, threads / options.parallel());
            List<Parallel> pools = new ArrayList<>();
            try {
                int batch = options.prefillBatch() > 0 ? Math.min(options.prefillBatch(), context) : context;
                List<EngineTokenModel> models = new ArrayList<>();
                for (int i = 0; i < options.parallel(); i++) {
                    Parallel pool = new Parallel(threadsPerState);
                    pools.add(pool);
                    Transformer transformer = new Transformer(model, pool);
                    models.add(new EngineTokenModel(transformer, transformer.newState(context,
                            options.kvCacheType(), batch, options.skippedKv())));
                }
                EvalRunner runner = new EvalRunner(models, encoder, options.routingMode(), options.bos(), log);
                for (int i = 0; i < configurations.size(); i++) {
                    ConfigurationResult r = runner.evaluate(configurations.get(i), identities.get(i), inputs,
                            checkpoint);
                    results.add(r);
                    log.println(summaryLine(r));
                }
            } finally {
                pools.forEach(Parallel::close);
            }
            Map<String, Object> settings = settings(options, spec, context, window, stride, threads, streams);
            List<ConstantAnswer> constant = new ArrayList<>();
            tasks.forEach((task, examples) -> constant.add(ConstantAnswer.of(task, examples)));
            EvalReport report = new EvalReport(options.model().getFileName().toString(), settings, results,
                    constant);
            EvalReport.Written written = report.writeAll(options.outputDir());
            for (Path p : written.files()) {
                log.println("wrote " + p);
            }
            if (written.pngProblem() != null) {
                log.println("note: no PNG plot (" + written.pngProblem() + "); the SVG has the same plot");
            }
            return report;
        }
    }

    /**
     * What a checkpoint's pieces depend on besides their own keys: the model (and adapters) and every option that
     * changes a score. Thread counts are left out: they change no result.
     */
    private static Map<String, String> checkpointInputs(EvalOptions o, Path loraFile, int context, int window,
            int stride) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", stamp(o.model()));
        m.put("lora", loraFile == null ? "none" : stamp(loraFile));
        m.put("routing", o.routingMode().key());
        m.put("kv_policy", o.skippedKv().name());
        m.put("kv_cache", o.kvCacheType().name());
        m.put("bos", Boolean.toString(o.bos()));
        m.put("context", Integer.toString(context));
        m.put("ppl_window", Integer.toString(window));
        m.put("ppl_stride", Integer.toString(stride));
        m.put("prefill_batch", Integer.toString(o.prefillBatch()));
        return m;
    }

    /** A file by name, size and modification time: a model is too large to hash before every run. */
    private static String stamp(Path file) throws IOException {
        return file.getFileName() + " (" + java.nio.file.Files.size(file) + " bytes, modified "
                + java.nio.file.Files.getLastModifiedTime(file) + ")";
    }

    /** A router file by its content: what a checkpoint piece of its configurations depends on. */
    private static String routerIdentity(Path path) throws IOException {
        if (isRandom(path)) {
            return "random router (seed 42)";
        }
        return "router sha256:" + PieceDigest.file(path);
    }

    /**
     * Dense first (when asked), then every router at every budget; {@code identities} gets each configuration's
     * checkpoint identity, in the same order.
     */
    private static List<EvalConfiguration> configurations(EvalOptions options, Model model, PrintStream log,
            List<String> identities) throws IOException {
        List<EvalConfiguration> out = new ArrayList<>();
        if (options.dense()) {
            out.add(EvalConfiguration.dense());
            identities.add("dense@1.0");
        }
        int layers = model.spec().blockCount();
        BaseModelInfo info = BaseModelInfo.of(model.spec(), model.gguf());
        List<Router> routers = new ArrayList<>();
        Map<String, Integer> methodCount = new HashMap<>();
        for (Path path : options.routers()) {
            Router router = isRandom(path)
                    ? dev.buddy.router.RandomRouter.create(info, 42, dev.buddy.router.FeatureSource.VALUE,
                            dev.buddy.router.Pooling.MEAN, false)
                    : RouterFile.load(path, info);
            log.println("router " + path.getFileName() + ": " + router.describe());
            routers.add(router);
            methodCount.merge(EvalReport.canonicalMethod(router.provenance().method()), 1, Integer::sum);
        }
        int autoRouters = 0;
        for (int i = 0; i < routers.size(); i++) {
            Router router = routers.get(i);
            String method = EvalReport.canonicalMethod(router.provenance().method());
            if (methodCount.get(method) > 1) {
                // Two files of the same method (say two BUDDY routers) stay apart in the reports.
                method = method + ":" + stem(options.routers().get(i));
            }
            String identity = routerIdentity(options.routers().get(i));
            for (Budget budget : options.budgets()) {
                EvalConfiguration config = EvalConfiguration.routed(method, router, budget, layers);
                out.add(config);
                identities.add(identity + "@" + config.budget());
            }
            if (options.autoBudget()) {
                if (router instanceof DynamicRouter d && d.predictor().isPresent()) {
                    out.add(EvalConfiguration.auto(method, router, layers));
                    identities.add(identity + "@" + EvalConfiguration.AUTO);
                    autoRouters++;
                } else {
                    log.println("note: " + options.routers().get(i).getFileName() + " has no budget predictor;"
                            + " it is not evaluated at --budgets auto");
                }
            }
        }
        if (options.autoBudget() && autoRouters == 0) {
            throw new InvalidEvalOptionException("--budgets auto needs a router with a budget predictor (train one"
                    + " with buddy train-predictor); none of the --router files has one");
        }
        return out;
    }

    /** "random" names no file: an untrained router (seed 42), as {@code buddy generate --router random} makes. */
    private static boolean isRandom(Path path) {
        return path.getFileName() != null && path.getFileName().toString().equals("random")
                && java.nio.file.Files.notExists(path);
    }

    private static String stem(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static String summaryLine(ConfigurationResult r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.method()).append('@').append(r.budget()).append(String.format(Locale.ROOT,
                ": executed %.3f of blocks", r.computeFraction()));
        if (r.paths().distinct() > 0) {
            sb.append(String.format(Locale.ROOT, " on %d path%s (top %.1f%% of tokens)", r.paths().distinct(),
                    r.paths().distinct() == 1 ? "" : "s", 100 * r.paths().topShare()));
            if (r.paths().skippedKv() > 0) {
                sb.append(String.format(Locale.ROOT, ", %.0f%% of skipped slots read later",
                        100 * r.paths().neededKv() / r.paths().skippedKv()));
            }
        }
        if (!r.tasks().isEmpty()) {
            sb.append(String.format(Locale.ROOT, ", mean accuracy %.2f%%", r.meanAccuracyPercent()));
        }
        r.perplexities().forEach((c, p) -> sb.append(String.format(Locale.ROOT, ", %s PPL %.3f", c.key(),
                p.perplexity())));
        r.budgetChoices().forEach((t, d) -> sb.append(String.format(Locale.ROOT, ", %s chose b=%.3f on average %s",
                t.key(), d.meanBudget(), d.byBudget())));
        return sb.toString();
    }

    private static Map<String, Object> settings(EvalOptions o, ModelSpec spec, int context, int window, int stride,
            int threads, Map<PerplexityCorpus, int[]> streams) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", o.model().toString());
        s.put("architecture", spec.architecture().ggufName());
        s.put("blocks", spec.blockCount());
        s.put("context", context);
        s.put("kv_cache", o.kvCacheType().name());
        s.put("skipped_kv", o.skippedKv().name());
        s.put("routing", o.routingMode().key());
        s.put("bos", o.bos());
        s.put("limit", o.limit() == Integer.MAX_VALUE ? "all" : Integer.toString(o.limit()));
        s.put("tasks", o.tasks().stream().map(Task::key).toList());
        if (!streams.isEmpty()) {
            s.put("ppl_window", window);
            s.put("ppl_stride", stride);
            Map<String, Object> tokens = new LinkedHashMap<>();
            streams.forEach((c, t) -> tokens.put(c.key(), t.length));
            s.put("ppl_tokens", tokens);
        }
        s.put("threads", threads);
        s.put("parallel", o.parallel());
        s.put("prefill_batch", o.prefillBatch() > 0 ? Integer.toString(o.prefillBatch()) : "whole context");
        return s;
    }
}
