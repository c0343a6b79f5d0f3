package dev.buddy.cli.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.InputFile;
import dev.buddy.cli.Io;
import dev.buddy.cli.ModelPath;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.OutputPath;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.router.lora.LoraConfig;
import dev.buddy.router.lora.LoraTarget;
import dev.buddy.router.train.PriorKind;
import dev.buddy.router.train.RouterInit;
import dev.buddy.router.train.TrainConfig;
import dev.buddy.router.train.TrainRouterCommand;

/** {@code buddy train-router}: trains one BUDDY router for every budget, on the CPU, with the base model frozen. */
public final class TrainRouterCliCommand implements Command {
    private static final CommandSpec SPEC = new CommandSpec("train-router",
            "train a BUDDY router (decision module) for a model; the base model stays frozen and quantised",
            """
            Next-token cross-entropy on the data's response tokens (SFT), each example with its own random budget from
            --budgets (full depth included). Forward with the hard top-k mask, backward through a straight-through
            relaxation of the scores. AdamW with warm-up. A checkpoint is written atomically beside the output; --resume
            continues it, and a fixed --seed gives a bit-identical run. Data: an Alpaca .json array, .jsonl, or plain
            text. Progress (loss, tokens/s, ETA) goes to stderr. With --lora R the adapters are written beside the
            router: -o stories.router.gguf also writes stories.router.lora.gguf.""",
            List.of(),
            List.of(OptionSpec.value("-m", "--model", "FILE", "the base GGUF model", null),
                    OptionSpec.value(null, "--data", "FILE", "training data (.json Alpaca, .jsonl, or text)", null),
                    OptionSpec.value("-o", "--output", "FILE", "the router file to write", null),
                    OptionSpec.value(null, "--budgets", "LIST", "training budgets", "0.5,0.625,0.75,0.875,1.0"),
                    OptionSpec.value(null, "--steps", "N", "optimiser steps", "1000"),
                    OptionSpec.value(null, "--lr", "X", "peak learning rate (the paper's 1e-4); 0 freezes the router so only"
                            + " --lora adapters train (a static plan's LoRA baseline with --init prior)", "1e-4"),
                    OptionSpec.value(null, "--warmup", "N", "warm-up steps (the paper's 100)", "100"),
                    OptionSpec.value(null, "--batch", "N", "examples per step (the paper's 8)", "8"),
                    OptionSpec.value(null, "--seed", "N", "run seed", "42"),
                    OptionSpec.value(null, "--max-tokens", "N", "longest example in tokens; longer ones are cut", "256"),
                    OptionSpec.value(null, "--prior", "KIND",
                            "per-block prior: taylor, dppl, cosine, none, or a file from buddy prior",
                            "taylor"),
                    OptionSpec.value(null, "--prior-data", "FILE",
                            "calibration text for the prior (default: the training data)", null),
                    OptionSpec.value(null, "--prior-sequences", "N", "calibration sequences for the prior", "64"),
                    OptionSpec.value(null, "--init", "KIND",
                            "router start: random (PyTorch default) or prior (output layer zero, so the untrained"
                            + " router routes as the prior alone)", "random"),
                    OptionSpec.value(null, "--val", "FILE",
                            "held-out text: score the router on it every --val-every steps at each training budget"
                            + " below 1 and keep the best (geometric-mean perplexity) in OUTPUT.best.gguf", null),
                    OptionSpec.value(null, "--val-every", "N", "steps between held-out scorings", "10"),
                    OptionSpec.value(null, "--val-tokens", "N",
                            "held-out tokens (the text's first N, in windows of --max-tokens)", "1024"),
                    OptionSpec.value(null, "--secant", "N",
                            "measure instead of estimate: the N running and N skipped blocks nearest the top-k cut"
                            + " get the loss change of switching each one (one extra partial forward pass each) as"
                            + " their gate gradient, and only they move; 0 uses the analytic slope for every block",
                            "0"),
                    OptionSpec.value(null, "--checkpoint-every", "N",
                            "write the checkpoint and router every N steps (0: only at the end)",
                            Integer.toString(TrainConfig.defaults(1).checkpointEvery())),
                    OptionSpec.flag(null, "--resume", "continue from the checkpoint beside --output"),
                    OptionSpec.value(null, "--lora", "R",
                            "also train rank-R LoRA adapters on the frozen model (written beside --output as"
                            + " NAME.lora.gguf; apply with generate/chat --lora)", null),
                    OptionSpec.value(null, "--lora-alpha", "A", "LoRA alpha; the update is scaled by alpha/R"
                            + " (default 2R)", null),
                    OptionSpec.value(null, "--lora-targets", "LIST",
                            "projections to adapt: q,k,v,o,gate,up,down, attn, ffn or all", "all"),
                    OptionSpec.value(null, "--lora-lr", "X", "the adapters' peak learning rate (default --lr)", null),
                    OptionSpec.value("-t", "--threads", "N", "worker threads",
                            Integer.toString(Runtime.getRuntime().availableProcessors()))),
            List.of("buddy train-router -m ../shared/models/stories260K.gguf"
                    + " --data ../shared/datasets/tinystories/tinystories-valid-sample.txt --steps 300"
                    + " -o stories.router.gguf",
                    "buddy train-router -m ../shared/models/stories260K.gguf"
                    + " --data ../shared/datasets/tinystories/tinystories-valid-sample.txt --steps 300 --lora 8"
                    + " -o stories.router.gguf"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        Path model = ModelPath.check("-m", args.requiredPath("--model", "--model"));
        Path data = args.requiredPath("--data", "--data");
        Path output = OutputPath.file("-o", args.requiredPath("--output", "--output"), model);
        Path priorData = args.string("--prior-data") == null ? null : args.path("prior data", args.string("--prior-data"));
        TrainRouterCommand.Options d = TrainRouterCommand.Options.defaults(model, data, output);
        Path validation = args.string("--val") == null ? null : args.path("validation text", args.string("--val"));
        if (validation != null && InputFile.problem(validation, "a text file") != null) {
            throw new UsageException("--val " + validation + " " + InputFile.problem(validation, "a text file"));
        }
        checkPrior(args);
        TrainRouterCommand.Options options = new TrainRouterCommand.Options(model, data, output,
                BudgetList.parse("--budgets", args.string("--budgets"), true, ""),
                args.intValue("--steps", 1, 10_000_000),
                args.floatValue("--lr", 0f, 1f), args.intValue("--warmup", 0, 10_000_000),
                args.intValue("--batch", 1, 4096), args.longValue("--seed"), args.flag("--resume"),
                args.intValue("--max-tokens", 2, 1 << 20), args.intValue("--threads", 1, 1024), d.relaxation(),
                args.string("--prior"), priorData, args.intValue("--prior-sequences", 1, 1 << 20),
                args.intValue("--checkpoint-every", 0, 10_000_000), init(args.string("--init")), validation,
                args.intValue("--val-every", 1, 10_000_000), args.intValue("--val-tokens", 2, 1 << 24),
                args.intValue("--secant", 0, 1 << 16));
        TrainRouterCommand.run(options, lora(args), io.out(), io.err());
        return Cli.EXIT_OK;
    }

    /** The --lora settings, or null without --lora. */
    private static LoraConfig lora(ParsedArgs args) {
        if (args.string("--lora") == null) {
            if (args.string("--lora-alpha") != null || args.string("--lora-lr") != null) {
                throw new UsageException("--lora-alpha and --lora-lr need --lora R");
            }
            return null;
        }
        int rank = args.intValue("--lora", 1, 4096);
        float alpha = args.string("--lora-alpha") == null ? 2f * rank : args.floatValue("--lora-alpha", 0f, 1e6f);
        double lr = args.string("--lora-lr") == null ? Double.NaN : args.floatValue("--lora-lr", 0f, 1f);
        return new LoraConfig(rank, alpha, LoraTarget.parse(args.string("--lora-targets")), lr);
    }

    /**
     * --prior is a prior file or a kind to measure; a value that is neither fails here, not after the model has
     * loaded (as the trainer's own check would).
     */
    private static void checkPrior(ParsedArgs args) {
        String prior = args.string("--prior");
        if (prior.equalsIgnoreCase("none") || Files.isRegularFile(args.path("prior", prior))) {
            return;
        }
        try {
            PriorKind.fromName(prior);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--prior " + prior + ": "
                    + (Files.isDirectory(Path.of(prior)) ? "a directory, not a prior file" : "no such file")
                    + ", and not one of taylor, dppl, cosine, none");
        }
    }

    private static RouterInit init(String name) {
        try {
            return RouterInit.fromName(name);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
