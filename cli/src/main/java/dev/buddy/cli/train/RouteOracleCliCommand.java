package dev.buddy.cli.train;

import java.nio.file.Path;
import java.util.Arrays;
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
import dev.buddy.cli.run.RoutingOptions;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.router.train.RouteOracle;

/** {@code buddy route-oracle}: is there per-example headroom for routing near a route, and does the input see it? */
public final class RouteOracleCliCommand implements Command {
    private static final CommandSpec SPEC = new CommandSpec("route-oracle",
            "measure whether choosing a route per example could beat one route at a budget (no training)",
            """
            For each example (Alpaca instruction and input as the prompt, the response scored; or documents of a text
            file, all scored), the response's mean cross-entropy under the router's or static plan's route at
            --budget and under every route one swap away: one of the --near weakest running middle blocks off and
            one of the --near strongest skipped ones on (by the router's fused scores or the plan's ranking). Then,
            two-fold (each half of the examples chooses for the other half), it compares: the route as given; the
            best single route (what a static plan can do); for each example the route its --neighbours nearest
            examples of the other half do best with, by cosine of the router's own input (the layer-0 cache rows,
            mean-pooled over the prompt, or a whole text document) and by cosine of the last hidden state (a far
            richer input than any router reads); each example's own best route (the oracle, an upper bound for
            routing among these routes); and each example's best route on its odd scored tokens scored on its even
            ones and back (the oracle without the luck of choosing on the tokens it is scored on). Differences are
            paired against the best single route, with standard errors. The split-half agreement line gives, per
            swap, the correlation over examples of its change on the odd and on the even tokens: near 0, an
            example's best route is the luck of its tokens. A dynamic router routes each example from its whole
            sequence, as in training. Each swap re-runs the model from its lower block only.
            Then the same per token, the headroom BUDDY's every-step routing is for: each scored token of one half
            gets the route its --token-neighbours nearest tokens of the other half do best with, by cosine of its
            own layer-0 value row, of the layer-0 rows pooled up to it, or of the plan's last hidden state there;
            and each token's own best route (the token oracle). Each token's cross-entropy under a route is measured
            with the tokens before it on that route too. The last two columns give the share of tokens routed off
            the best single route and how often the route changes between consecutive tokens. Each per-token
            choice is then also run causally, one pass per example with every token on its own route, what a token
            that skipped a block leaves for later ones there as --kv-policy says (zeros, the default of generate
            and eval, or compute-kv); --no-causal leaves that out.
            The row "BUDDY block scores" fits the paper's Decision Module itself (width 32, one score per block
            fused with the prior, top k) with last pooling to the other half's per-token losses: its chosen route is
            the candidate whose swap scores highest. --save-router FILE fits that router on every token of every
            --budget given (a list such as 0.875,0.75,0.625,0.5 measures each in turn) and writes it, a router
            file for generate and eval that routes every token on its own layer-0 row; -r must then be a prior
            file, whose plan and prior it starts from. --token-data FILE keeps every budget's per-token fitting
            data, and --fit-from FILE[,FILE...] fits --save-router from such files (one per budget, say) without
            measuring (no --data or --budget then), so a router can be refitted in minutes instead of the hour the
            measurement takes on SmolLM2.
            --table FILE keeps every example's cross-entropy and --token-table FILE every token's (tab-separated,
            written atomically; one --budget only).""",
            List.of(),
            List.of(OptionSpec.value("-m", "--model", "FILE", "the base GGUF model", null),
                    OptionSpec.value("-r", "--router", "FILE", "a BUDDY router, prior file or static plan", null),
                    OptionSpec.value(null, "--data", "FILE", "examples (.json Alpaca, .jsonl, or text)", null),
                    OptionSpec.value(null, "--budget", "B", "fraction of blocks to run, in (0,1); a list measures each",
                            null),
                    OptionSpec.value(null, "--examples", "N", "examples with a scored response to measure", "100"),
                    OptionSpec.value(null, "--skip", "N", "data examples to pass over first (e.g. those trained on)",
                            "0"),
                    OptionSpec.value(null, "--near", "N", "running and skipped blocks next to the cut to swap", "4"),
                    OptionSpec.value(null, "--neighbours", "LIST", "neighbour counts to report", "1,5,25"),
                    OptionSpec.value(null, "--token-neighbours", "LIST",
                            "neighbour counts of the per-token report ('none' leaves it out)", "5,25,100"),
                    OptionSpec.value(null, "--max-tokens", "N", "longest example in tokens; longer ones are cut",
                            "256"),
                    OptionSpec.value(null, "--table", "FILE", "also write every cross-entropy here (TSV)", null),
                    OptionSpec.flag(null, "--no-causal", "skip the causal pass of each per-token choice"),
                    OptionSpec.value(null, "--kv-policy", "POLICY", "a skipped block's keys and values in the causal"
                            + " passes: zeros or compute-kv", "zeros"),
                    OptionSpec.value(null, "--token-table", "FILE", "also write every token's cross-entropy here"
                            + " (TSV)", null),
                    OptionSpec.value(null, "--save-router", "FILE", "fit a per-token BUDDY router on every budget's"
                            + " tokens and write it here", null),
                    OptionSpec.value(null, "--token-data", "FILE", "also keep the per-token fitting data here"
                            + " (binary)", null),
                    OptionSpec.value(null, "--fit-from", "LIST", "fit --save-router from --token-data files kept"
                            + " earlier (comma-separated), measuring nothing", null),
                    OptionSpec.value("-t", "--threads", "N", "worker threads",
                            Integer.toString(Runtime.getRuntime().availableProcessors()))),
            List.of("buddy route-oracle -m SmolLM2-135M-Instruct.Q4_1.gguf"
                    + " -r results/routers/smollm2-135m-instruct-q4_1.swap.prior.gguf"
                    + " --data ../shared/datasets/alpaca/alpaca_5000.json --skip 1000 --examples 200 --budget 0.5"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        Path model = ModelPath.check("-m", args.requiredPath("--model", "-m MODEL.gguf"));
        Path router = input(args, args.requiredPath("--router", "-r ROUTER.gguf"), "-r", "a router file");
        List<Path> fitFrom = null;
        if (args.has("--fit-from")) {
            fitFrom = new java.util.ArrayList<>();
            for (String file : args.string("--fit-from").split(",", -1)) {
                fitFrom.add(input(args, args.path("fit-from", file.strip()), "--fit-from", "a token data file"));
            }
        }
        Path data = fitFrom != null ? null
                : input(args, args.requiredPath("--data", "--data FILE"), "--data", "a data file");
        if (args.string("--budget") == null && fitFrom == null) {
            throw new UsageException("missing --budget B (see 'buddy route-oracle --help')");
        }
        double[] budgets = fitFrom != null ? new double[0]
                : BudgetList.parse("--budget", args.string("--budget"), false,
                        "at 1 every block runs and there is no route to swap");
        Path table = output(args, "--table", model);
        Path tokenTable = output(args, "--token-table", model);
        String tokenList = args.string("--token-neighbours");
        int[] tokenNeighbours = tokenList.strip().equals("none") ? new int[0]
                : neighbours("--token-neighbours", tokenList);
        RouteOracle.run(model, router, data, new RouteOracle.Options(args.intValue("--skip", 0, 100_000_000),
                args.intValue("--examples", 2, 1_000_000), budgets, args.intValue("--near", 1, 1024),
                neighbours("--neighbours", args.string("--neighbours")), tokenNeighbours,
                args.intValue("--max-tokens", 2, 1 << 20), args.intValue("--threads", 1, 1024), table, tokenTable,
                !args.flag("--no-causal"), kvPolicy(args.string("--kv-policy")), output(args, "--save-router", model),
                output(args, "--token-data", model), fitFrom),
                io.out(), io.err());
        return Cli.EXIT_OK;
    }


    /** --kv-policy as generate and eval read it, less mask, which a causal pass does not implement. */
    private static SkippedKvPolicy kvPolicy(String text) {
        SkippedKvPolicy policy = RoutingOptions.policy(text);
        if (policy == SkippedKvPolicy.MASK) {
            throw new UsageException("invalid --kv-policy '" + text + "': the causal passes implement zeros or"
                    + " compute-kv (see 'buddy route-oracle --help')");
        }
        return policy;
    }

    private static Path output(ParsedArgs args, String option, Path model) {
        return args.has(option) ? OutputPath.file(option, args.path(option.substring(2), args.string(option)), model)
                : null;
    }

    private static Path input(ParsedArgs args, Path path, String option, String what) {
        String problem = InputFile.problem(path, what);
        if (problem != null) {
            throw new UsageException(option + " " + path + " " + problem);
        }
        return path;
    }

    /** A comma-separated list of positive counts. */
    static int[] neighbours(String option, String text) {
        try {
            int[] values = Arrays.stream(text.split(",", -1)).mapToInt(s -> Integer.parseInt(s.strip())).toArray();
            if (values.length > 0 && Arrays.stream(values).allMatch(v -> v >= 1)) {
                return values;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("invalid " + option + " '" + text + "': expected comma-separated integers of at least"
                + " 1 (see 'buddy route-oracle --help')");
    }
}
