package dev.buddy.cli.run;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.Io;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.engine.generate.BatchGenerator;
import dev.buddy.engine.generate.ForwardBackend;
import dev.buddy.engine.generate.GenerationOptions;
import dev.buddy.engine.generate.GenerationResult;
import dev.buddy.engine.generate.Generator;
import dev.buddy.engine.model.Model;
import dev.buddy.opencl.BackendChoice;
import dev.buddy.router.BatchRouting;
import dev.buddy.router.BuddyPlanner;
import dev.buddy.router.PathTrace;

/** {@code buddy generate -m M.gguf -p "..." -n 128}: continue a prompt, streaming tokens to stdout. */
public final class GenerateCommand implements Command {
    private static final CommandSpec SPEC = new CommandSpec("generate",
            "continue a prompt, streaming the text; optionally with a BUDDY compute budget",
            """
            Loads the model, continues the prompt and streams the text to stdout as it is generated. At the end,
            prompt and generation speeds (tokens/s) go to stderr. With --router and --budget, only that fraction of
            the Transformer blocks runs for each token, chosen per token by the router from the context.

            With --prompts FILE (one prompt per line, blank lines skipped) the prompts are continued together on the
            CPU: each is a sequence with its own KV cache and, with --router, its own route, and every decode step
            advances all of them in one batched forward call, in which each block runs for the sequences whose route
            selected it. The results are printed after the run, one '[i] prompt+text' block per prompt, and the
            aggregate generation speed goes to stderr.""",
            List.of(),
            RunOptions.concat(RunOptions.model(), List.of(DeviceOption.spec(), LoraOption.spec()),
                    List.of(OptionSpec.value("-p", "--prompt", "TEXT", "the prompt to continue (may be empty)", ""),
                            OptionSpec.value(null, "--prompts", "FILE",
                                    "continue every line of FILE, batched together (instead of --prompt)", null),
                            OptionSpec.value("-n", "--n-predict", "N", "the most tokens to generate", "128")),
                    RunOptions.sampling(), RoutingOptions.specs()),
            List.of("buddy generate -m ../shared/models/stories260K.gguf -p \"Once upon a time\" -n 64 --temp 0",
                    "buddy generate -m ../shared/models/stories260K.gguf -p \"Once upon a time\" -n 64 --temp 0 --device opencl",
                    "buddy generate -m smollm2.gguf -p \"The capital of France\" --router smollm2.router.gguf -b 0.6"
                            + " --route-trace",
                    "buddy generate -m smollm2.gguf --prompts prompts.txt -n 64 --router random -b 0.5"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        Path modelPath = RunOptions.modelPath(args, "generate");
        GenerationOptions options = RunOptions.generation(args);
        RoutingOptions.check(args);
        BackendChoice device = DeviceOption.choice(args);
        int maxTokens = args.intValue("--n-predict", 0, 1 << 24);
        String prompt = args.string("--prompt");
        if (args.has("--prompts")) {
            if (args.has("--prompt")) {
                throw new UsageException("give either --prompt or --prompts, not both");
            }
            if (device.openCl()) {
                throw new UsageException("--prompts runs on the CPU only (use --device cpu)");
            }
            List<String> prompts = readPrompts(args.path("prompts", args.string("--prompts")));
            try (Model loaded = Model.load(modelPath)) {
                Model model = LoraOption.apply(args, loaded, device);
                generateBatch(model, options, prompts, maxTokens, args, io);
            }
            return Cli.EXIT_OK;
        }
        try (Model loaded = Model.load(modelPath)) {
            Model model = LoraOption.apply(args, loaded, device);
            RoutingOptions.Routing routing = RoutingOptions.open(args, model, io.err());
            if (routing != null) {
                options = options.withLayerPlanner(routing.planner(), routing.policy());
            }
            options = DeviceOption.forDevice(device, model, options);
            ForwardBackend backend = DeviceOption.open(device, model, options, io.err());
            try (Generator generator = backend == null ? Generator.of(model, options)
                    : Generator.of(model, options, backend)) {
                checkFits(generator, prompt);
                io.out().print(prompt);
                io.out().flush();
                GenerationResult r = generator.generate(prompt, maxTokens, (token, text) -> {
                    io.out().print(text);
                    io.out().flush();
                });
                io.out().println();
                io.out().flush();
                printSpeed(r, io);
                if (routing != null) {
                    RoutingOptions.printSummary(routing, model.spec().blockCount(), r.promptNanos() + r.generationNanos(),
                            io.err());
                }
            }
        }
        return Cli.EXIT_OK;
    }

    /** Before the prompt is echoed, so that a prompt too long for the context prints nothing on stdout. */
    private static void checkFits(Generator generator, String prompt) {
        int tokens = generator.tokenizer().encode(prompt, true, false).length; // as Generator.generate counts them
        if (tokens > generator.contextLength()) {
            throw new UsageException("the prompt is " + tokens + " tokens and does not fit the context of "
                    + generator.contextLength() + " tokens; shorten it or raise -c/--ctx-size");
        }
    }

    private static List<String> readPrompts(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UsageException("prompts file not found: " + file);
        }
        List<String> prompts = lines.stream().filter(l -> !l.isBlank()).toList();
        if (prompts.isEmpty()) {
            throw new UsageException("prompts file " + file + " holds no prompt (one per line)");
        }
        return prompts;
    }

    /** Every prompt continued together, each with its own cache and route; results printed when all are done. */
    private static void generateBatch(Model model, GenerationOptions options, List<String> prompts, int maxTokens,
            ParsedArgs args, Io io) throws IOException {
        RoutingOptions.Choice routing = RoutingOptions.choice(args, model, io.err());
        if (routing != null) {
            options = options.withLayerPlanner(null, routing.policy());
        }
        List<GenerationResult> results;
        List<BuddyPlanner> planners = null;
        try (BatchGenerator generator = BatchGenerator.of(model, options, prompts.size())) {
            if (routing == null) {
                results = generator.generate(prompts, null, maxTokens, (i, token, text) -> { });
            } else {
                PrintStream err = io.err();
                BatchRouting.Result r = BatchRouting.generate(generator, routing.router(), routing.budget(),
                        routing.reroute(), prompts, maxTokens, (i, token, text) -> { }, !routing.trace() ? null
                                : (i, start, count, phase, mask) -> err.println("[" + i + "] "
                                        + PathTrace.render(mask)));
                results = r.generations();
                planners = r.planners();
            }
        }
        long tokens = 0;
        long decodeNanos = 0;
        for (int i = 0; i < prompts.size(); i++) {
            GenerationResult r = results.get(i);
            io.out().println("[" + i + "] " + prompts.get(i) + r.text());
            tokens += r.tokens().length;
            decodeNanos = Math.max(decodeNanos, r.generationNanos());
        }
        io.out().flush();
        for (int i = 0; i < prompts.size(); i++) {
            GenerationResult r = results.get(i);
            io.err().print("[" + i + "] ");
            printSpeed(r, io);
            if (planners != null) {
                RoutingOptions.printSummary("[" + i + "] ", new RoutingOptions.Routing(planners.get(i),
                        routing.router(), routing.policy(), routing.autoBudget()), model.spec().blockCount(),
                        r.promptNanos() + r.generationNanos(), io.err());
            }
        }
        io.err().printf(Locale.ROOT, "batch: %d sequences, %d generated tokens in %.2f s, %.1f tokens/s aggregate%n",
                prompts.size(), tokens, decodeNanos / 1e9, decodeNanos <= 0 ? Double.NaN : tokens * 1e9
                        / decodeNanos);
    }

    static void printSpeed(GenerationResult r, Io io) {
        io.err().printf(Locale.ROOT, "prompt: %d tokens, %.1f tokens/s | generation: %d tokens, %.1f tokens/s (%s)%n",
                r.promptTokens().length, r.promptTokensPerSecond(), r.tokens().length, r.generationTokensPerSecond(),
                r.stopReason().toString().toLowerCase(Locale.ROOT).replace('_', ' '));
    }
}
