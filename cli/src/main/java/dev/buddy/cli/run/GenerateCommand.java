package dev.buddy.cli.run;

import java.util.List;
import java.util.Locale;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.Io;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.engine.generate.ForwardBackend;
import dev.buddy.engine.generate.GenerationOptions;
import dev.buddy.engine.generate.GenerationResult;
import dev.buddy.engine.generate.Generator;
import dev.buddy.engine.model.Model;
import dev.buddy.opencl.BackendChoice;

/** {@code buddy generate -m M.gguf -p "..." -n 128}: continue a prompt, streaming tokens to stdout. */
public final class GenerateCommand implements Command {
    private static final CommandSpec SPEC = new CommandSpec("generate",
            "continue a prompt, streaming the text; optionally with a BUDDY compute budget",
            """
            Loads the model, continues the prompt and streams the text to stdout as it is generated. At the end,
            prompt and generation speeds (tokens/s) go to stderr. With --router and --budget, only that fraction of
            the Transformer blocks runs for each token, chosen per token by the router from the context.""",
            List.of(),
            RunOptions.concat(RunOptions.model(), List.of(DeviceOption.spec(), LoraOption.spec()),
                    List.of(OptionSpec.value("-p", "--prompt", "TEXT", "the prompt to continue (may be empty)", ""),
                            OptionSpec.value("-n", "--n-predict", "N", "the most tokens to generate", "128")),
                    RunOptions.sampling(), RoutingOptions.specs()),
            List.of("buddy generate -m models/stories260K.gguf -p \"Once upon a time\" -n 64 --temp 0",
                    "buddy generate -m models/stories260K.gguf -p \"Once upon a time\" -n 64 --temp 0 --device opencl",
                    "buddy generate -m smollm2.gguf -p \"The capital of France\" --router smollm2.router.gguf -b 0.6"
                            + " --route-trace"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        String modelPath = RunOptions.modelPath(args, "generate");
        GenerationOptions options = RunOptions.generation(args);
        BackendChoice device = DeviceOption.choice(args);
        int maxTokens = args.intValue("--n-predict", 0, 1 << 24);
        String prompt = args.string("--prompt");
        try (Model loaded = Model.load(args.path("model", modelPath))) {
            Model model = LoraOption.apply(args, loaded, device);
            RoutingOptions.Routing routing = RoutingOptions.open(args, model, io.err());
            if (routing != null) {
                options = options.withLayerPlanner(routing.planner(), routing.policy());
            }
            ForwardBackend backend = DeviceOption.open(device, model, options, io.err());
            try (Generator generator = backend == null ? Generator.of(model, options)
                    : Generator.of(model, options, backend)) {
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

    static void printSpeed(GenerationResult r, Io io) {
        io.err().printf(Locale.ROOT, "prompt: %d tokens, %.1f tokens/s | generation: %d tokens, %.1f tokens/s (%s)%n",
                r.promptTokens().length, r.promptTokensPerSecond(), r.tokens().length, r.generationTokensPerSecond(),
                r.stopReason().toString().toLowerCase(Locale.ROOT).replace('_', ' '));
    }
}
