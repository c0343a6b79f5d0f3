package dev.buddy.cli.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.DataRoot;
import dev.buddy.cli.InputFile;
import dev.buddy.cli.Io;
import dev.buddy.cli.ModelPath;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.OutputPath;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.router.train.PriorCommand;
import dev.buddy.router.train.PriorKind;

/** {@code buddy prior}: BUDDY's offline per-block prior (Taylor, ΔPPL or cosine) on calibration text. */
public final class PriorCliCommand implements Command {
    static final String WIKITEXT_RELATIVE = "datasets/wikitext/wikitext-2-raw/wiki.test.raw";

    private static final CommandSpec SPEC = new CommandSpec("prior",
            "measure BUDDY's per-block prior (taylor, ppl, cosine or sleb) and write it as a prior file",
            """
            Runs the model over the first N tokens of the calibration text in independent windows and scores every
            middle block: taylor (the paper's default: |dL/dm| of the block's residual gate at full depth), ppl
            (perplexity increase with the block removed), cosine (1 - cos of the block's input and output) or sleb
            (SLEB's greedy removal order as a ranking: removed first = least important, never-removed blocks above
            all removed ones, ordered by their ppl increase; --max-drop sets the search depth, --sleb-plan reuses the
            order of a 'buddy prune --method sleb' plan made on the same calibration; with --init prior the untrained
            router then routes exactly SLEB's plan at every budget the search covered). The scores go through the
            paper's normalisation (log1p, except for cosine and sleb; robust z by median/IQR, rank to (0,1),
            standardise).
            Prints the table with a bar plot and writes a router-format file (atomically) holding the prior and the
            ranking: 'train-router --prior FILE' reuses the prior, and 'eval --router FILE' runs it as the
            prior-only static baseline. --calib wikitext-2 is datasets/wikitext/wikitext-2-raw/wiki.test.raw under
            $BUDDY_DATA, else $BUDDY_TEST_DATA, else the shared folder beside this checkout (../shared).
            --from FILE --removal-order LIST re-ranks an existing prior instead of measuring one: the listed middle
            blocks become the least important, first listed first, the others keep their order above them, and
            nothing runs over calibration text (p̃ depends on the order alone, so it keeps the base's values).
            With --init prior the router then starts at a plan that removes the listed blocks first, e.g. one
            static plan's set at a high budget and another's below it.""",
            List.of(),
            List.of(OptionSpec.value("-m", "--model", "FILE", "the base GGUF model", null),
                    OptionSpec.value(null, "--calib", "TEXT", "wikitext-2 or a UTF-8 text file", "wikitext-2"),
                    OptionSpec.value(null, "--method", "NAME", "taylor, ppl, cosine or sleb", "taylor"),
                    OptionSpec.value(null, "--calib-tokens", "N", "calibration tokens (the text's first N)", "4096"),
                    OptionSpec.value(null, "--window", "N", "tokens per independent window", "256"),
                    OptionSpec.value(null, "--max-drop", "N", "sleb: blocks the search removes (a number or all)",
                            "all"),
                    OptionSpec.value(null, "--sleb-plan", "FILE", "sleb: reuse this SLEB plan's removal order", null),
                    OptionSpec.value(null, "--from", "FILE", "re-rank the prior of this prior or router file", null),
                    OptionSpec.value(null, "--removal-order", "LIST",
                            "with --from: middle blocks to rank lowest, removed first first (e.g. 12,14,17,13)",
                            null),
                    OptionSpec.value("-o", "--output", "FILE", "the prior file to write (a router GGUF)", null),
                    OptionSpec.value("-t", "--threads", "N", "worker threads",
                            Integer.toString(Runtime.getRuntime().availableProcessors()))),
            List.of("buddy prior -m SmolLM2-135M-Instruct.Q4_1.gguf --calib wikitext-2 --method taylor"
                    + " -o smollm2.prior.gguf",
                    "buddy prior -m SmolLM2-135M-Instruct.Q4_1.gguf --from smollm2.prior.gguf --removal-order 12,14"
                    + " -o smollm2.reranked.prior.gguf"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        String modelArg = args.string("--model");
        if (modelArg == null) {
            throw new UsageException("missing -m MODEL.gguf (see 'buddy prior --help')");
        }
        Path model = ModelPath.check("-m", args.path("model", modelArg));
        if (args.has("--from") || args.has("--removal-order")) {
            return reorder(args, io, model);
        }
        PriorKind kind;
        try {
            kind = PriorKind.fromName(args.string("--method"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("invalid --method '" + args.string("--method")
                    + "': expected taylor, ppl, cosine or sleb");
        }
        int tokens = args.intValue("--calib-tokens", 2, 1 << 24);
        int window = args.intValue("--window", 2, 1 << 20);
        int threads = args.intValue("--threads", 1, 1024);
        Path calib = calibration(args);
        String calibProblem = InputFile.problem(calib, "a text file");
        if (calibProblem != null) {
            throw new UsageException("calibration text " + calib + " " + calibProblem + "; give --calib FILE"
                    + (isWikitext(args.string("--calib"))
                            ? " or set " + DataRoot.VARIABLES + " to the shared data folder" : ""));
        }
        Path output = args.has("--output") ? args.path("output", args.string("--output")) : null;
        if (output != null) {
            OutputPath.file("-o", output, model);
        }
        int maxDrop = maxDrop(args.string("--max-drop"));
        Path slebPlan = args.has("--sleb-plan") ? args.path("sleb-plan", args.string("--sleb-plan")) : null;
        if (kind != PriorKind.SLEB && (slebPlan != null || maxDrop != 0)) {
            throw new UsageException("--max-drop and --sleb-plan apply only to --method sleb");
        }
        if (slebPlan != null && InputFile.problem(slebPlan, "a plan file") != null) {
            throw new UsageException("--sleb-plan " + slebPlan + " " + InputFile.problem(slebPlan, "a plan file"));
        }
        PriorCommand.run(new PriorCommand.Options(model, calib, kind, tokens, window, threads, output, maxDrop,
                slebPlan), io.out(), io.err());
        return Cli.EXIT_OK;
    }

    /** {@code --from FILE --removal-order LIST}: re-rank an existing prior, no calibration pass. */
    private static int reorder(ParsedArgs args, Io io, Path model) throws Exception {
        if (!args.has("--from") || !args.has("--removal-order")) {
            throw new UsageException("--from and --removal-order go together: the prior to re-rank and the blocks"
                    + " to rank lowest");
        }
        if (args.has("--sleb-plan") || maxDrop(args.string("--max-drop")) != 0) {
            throw new UsageException("--sleb-plan and --max-drop measure a new prior; --from re-ranks an existing one");
        }
        Path from = args.path("from", args.string("--from"));
        String problem = InputFile.problem(from, "a prior or router file");
        if (problem != null) {
            throw new UsageException("--from " + from + " " + problem);
        }
        Path output = args.has("--output") ? args.path("output", args.string("--output")) : null;
        if (output != null) {
            OutputPath.file("-o", output, model);
        }
        PriorCommand.reorder(model, from, blockList(args.string("--removal-order")), output, io.out());
        return Cli.EXIT_OK;
    }

    /** A comma-separated list of block numbers; the model checks their range and repeats later. */
    static int[] blockList(String text) {
        String[] parts = text.split(",", -1);
        int[] blocks = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                blocks[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new UsageException("invalid --removal-order '" + text + "': expected block numbers separated by"
                        + " commas, e.g. 12,14,17,13");
            }
        }
        return blocks;
    }

    /** {@code all} is 0 (the search runs to one block); a number must be at least 1 (the model bounds it later). */
    static int maxDrop(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("all")) {
            return 0;
        }
        try {
            int n = Integer.parseInt(t);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("invalid --max-drop '" + text + "': expected a positive number or all");
    }

    private static boolean isWikitext(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        return n.equals("wikitext2") || n.equals("wikitext");
    }

    static Path calibration(ParsedArgs args) {
        String value = args.string("--calib");
        if (!isWikitext(value)) {
            return args.path("calibration", value);
        }
        return DataRoot.get().resolve(WIKITEXT_RELATIVE).normalize();
    }
}
