package dev.buddy.cli.info;

import java.nio.file.Path;
import java.util.List;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.Io;
import dev.buddy.cli.ModelPath;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.PositionalSpec;
import dev.buddy.cli.UsageException;
import dev.buddy.gguf.GgufFile;

/** {@code buddy info MODEL.gguf [--json]}: what a GGUF file holds, without loading its weights. */
public final class InfoCommand implements Command {
    private static final CommandSpec SPEC = new CommandSpec("info",
            "show a GGUF file's architecture, hyper-parameters, tokenizer and tensor types",
            """
            Reads the GGUF header only (no weights are loaded) and shows the file, the model's hyper-parameters
            (blocks, widths, heads, head dim, context length, RoPE), the tokenizer, and how many tensors and bytes
            each tensor type takes. Vocab-only files work too. GGUF v2 and v3 are supported.""",
            List.of(new PositionalSpec("MODEL.gguf", "the GGUF file to inspect (or give it with -m)")),
            List.of(OptionSpec.value("-m", "--model", "FILE", "the GGUF file, instead of the argument", null),
                    OptionSpec.flag(null, "--json", "print one JSON object instead of text")),
            List.of("buddy info ../shared/models/stories260K.gguf",
                    "buddy info --json ../shared/models/stories260K.gguf | jq .model"));

    private final ModelInfo modelInfo;

    public InfoCommand() {
        this(ModelInfo.standard());
    }

    public InfoCommand(ModelInfo modelInfo) {
        this.modelInfo = modelInfo;
    }

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        Path model = modelPath(args);
        InfoReport report;
        try (GgufFile file = GgufFile.open(model)) {
            report = modelInfo.describe(file);
        }
        io.out().print(args.flag("--json") ? JsonRenderer.render(report) : TextRenderer.render(report));
        return Cli.EXIT_OK;
    }

    private static Path modelPath(ParsedArgs args) {
        List<String> positionals = args.positionals();
        String fromOption = args.string("--model");
        if (fromOption != null && !positionals.isEmpty()) {
            throw new UsageException("give the model once, either as an argument or with -m (see 'buddy info --help')");
        }
        String text = fromOption != null ? fromOption : positionals.isEmpty() ? null : positionals.get(0);
        if (text == null) {
            throw new UsageException("missing MODEL.gguf: which file should I inspect? (see 'buddy info --help')");
        }
        return ModelPath.check(fromOption != null ? "-m" : "", args.path("model", text));
    }
}
