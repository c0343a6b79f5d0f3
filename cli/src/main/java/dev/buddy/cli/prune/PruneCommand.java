package dev.buddy.cli.prune;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.DataRoot;
import dev.buddy.cli.InputFile;
import dev.buddy.cli.Io;
import dev.buddy.cli.ModelPath;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.OutputPath;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.engine.model.Model;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Provenance;
import dev.buddy.router.RouterFile;
import dev.buddy.router.StaticPlan;
import dev.buddy.router.baseline.BaselineMethod;
import dev.buddy.router.baseline.CalibrationRunner;
import dev.buddy.router.baseline.CalibrationTokens;
import dev.buddy.router.baseline.PriorIndicator;
import dev.buddy.router.baseline.SlebResult;
import dev.buddy.router.baseline.StaticBaselines;

/**
 * {@code buddy prune -m M.gguf --method shortgpt|ppl|sleb|prior -o plan.gguf}: measures a static block-removal
 * baseline on calibration text and writes it as a static router plan that {@code generate --router} runs.
 */
public final class PruneCommand implements Command {
    static final String DEFAULT_CALIB = "$BUDDY_DATA/datasets/wikitext/wikitext-2-raw/wiki.test.raw";
    static final String CALIB_RELATIVE = "datasets/wikitext/wikitext-2-raw/wiki.test.raw";

    private static final CommandSpec SPEC = new CommandSpec("prune",
            "build a static layer-skipping plan (ShortGPT, Shortened-LLaMA ΔPPL, SLEB, prior-only)",
            """
            Runs the model over the first N tokens of a calibration text, in independent windows, and ranks the
            middle blocks (the first and last always run) by one static baseline: shortgpt (block influence,
            1 - cos of a block's input and output), ppl (perplexity increase when the block alone is removed),
            sleb (greedy removal of the block that hurts perplexity least, re-measured after every removal; sets
            for up to --max-drop removed blocks) or prior (BUDDY's normalised prior alone, no Decision Module).
            The plan is written atomically as a router file; run it with 'buddy generate --router FILE -b B'.""",
            List.of(),
            List.of(OptionSpec.value("-m", "--model", "FILE", "the GGUF model to prune", null),
                    OptionSpec.value(null, "--method", "NAME", "shortgpt, ppl, sleb or prior", null),
                    OptionSpec.value("-o", "--output", "FILE", "where to write the plan (a router GGUF)", null),
                    OptionSpec.value(null, "--calib", "FILE", "calibration text (UTF-8); $BUDDY_DATA (else"
                            + " $BUDDY_TEST_DATA) defaults to the checkout's ../shared", DEFAULT_CALIB),
                    OptionSpec.value(null, "--calib-tokens", "N", "calibration tokens (the text's first N)", "256"),
                    OptionSpec.value(null, "--window", "N", "tokens per independent evaluation window", "256"),
                    OptionSpec.value(null, "--max-drop", "N", "sleb: blocks to remove (all = all but one middle"
                            + " block; half = half the middle blocks)", "half"),
                    OptionSpec.value(null, "--prior-indicator", "NAME", "prior: dppl or cosine", "dppl"),
                    OptionSpec.value("-t", "--threads", "N", "worker threads",
                            Integer.toString(Runtime.getRuntime().availableProcessors()))),
            List.of("buddy prune -m ../shared/models/stories260K.gguf --method shortgpt -o stories.shortgpt.gguf",
                    "buddy prune -m smollm2.gguf --method sleb --calib wiki.test.raw --calib-tokens 512 -o sleb.gguf"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        String modelArg = required(args, "--model", "-m MODEL.gguf");
        String methodArg = required(args, "--method", "--method shortgpt|ppl|sleb|prior");
        String outputArg = required(args, "--output", "-o PLAN.gguf");
        BaselineMethod method;
        try {
            method = BaselineMethod.fromCliName(methodArg);
        } catch (IllegalArgumentException e) {
            throw new UsageException("invalid --method '" + methodArg + "': expected shortgpt, ppl, sleb or prior");
        }
        PriorIndicator indicator = switch (args.string("--prior-indicator").toLowerCase(Locale.ROOT)) {
            case "dppl" -> PriorIndicator.DPPL;
            case "cosine" -> PriorIndicator.COSINE;
            default -> throw new UsageException("invalid --prior-indicator '" + args.string("--prior-indicator")
                    + "': expected dppl or cosine");
        };
        int calibTokens = args.intValue("--calib-tokens", CalibrationTokens.MIN_TOKENS, 1 << 24);
        int window = args.intValue("--window", 2, 1 << 20);
        int threads = args.intValue("--threads", 1, 1024);
        Path modelPath = ModelPath.check("-m", args.path("model", modelArg));
        Path output = args.path("output", outputArg);
        Path calib = calibrationPath(args);
        String calibProblem = InputFile.problem(calib, "a text file");
        if (calibProblem != null) {
            throw new UsageException("calibration text " + calib + " " + calibProblem + "; give --calib FILE"
                    + (args.has("--calib") ? "" : " or set " + DataRoot.VARIABLES + " to the shared data folder"));
        }
        OutputPath.file("-o", output, modelPath);
        try (Model model = Model.load(modelPath)) {
            int layers = model.spec().blockCount();
            if (layers < 3) {
                throw new UsageException(modelPath + " has " + layers + " blocks; pruning needs at least 3 (the"
                        + " first and last always run)");
            }
            int middle = layers - 2;
            int maxDrop = maxDrop(args.string("--max-drop"), middle);
            int[] tokens = CalibrationTokens.load(calib, model.tokenizer(), calibTokens);
            BaseModelInfo info = BaseModelInfo.of(model.spec(), model.gguf());
            Provenance base = new Provenance(info.fingerprint(), info.architecture(), true, new float[0],
                    method.fileMethod(), method.defaultPriorKind());
            io.err().printf(Locale.ROOT, "prune: %s on %s (%d blocks), %d calibration tokens from %s, window %d%n",
                    method.cliName(), modelPath.getFileName(), layers, tokens.length, calib, window);
            ProgressBar bar = new ProgressBar(io.err(), method.cliName(), System::nanoTime);
            StaticBaselines.Outcome outcome;
            try (CalibrationRunner runner = new CalibrationRunner(model, tokens, window, threads)) {
                bar.start();
                outcome = new StaticBaselines(runner, bar).run(method, output.getFileName().toString(), base, maxDrop,
                        indicator);
            } finally {
                bar.finish();
            }
            RouterFile.write(outcome.plan(), output);
            report(outcome, io);
            io.err().println("wrote " + output + "; run it with: buddy generate -m " + modelArg + " --router "
                    + output + " -b 0.75");
        }
        return Cli.EXIT_OK;
    }

    private static String required(ParsedArgs args, String option, String example) {
        String v = args.string(option);
        if (v == null) {
            throw new UsageException("missing " + example + " (see 'buddy prune --help')");
        }
        return v;
    }

    static Path calibrationPath(ParsedArgs args) {
        if (args.has("--calib")) {
            return args.path("calibration", args.string("--calib"));
        }
        return DataRoot.get().resolve(CALIB_RELATIVE).normalize();
    }

    static int maxDrop(String text, int middle) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "all" -> middle - 1;
            case "half" -> Math.max(1, Math.min(middle - 1, middle / 2));
            default -> {
                int n;
                try {
                    n = Integer.parseInt(text.strip());
                } catch (NumberFormatException e) {
                    throw new UsageException("invalid --max-drop '" + text + "': expected a number, all or half");
                }
                if (n < 1 || n > middle - 1) {
                    throw new UsageException("invalid --max-drop " + n + ": this model has " + middle
                            + " middle blocks, so 1.." + (middle - 1) + " can be removed");
                }
                yield n;
            }
        };
    }

    /** The ranking (or SLEB's removal order) and the scores behind it, on stdout. */
    private static void report(StaticBaselines.Outcome outcome, Io io) {
        StaticPlan plan = outcome.plan();
        if (plan.ranking().length > 0) {
            io.out().println("ranking (most important first): " + join(plan.ranking()));
        }
        double[] indicator = outcome.indicator();
        if (indicator.length > 0) {
            StringJoiner scores = new StringJoiner(" ");
            for (int i = 0; i < indicator.length; i++) {
                scores.add((i + 1) + ":" + String.format(Locale.ROOT, "%.6g", indicator[i]));
            }
            io.out().println("scores (" + plan.provenance().priorKind() + ", per block): " + scores);
        }
        outcome.sleb().ifPresent((SlebResult s) -> {
            io.out().printf(Locale.ROOT, "full-model perplexity: %.4f%n", s.fullPerplexity());
            int[] order = s.removalOrder();
            double[] ppl = s.perplexityAfter();
            StringJoiner steps = new StringJoiner(", ");
            for (int i = 0; i < order.length; i++) {
                steps.add(order[i] + String.format(Locale.ROOT, " (ppl %.4f)", ppl[i]));
            }
            io.out().println("removal order: " + steps);
        });
        Map<Integer, int[]> sets = plan.setsByK();
        if (!sets.isEmpty() && plan.ranking().length == 0) {
            sets.forEach((k, v) -> io.out().println("k=" + k + ": " + join(v)));
        }
    }

    private static String join(int[] values) {
        return String.join(" ", Arrays.stream(values).mapToObj(Integer::toString).toList());
    }
}
