package dev.buddy.cli.train;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.List;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.Io;
import dev.buddy.cli.ModelPath;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.OutputPath;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.router.train.PredictorConfig;
import dev.buddy.router.train.TrainPredictorCommand;

/** {@code buddy train-predictor}: GRPO for a router's Budget Predictor, base model and Decision Module frozen. */
public final class TrainPredictorCliCommand implements Command {
    private static final CommandSpec SPEC = new CommandSpec("train-predictor",
            "train a router's budget predictor (GRPO) so that --budget auto picks a budget per prompt",
            """
            The paper's GRPO (section 4.4): per prompt (Alpaca instruction and input; the response is the target),
            sample a group of k ~ pi(k | layer-0 V features of the prompt), run the frozen model teacher-forced under
            the router's top-k mask for b = (k+2)/L, reward r = -lambda_perf*CE - lambda_cost*b, advantage
            (r - mean)/(std + eps) within the group, loss -mean(A*log pi(k)) - beta*H(pi); Adam. The output is a copy
            of the router with the predictor added. A checkpoint is written atomically beside the output; --resume
            continues it, and a fixed --seed gives a bit-identical run. Progress (loss, reward, tokens/s, ETA) goes
            to stderr. beta (not given in the paper) defaults to 0.01.

            Full information instead of GRPO, in two steps: --oracle N --table T.tsv scores every budget on the
            first N prompts once (minutes per prompt's L-2 passes; T.tsv keeps the cross-entropies, is rewritten
            after every prompt, and a rerun continues it); then --from-table T.tsv --hold-out M -o OUT fits the
            predictor to each prompt's softmax(reward / temperature) over all budgets by cross-entropy (the optimum
            of the expected reward plus temperature * entropy; no sampling, full batch, only block 0 runs; --steps
            and --lr apply, e.g. --steps 300 --lr 1e-2) and reports it on the M held-out prompts against the best single
            budget and each prompt's own best.""",
            List.of(),
            List.of(OptionSpec.value("-m", "--model", "FILE", "the base GGUF model", null),
                    OptionSpec.value("-r", "--router", "FILE", "the BUDDY router whose predictor to train", null),
                    OptionSpec.value(null, "--data", "FILE", "training data (.json Alpaca, .jsonl, or text)", null),
                    OptionSpec.value("-o", "--output", "FILE", "the router file to write (router + predictor)", null),
                    OptionSpec.value(null, "--steps", "N", "optimiser steps (the paper's 10000)", "1000"),
                    OptionSpec.value(null, "--lr", "X", "Adam learning rate (the paper's 1e-5)", "1e-5"),
                    OptionSpec.value(null, "--batch", "N", "prompts per step (the paper's 2)", "2"),
                    OptionSpec.value(null, "--group", "N", "actions sampled per prompt (the paper's 4)", "4"),
                    OptionSpec.value(null, "--lambda-perf", "X", "reward weight of the cross-entropy", "5.0"),
                    OptionSpec.value(null, "--lambda-cost", "X", "reward weight of the budget b", "0.05"),
                    OptionSpec.value(null, "--beta", "X", "entropy bonus (not in the paper; ours)", "0.01"),
                    OptionSpec.value(null, "--seed", "N", "run seed", "42"),
                    OptionSpec.value(null, "--max-tokens", "N", "longest example in tokens; longer ones are cut",
                            "256"),
                    OptionSpec.value(null, "--checkpoint-every", "N", "checkpoint interval in steps (0: at the end)",
                            "100"),
                    OptionSpec.flag(null, "--resume", "continue from the checkpoint beside --output"),
                    OptionSpec.value(null, "--oracle", "N", "no training: score every budget on the first N prompts"
                            + " and report each one's best against the best single budget (needs no -o)", null),
                    OptionSpec.value(null, "--table", "FILE", "with --oracle: keep every budget's cross-entropy per"
                            + " prompt in FILE (continued if it exists); train on it with --from-table", null),
                    OptionSpec.value(null, "--from-table", "FILE", "instead of GRPO: train on a --table FILE with every"
                            + " budget's reward known (fits softmax(reward / --temperature); no model passes)", null),
                    OptionSpec.value(null, "--hold-out", "N", "with --from-table: keep the table's last N prompts"
                            + " out of training and report the predictor on them", "0"),
                    OptionSpec.value(null, "--temperature", "X", "with --from-table: each prompt's target is"
                            + " softmax(reward / X) over the budgets (small X: its best budget only)", "1.0"),
                    OptionSpec.value("-t", "--threads", "N", "worker threads",
                            Integer.toString(Runtime.getRuntime().availableProcessors()))),
            List.of("buddy train-predictor -m SmolLM2-135M-Instruct.Q4_1.gguf -r smollm2.router.gguf"
                    + " --data alpaca_5000.json --steps 500 -o smollm2.router+predictor.gguf",
                    "buddy train-predictor -m SmolLM2-135M-Instruct.Q4_1.gguf -r smollm2.router.gguf"
                    + " --data alpaca_5000.json --oracle 240 --table smollm2.table.tsv --lambda-cost 30",
                    "buddy train-predictor -m SmolLM2-135M-Instruct.Q4_1.gguf -r smollm2.router.gguf"
                    + " --data alpaca_5000.json --from-table smollm2.table.tsv --hold-out 60 --lambda-cost 30"
                    + " --steps 500 --lr 1e-2 -o smollm2.router+predictor.gguf"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        Path model = ModelPath.check("-m", args.requiredPath("--model", "-m MODEL.gguf"));
        Path router = args.requiredPath("--router", "-r ROUTER.gguf");
        Path data = args.requiredPath("--data", "--data FILE");
        boolean oracle = args.string("--oracle") != null;
        boolean fromTable = args.string("--from-table") != null;
        rejectMisplaced(args, oracle, fromTable);
        Path output = oracle ? null : OutputPath.file("-o", args.requiredPath("--output", "-o OUTPUT.gguf"), model);
        PredictorConfig config = new PredictorConfig(args.intValue("--steps", 1, 100_000_000),
                real(args, "--lr", 0, 1), args.intValue("--batch", 1, 4096), args.intValue("--group", 2, 1024),
                real(args, "--lambda-perf", 0, 1e6), real(args, "--lambda-cost", 0, 1e6), real(args, "--beta", 0, 1e6),
                PredictorConfig.defaults(1).advantageEps(), PredictorConfig.defaults(1).hiddenDim(),
                args.longValue("--seed"), args.intValue("--max-tokens", 2, 1 << 20),
                args.intValue("--checkpoint-every", 0, 100_000_000), args.intValue("--threads", 1, 1024));
        if (fromTable) {
            TrainPredictorCommand.fromTable(model, router, data, args.path("from-table", args.string("--from-table")),
                    args.intValue("--hold-out", 0, 100_000_000), real(args, "--temperature", 1e-6, 1e6), config,
                    output, io.out(), io.err());
            return Cli.EXIT_OK;
        }
        if (oracle) {
            String table = args.string("--table");
            TrainPredictorCommand.oracle(model, router, data, config, args.intValue("--oracle", 1, 1_000_000),
                    table == null ? null : OutputPath.file("--table", args.path("table", table)), io.out(), io.err());
            return Cli.EXIT_OK;
        }
        TrainPredictorCommand.run(new TrainPredictorCommand.Options(model, router, data, output, config,
                args.flag("--resume")), io.out(), io.err());
        return Cli.EXIT_OK;
    }

    /** Options that do not apply to the chosen mode are an error, not silently ignored. */
    private static void rejectMisplaced(ParsedArgs args, boolean oracle, boolean fromTable) {
        if (oracle && fromTable) {
            throw new UsageException("--oracle measures a table and --from-table trains on one; give one of them");
        }
        if (args.has("--table") && !oracle) {
            throw new UsageException("--table applies only with --oracle N (to train on a table: --from-table "
                    + args.string("--table") + ")");
        }
        for (String option : new String[] {"--hold-out", "--temperature"}) {
            if (args.has(option) && !fromTable) {
                throw new UsageException(option + " applies only with --from-table FILE");
            }
        }
        if (oracle && args.has("--output")) {
            throw new UsageException("--oracle writes no router, so -o " + args.string("--output")
                    + " does not apply (keep the scores with --table FILE)");
        }
        if (args.flag("--resume") && (oracle || fromTable)) {
            throw new UsageException("--resume continues GRPO training; it does not apply with "
                    + (oracle ? "--oracle" : "--from-table"));
        }
    }


    /** A bound as people write it: 0, 1, 1000000, 0.000001 (not 0.0, 1.0E6 or 1.0E-6). */
    private static String plain(double v) {
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /**
     * A real in [min, max] (--lr: above min), parsed as a double so 1e-5 stays exactly the decimal the user wrote.
     */
    private static double real(ParsedArgs args, String option, double min, double max) {
        String text = args.string(option);
        double v;
        try {
            v = Double.parseDouble(text.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("invalid " + option + " '" + text + "': expected a number");
        }
        boolean aboveMin = option.equals("--lr"); // a zero learning rate trains nothing
        if (!(aboveMin ? v > min : v >= min) || !(v <= max)) {
            throw new UsageException("invalid " + option + " '" + text + "': expected a number "
                    + (aboveMin ? "in (" + plain(min) + ", " + plain(max) + "]"
                            : "from " + plain(min) + " to " + plain(max)));
        }
        return v;
    }
}
