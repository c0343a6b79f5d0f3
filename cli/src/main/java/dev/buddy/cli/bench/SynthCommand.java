package dev.buddy.cli.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.DataRoot;
import dev.buddy.cli.Io;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.OutputPath;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.engine.synth.ModelShape;
import dev.buddy.engine.synth.SynthesisOptions;
import dev.buddy.engine.synth.SyntheticFileType;
import dev.buddy.engine.synth.SyntheticModel;
import dev.buddy.engine.synth.SyntheticModelException;
import dev.buddy.engine.synth.SyntheticVocabulary;

/** {@code buddy synth}: writes a random-weight GGUF with the shape of a real model, for benchmarks and tests. */
public final class SynthCommand implements Command {
    /** Where the shared test data keeps llama.cpp's GPT-2 vocabulary, relative to the shared root. */
    static final String GPT2_VOCAB = "models/tokenizer-tests/ggml-vocab-gpt-2.gguf";

    private static final String SHAPES = String.join("|", ModelShape.standardShapes().stream().map(ModelShape::name)
            .toList());
    private static final String TYPES = String.join("|", Arrays.stream(SyntheticFileType.values())
            .map(SyntheticFileType::cliName).toList());

    private static final CommandSpec SPEC = new CommandSpec("synth",
            "write a random-weight GGUF with the shape of a real model (for benchmarks)",
            """
            Writes a GGUF that llama.cpp and Buddy load like the real model: Llama-3.2-1B, Qwen2.5-0.5B or
            SmolLM2-135M's tensor names, shapes and hyper-parameters, with random weights (N(0, 1/fan-in), norms
            near 1), so speed measurements transfer while the text is noise. Quantised types follow llama-quantize's
            per-tensor mix (output and tied embeddings Q6_K; Q4_K_M/Q5_K_M raise attn_v and ffn_down of some blocks
            to Q6_K; K-quants fall back to Q5_0/Q5_1/Q8_0 on widths that are not multiples of 256); --pure gives every
            matrix the chosen type. The tokenizer is GPT-2's byte-level BPE (from --vocab, by default the shared
            test data's ggml-vocab-gpt-2.gguf), cut or padded with <|reserved_N|> control tokens to the shape's
            vocabulary size. Same shape, type and seed give the same bytes. The file is written atomically;
            large files show a progress bar on stderr.""",
            List.of(),
            List.of(OptionSpec.value(null, "--shape", "NAME", "model shape: " + SHAPES, null),
                    OptionSpec.value(null, "--type", "TYPE", "weight type: " + TYPES, null),
                    OptionSpec.value("-o", "--output", "FILE", "the GGUF file to write", null),
                    OptionSpec.value(null, "--seed", "N", "random seed", "0"),
                    OptionSpec.value(null, "--vocab", "FILE",
                            "a GPT-2 vocabulary GGUF (default: under $BUDDY_DATA, $BUDDY_TEST_DATA or ../shared, " + GPT2_VOCAB + ")",
                            null),
                    OptionSpec.flag(null, "--pure", "every matrix gets --type (llama-quantize --pure)")),
            List.of("buddy synth --shape llama-3.2-1b --type q4_k_m -o /tmp/llama-1b-q4_k_m.gguf",
                    "buddy synth --shape tiny --type f16 --seed 7 -o tiny.gguf"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        ModelShape shape = ModelShape.named(required(args, "--shape", "which model shape? (" + SHAPES + ")"));
        SyntheticFileType type = SyntheticFileType.named(
                required(args, "--type", "which weight type? (" + TYPES + ")"));
        Path output = OutputPath.file("-o", args.path("output", required(args, "--output",
                "where should the GGUF go? give -o FILE")));
        long seed = args.longValue("--seed");
        Path vocabFile = args.has("--vocab") ? args.path("vocabulary", args.string("--vocab")) : defaultVocabulary();

        long start = System.nanoTime();
        SyntheticVocabulary vocabulary = SyntheticVocabulary.fromGpt2Gguf(vocabFile, shape.vocabSize());
        SyntheticModel model = SyntheticModel.plan(new SynthesisOptions(shape, type, seed, args.flag("--pure")),
                vocabulary);
        model.write(output, new ProgressBar(io.err(), "synth " + shape.name() + " " + type.cliName(),
                System::nanoTime));
        double seconds = (System.nanoTime() - start) / 1e9;
        io.out().printf(Locale.ROOT, "wrote %s: %s %s%s, %d tensors, %.1f MiB of weights, seed %d (%.1f s)%n",
                output, shape.name(), type.cliName(), args.flag("--pure") ? " (pure)" : "", model.tensors().size(),
                model.tensorBytes() / (1024.0 * 1024), seed, seconds);
        return Cli.EXIT_OK;
    }

    private static String required(ParsedArgs args, String option, String question) {
        String value = args.string(option);
        if (value == null) {
            throw new UsageException("missing " + option + ": " + question + " (see 'buddy synth --help')");
        }
        return value;
    }

    /**
     * The shared data's GPT-2 vocabulary, under {@link DataRoot}.
     */
    static Path defaultVocabulary() {
        Path root = DataRoot.get();
        Path vocab = root.resolve(GPT2_VOCAB).normalize();
        if (!Files.isRegularFile(vocab)) {
            throw new SyntheticModelException("no GPT-2 vocabulary at " + vocab
                    + "; give one with --vocab FILE (llama.cpp's models/ggml-vocab-gpt-2.gguf)");
        }
        return vocab;
    }
}
