package dev.buddy.cli.run;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
import dev.buddy.engine.tokenizer.ChatMessage;

/** {@code buddy chat -m M.gguf}: an interactive multi-turn chat using the model's own chat template. */
public final class ChatCommand implements Command {
    private static final CommandSpec SPEC = new CommandSpec("chat",
            "talk with an instruction-tuned model, using its chat template",
            """
            Reads your messages from stdin, one per line, and answers each with the model's chat template
            (tokenizer.chat_template: ChatML for Qwen and SmolLM2, Llama 3, Llama 2). The conversation so far is
            kept. Type /exit or end the input (Ctrl-D) to stop; works with piped input too.""",
            List.of(),
            RunOptions.concat(RunOptions.model(), List.of(DeviceOption.spec(), LoraOption.spec()),
                    List.of(OptionSpec.value(null, "--system", "TEXT", "a system message to start with", null),
                            OptionSpec.value("-n", "--n-predict", "N", "the most tokens per answer", "512")),
                    RunOptions.sampling(), RoutingOptions.specs()),
            List.of("buddy chat -m SmolLM2-135M-Instruct.Q4_1.gguf",
                    "echo 'What is 2+2?' | buddy chat -m SmolLM2-135M-Instruct.Q4_1.gguf --temp 0"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        Path modelPath = RunOptions.modelPath(args, "chat");
        GenerationOptions options = RunOptions.generation(args);
        RoutingOptions.check(args);
        BackendChoice device = DeviceOption.choice(args);
        int maxTokens = args.intValue("--n-predict", 1, 1 << 24);
        List<ChatMessage> conversation = new ArrayList<>();
        if (args.has("--system")) {
            conversation.add(new ChatMessage("system", args.string("--system")));
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
                BufferedReader in = new BufferedReader(new InputStreamReader(io.in(), StandardCharsets.UTF_8));
                io.err().println("chat with " + model.path().getFileName() + " — /exit or Ctrl-D to quit");
                while (true) {
                    io.err().print("> ");
                    io.err().flush();
                    String line = in.readLine();
                    if (line == null || line.strip().equals("/exit")) {
                        break;
                    }
                    if (line.isBlank()) {
                        continue;
                    }
                    conversation.add(new ChatMessage("user", line));
                    StringBuilder answer = new StringBuilder();
                    GenerationResult r = generator.chat(conversation, maxTokens, (token, text) -> {
                        answer.append(text);
                        io.out().print(text);
                        io.out().flush();
                    });
                    io.out().println();
                    io.out().flush();
                    conversation.add(new ChatMessage("assistant", answer.toString().strip()));
                    GenerateCommand.printSpeed(r, io);
                    if (routing != null) {
                        RoutingOptions.printSummary(routing, model.spec().blockCount(),
                                r.promptNanos() + r.generationNanos(), io.err());
                    }
                }
            }
        }
        return Cli.EXIT_OK;
    }
}
