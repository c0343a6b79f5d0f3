package dev.buddy.cli.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.Io;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.OutputPath;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.PositionalSpec;
import dev.buddy.cli.UsageException;
import dev.buddy.router.eval.EvalReport;
import dev.buddy.router.eval.SummaryMerge;

/**
 * {@code buddy eval-merge}: one report from the {@code summary.json} files of several {@code buddy eval} runs of one
 * model, so routers, routing modes or KV policies evaluated in separate processes can be compared side by side.
 */
public final class EvalMergeCommand implements Command {
    private static final CommandSpec SPEC = new CommandSpec("eval-merge",
            "combine the summary.json files of several eval runs into one report and plot",
            """
            Reads the summary.json that each 'buddy eval' run wrote (all for the same model) and merges their methods
            and budgets; when two files hold the same method at the same budget, each score the later file measured
            wins (noted on stderr and in results.md) and one it did not measure keeps the earlier value, so an
            accuracy-only and a perplexity-only run of one router combine. Append :OLD=NEW to a file to rename one of its methods first, so the same
            router evaluated under another setting appears as its own method (several: :a=b,c=d). Writes
            summary.json (same shape), results.md (methods × budgets, then accuracy per task) and
            accuracy_compute.svg/.png (one line per method, dense as the reference) into the output folder.""",
            List.of(new PositionalSpec("SUMMARY.json[:OLD=NEW]...",
                    "summary.json files of buddy eval runs, merged in order (later wins)")),
            List.of(OptionSpec.value("-o", "--output", "DIR", "where the merged reports go", null)),
            List.of("buddy eval-merge -o merged per-token/summary.json prefill/summary.json:buddy=buddy-prefill",
                    "buddy eval-merge -o kv dense/summary.json zeros/summary.json:buddy=buddy-zeros"
                            + " mask/summary.json:buddy=buddy-mask"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        String output = args.string("--output");
        if (output == null) {
            throw new UsageException("missing -o DIR, the folder for the merged reports (see 'buddy eval-merge"
                    + " --help')");
        }
        Path outputDir = OutputPath.directory("-o", args.path("output", output));
        if (args.positionals().isEmpty()) {
            throw new UsageException("no summary.json files to merge (see 'buddy eval-merge --help')");
        }
        List<SummaryMerge.Input> inputs = new ArrayList<>();
        for (String argument : args.positionals()) {
            args.path("summary", argument); // a malformed path is a usage error, before the rename is split off
            inputs.add(SummaryMerge.Input.parse(argument));
        }
        SummaryMerge merge = SummaryMerge.merge(inputs);
        for (SummaryMerge.Replacement r : merge.replacements()) {
            io.err().println("note: " + r.method() + " @ " + r.budget() + " from " + r.replaced()
                    + " is replaced by " + r.by());
        }
        EvalReport.Written written = merge.writeAll(outputDir);
        for (Path p : written.files()) {
            io.out().println("wrote " + p);
        }
        if (written.pngProblem() != null) {
            io.err().println("note: no PNG plot (" + written.pngProblem() + "); the SVG has the same plot");
        }
        if (!written.files().stream().anyMatch(p -> p.endsWith(EvalReport.PLOT_SVG))) {
            io.err().println("note: no accuracy was measured in these files (eval --tasks none), so no plot");
        }
        return Cli.EXIT_OK;
    }
}
