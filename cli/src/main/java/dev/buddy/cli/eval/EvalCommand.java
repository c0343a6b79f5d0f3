package dev.buddy.cli.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.DataRoot;
import dev.buddy.cli.Io;
import dev.buddy.cli.ModelPath;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.OutputPath;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.router.eval.EvalOptions;
import dev.buddy.router.eval.Evaluation;
import dev.buddy.router.eval.RoutingMode;

/**
 * {@code buddy eval}: accuracy on the lm-evaluation-harness multiple-choice tasks and perplexity, for the dense model
 * and for every router or static plan at every budget, with Markdown/CSV/JSON reports and an accuracy–compute plot.
 */
public final class EvalCommand implements Command {
    private static final CommandSpec SPEC = new CommandSpec("eval",
            "measure accuracy and perplexity, dense and under routers or pruning plans at several budgets",
            """
            Scores the multiple-choice tasks the way lm-evaluation-harness does (log-likelihood of each choice after
            the context: acc and acc_norm; WinoGrande partial scoring; BoolQ as yes/no) and perplexity with a sliding
            window, for the dense model and for each --router file at each budget. Writes results.md, results.csv,
            results.json, summary.json and accuracy_compute.svg/.png into the output folder. Routing is causal and
            per token, as in generation (--routing prefill holds the context's route, the paper's mode).
            Every finished task and text is kept in the output folder's checkpoint.json as the run goes, so a long
            run that is stopped goes on where it stopped with the same command and --resume.""",
            List.of(),
            List.of(OptionSpec.value("-m", "--model", "FILE", "the GGUF model", null),
                    dev.buddy.cli.run.LoraOption.spec(),
                    OptionSpec.value(null, "--router", "FILES",
                            "comma-separated router or static-plan files ('random': an untrained one; none: dense only)",
                            ""),
                    OptionSpec.value(null, "--budgets", "LIST",
                            "comma-separated budgets (fractions, dropN, or auto for the router's budget predictor)",
                            "0.875,0.75,0.625,0.5"),
                    OptionSpec.value(null, "--tasks", "LIST",
                            "arc_easy,arc_challenge,piqa,hellaswag,winogrande,boolq,openbookqa,siqa,mmlu; 'paper' ="
                                    + " the paper's 8; 'none'", "paper"),
                    OptionSpec.value(null, "--ppl", "LIST", "perplexity texts: wikitext2, tinystories, or none",
                            "wikitext2"),
                    OptionSpec.value(null, "--limit", "N", "the first N examples of each task (0 = all)", "0"),
                    OptionSpec.value(null, "--ppl-tokens", "N", "the first N tokens of each perplexity text (0 = all)",
                            "0"),
                    OptionSpec.value(null, "--routing", "MODE", "per-token (reroute each token) or prefill",
                            "per-token"),
                    OptionSpec.value(null, "--kv-policy", "POLICY", "zeros, mask or compute-kv", "zeros"),
                    OptionSpec.value(null, "--kv-type", "TYPE", "f16 or f32", "f16"),
                    OptionSpec.flag(null, "--no-dense", "skip the dense baseline"),
                    OptionSpec.value("-t", "--threads", "N", "worker threads (0 = all processors)", "0"),
                    OptionSpec.value("-np", "--parallel", "N",
                            "examples scored at once, each with its own state and threads/N kernel threads (at"
                                    + " least 1); the same results, faster on small models, where one example cannot"
                                    + " keep every core busy", "1"),
                    OptionSpec.value("-o", "--output", "DIR", "where the reports go", "eval-results"),
                    OptionSpec.flag(null, "--resume",
                            "go on from the checkpoint an interrupted run left in the output folder: tasks and texts"
                                    + " it finished are taken from there, not scored again (the model and the"
                                    + " options that change scores must be the same; tasks, budgets and routers may"
                                    + " be added)"),
                    OptionSpec.value(null, "--datasets", "DIR",
                            "the datasets folder (default: datasets under $BUDDY_DATA, $BUDDY_TEST_DATA or the checkout's ../shared)", null)),
            List.of("buddy eval -m ../shared/models/stories260K.gguf --tasks none --ppl tinystories --ppl-tokens 2000",
                    "buddy eval -m smollm2.gguf --router buddy.router.gguf,shortgpt.plan.gguf --limit 200 -o results",
                    "buddy eval -m smollm2.gguf --router buddy.router.gguf --tasks paper -np 2 -o full --resume"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        Path model = ModelPath.of(args);
        if (model == null) {
            throw new UsageException("missing -m MODEL.gguf (see 'buddy eval --help')");
        }
        List<Path> routers = new ArrayList<>();
        for (String r : args.string("--router").split(",")) {
            // 'none', as --help says, evaluates the dense model alone (as an empty list does).
            if (!r.isBlank() && !r.strip().equalsIgnoreCase("none")) {
                routers.add(args.path("router", r.strip()));
            }
        }
        int limit = args.intValue("--limit", 0, Integer.MAX_VALUE);
        int pplTokens = args.intValue("--ppl-tokens", 0, Integer.MAX_VALUE);
        Path output = OutputPath.directory("-o", args.path("output", args.string("--output")));
        EvalOptions options = EvalOptions.builder(model, output, datasets(args))
                .routers(routers)
                .budgets(EvalOptions.parseBudgets(args.string("--budgets")))
                .autoBudget(EvalOptions.parseAuto(args.string("--budgets")))
                .tasks(EvalOptions.parseTasks(args.string("--tasks")))
                .perplexity(EvalOptions.parsePerplexity(args.string("--ppl")))
                .limit(limit == 0 ? Integer.MAX_VALUE : limit)
                .pplLimitTokens(pplTokens == 0 ? Integer.MAX_VALUE : pplTokens)
                .routingMode(RoutingMode.parse(args.string("--routing")))
                .skippedKv(dev.buddy.cli.run.RoutingOptions.policy(args.string("--kv-policy")))
                .kvCacheType(dev.buddy.cli.run.RunOptions.kvType(args.string("--kv-type")))
                .dense(!args.flag("--no-dense"))
                .threads(args.intValue("--threads", 0, 1024))
                .parallel(args.intValue("--parallel", 1, 256))
                .resume(args.flag("--resume"))
                .build();
        String lora = args.string(dev.buddy.cli.run.LoraOption.NAME);
        Evaluation.run(options, io.err(), lora == null ? null : args.path("LoRA adapter", lora));
        io.err().println("reports written to " + options.outputDir().toAbsolutePath());
        return Cli.EXIT_OK;
    }

    private static Path datasets(ParsedArgs args) {
        String explicit = args.string("--datasets");
        if (explicit != null) {
            return args.path("datasets", explicit);
        }
        return DataRoot.get().resolve("datasets");
    }
}
