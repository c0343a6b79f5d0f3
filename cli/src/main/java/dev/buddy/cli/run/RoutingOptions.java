package dev.buddy.cli.run;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Budget;
import dev.buddy.router.BuddyPlanner;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.PathTrace;
import dev.buddy.router.Pooling;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.Reroute;
import dev.buddy.router.Router;
import dev.buddy.router.RouterFile;
import dev.buddy.router.RoutingStats;

/**
 * The BUDDY routing options: which router, what budget, how often to reroute, and what skipped blocks leave in the KV
 * cache. Without {@code --router} or {@code --budget} every block runs, exactly as a dense engine.
 */
public final class RoutingOptions {
    private RoutingOptions() {}

    static List<OptionSpec> specs() {
        return List.of(
                OptionSpec.value(null, "--router", "FILE",
                        "a BUDDY router or static plan (.gguf) made for this model; 'random' makes an untrained one",
                        null),
                OptionSpec.value("-b", "--budget", "B",
                        "fraction of blocks to run, in (0,1], or 'auto' for the router's budget predictor", null),
                OptionSpec.value(null, "--drop", "N", "skip exactly N middle blocks (instead of --budget)", null),
                OptionSpec.value(null, "--reroute", "WHEN",
                        "every-step (re-decide each token), every-N (e.g. every-4), or reuse (keep the prompt's path)",
                        "every-step"),
                OptionSpec.value(null, "--kv-policy", "POLICY",
                        "what a skipped block leaves in its KV cache: zeros (as the paper), mask, or compute-kv",
                        "zeros"),
                OptionSpec.flag(null, "--route-trace", "print which blocks ran for every token (█ ran, · skipped)"));
    }

    /** A planner and its stats, or null when the run is dense. */
    record Routing(BuddyPlanner planner, Router router, SkippedKvPolicy policy, boolean autoBudget) {
        RoutingStats stats() {
            return planner.stats();
        }
    }

    static boolean requested(ParsedArgs args) {
        return args.has("--router") || args.has("--budget") || args.has("--drop");
    }

    /** What the routing options ask for, before any planner exists: one per sequence can then be opened. */
    record Choice(Router router, Budget budget, Reroute reroute, SkippedKvPolicy policy, boolean autoBudget,
            boolean trace) {
    }

    static Routing open(ParsedArgs args, Model model, PrintStream err) throws IOException {
        Choice c = choice(args, model, err);
        if (c == null) {
            return null;
        }
        BuddyPlanner planner = BuddyPlanner.open(c.router(), c.budget(), c.reroute());
        if (c.trace()) {
            planner.listener(PathTrace.printer(err::println));
        }
        return new Routing(planner, c.router(), c.policy(), c.autoBudget());
    }

    /**
     * Parses --reroute, --kv-policy and --budget whether or not a router is given, so that a typo is reported instead
     * of silently ignored; commands call it before loading the model.
     */
    static void check(ParsedArgs args) {
        Reroute.parse(args.string("--reroute"));
        policy(args.string("--kv-policy"));
        if (args.has("--budget") && !"auto".equalsIgnoreCase(args.string("--budget"))) {
            args.fraction("--budget", "auto");
        }
    }

    /** The router, budget, reroute and KV policy the options ask for; null when the run is dense. */
    static Choice choice(ParsedArgs args, Model model, PrintStream err) throws IOException {
        check(args);
        if (!requested(args)) {
            return null;
        }
        if (args.has("--budget") && args.has("--drop")) {
            throw new UsageException("give either --budget or --drop, not both");
        }
        BaseModelInfo base = BaseModelInfo.of(model.spec(), model.gguf());
        String routerArg = args.string("--router");
        Router router;
        if (routerArg == null || routerArg.equals("random")) {
            if (routerArg == null) {
                throw new UsageException("--budget and --drop need a router: --router FILE (trained or a static plan),"
                        + " or --router random for an untrained one");
            }
            router = RandomRouter.create(base, 42, FeatureSource.VALUE, Pooling.MEAN, true);
        } else {
            router = RouterFile.load(args.path("router", routerArg), base);
        }
        if (!router.provenance().trained()) {
            err.println("note: router '" + router.name() + "' is UNTRAINED (random weights): its routes show the"
                    + " mechanism, not learned quality");
        }
        boolean auto = "auto".equalsIgnoreCase(args.string("--budget"));
        Budget budget = auto ? null : budget(args);
        Reroute reroute = Reroute.parse(args.string("--reroute"));
        return new Choice(router, budget, reroute, policy(args.string("--kv-policy")), auto,
                args.flag("--route-trace"));
    }

    private static Budget budget(ParsedArgs args) {
        if (args.has("--drop")) {
            return Budget.drop(args.intValue("--drop", 0, 100_000));
        }
        if (!args.has("--budget")) {
            return Budget.full();
        }
        return Budget.fraction(args.fraction("--budget", "auto"));
    }

    public static SkippedKvPolicy policy(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "zeros" -> SkippedKvPolicy.ZEROS;
            case "mask" -> SkippedKvPolicy.MASK;
            case "compute-kv" -> SkippedKvPolicy.COMPUTE_KV;
            default -> throw new UsageException("invalid --kv-policy '" + s + "': expected zeros, mask or compute-kv");
        };
    }

    /** The end-of-run routing summary (stderr): blocks per token, distinct paths, router share of the time. */
    static void printSummary(Routing routing, int layerCount, long totalNanos, PrintStream err) {
        printSummary("", routing, layerCount, totalNanos, err);
    }

    /** As {@link #printSummary(Routing, int, long, PrintStream)}, the line starting with {@code prefix}. */
    static void printSummary(String prefix, Routing routing, int layerCount, long totalNanos, PrintStream err) {
        RoutingStats s = routing.stats();
        err.print(prefix);
        err.printf(Locale.ROOT, "routing: %s, %.2f of %d blocks per token (%.1f%%), %d distinct path(s), router %.2f%% of"
                        + " the time%s%n",
                routing.router().name(), s.meanBlocksPerToken(), layerCount,
                100.0 * s.meanBlocksPerToken() / layerCount, s.distinctPaths(), 100.0 * s.routerShare(totalNanos),
                routing.autoBudget() ? String.format(Locale.ROOT, ", auto budget b=%.3f (k=%d)",
                        (routing.planner().session().middleBlocks() + 2.0) / layerCount,
                        routing.planner().session().middleBlocks()) : "");
    }
}
