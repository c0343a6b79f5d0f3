package dev.buddy.cli.bench;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.Io;
import dev.buddy.cli.ModelPath;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.cli.run.DeviceOption;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.opencl.BackendChoice;
import dev.buddy.opencl.ClDevice;
import dev.buddy.opencl.OpenClBackend;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Budget;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.router.BuddyPlanner;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.Reroute;
import dev.buddy.router.Router;
import dev.buddy.router.RouterFile;

/**
 * {@code buddy bench}: llama-bench for Buddy. Prompt processing ({@code ppN}) and generation ({@code tgN}) are
 * separate tests, each from an empty KV cache on random token ids, with warm-up runs before the timed repetitions;
 * the result is mean ± sample standard deviation of tokens per second.
 */
public final class BenchCommand implements Command {
    private static final int MAX_TOKENS = 1 << 20;

    private static final CommandSpec SPEC = new CommandSpec("bench",
            "measure prompt processing and generation speed (llama-bench semantics)",
            """
            Measures Buddy's forward pass like llama.cpp's llama-bench: 'pp' tests process a prompt of N random
            tokens in one call (logits of the last token only), 'tg' tests generate N tokens one forward pass at a
            time starting from BOS; both start from an empty KV cache, sample nothing, and run untimed to warm up
            (caches, and the JIT: repeated until two runs agree within 10%, at most 5) before the timed
            repetitions. Reports mean ± standard deviation of tokens per second.
            -p, -n and -t take comma-separated lists; every combination runs. Peak RSS (VmHWM) is in the csv and
            json outputs. With --device opencl the model is uploaded once and every pass reads its logits back;
            -t does not apply (the OpenCL runtime schedules the device), so each test runs once and the threads
            column shows the device's compute units.
            With --router and --budget the forward passes are routed (the prompt as one route, each
            generated token rerouted); stderr then tells the blocks run per token and the router's share of the
            time. --cpu-time (one thread only) adds tokens per second of the thread's CPU time to stderr, which a
            machine shared with other jobs disturbs far less than wall time. --profile (with --device opencl)
            times every kernel launch on the device during the timed runs and prints, per test, each kernel's
            launches and device time, and how much of the wall time the device was busy: the rest is launch
            overhead and host work.""",
            List.of(),
            List.of(OptionSpec.value("-m", "--model", "FILE", "the GGUF model", null),
                    dev.buddy.cli.run.LoraOption.spec(),
                    OptionSpec.value("-p", "--n-prompt", "N[,N...]", "prompt tokens per pp test (0 skips)", "512"),
                    OptionSpec.value("-n", "--n-gen", "N[,N...]", "tokens per tg test (0 skips)", "128"),
                    OptionSpec.value("-r", "--repetitions", "N", "timed runs per test", "5"),
                    OptionSpec.value("-t", "--threads", "N[,N...]", "worker threads",
                            Integer.toString(Runtime.getRuntime().availableProcessors())),
                    OptionSpec.value("-b", "--batch-size", "N|auto",
                            "most prompt tokens per forward chunk ('auto': 64-256 by the model's width, as generation"
                                    + " chooses; 512 on an OpenCL GPU)", "auto"),
                    OptionSpec.value(null, "--kv-type", "f16|f32", "KV cache storage", "f16"),
                    DeviceOption.spec(),
                    OptionSpec.value(null, "--router", "FILE|random",
                            "route with a BUDDY router or static plan made for this model ('random': untrained)",
                            null),
                    OptionSpec.value(null, "--budget", "B", "fraction of blocks to run with --router, in (0,1]",
                            null),
                    OptionSpec.value(null, "--kv-policy", "zeros|mask|compute-kv",
                            "what blocks the router skips leave in the KV cache", "zeros"),
                    OptionSpec.flag(null, "--cpu-time", "also report t/s of the thread's CPU time (with -t 1)"),
                    OptionSpec.flag(null, "--profile", "time each OpenCL kernel on the device (with --device opencl)"),
                    OptionSpec.value("-o", "--output", "md|csv|json", "output format", "md")),
            List.of("buddy bench -m model.gguf", "buddy bench -m model.gguf -p 512 -n 128 -r 5 -t 1,2 -o json",
                    "buddy bench -m model.gguf --router random --budget 0.5 --kv-policy mask",
                    "buddy bench -m model.gguf --device opencl -p 128 -n 64"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) throws Exception {
        Path modelPath = ModelPath.of(args);
        if (modelPath == null) {
            throw new UsageException("missing -m MODEL.gguf: which model should I measure? (see 'buddy bench --help')");
        }
        List<Integer> prompts = counts(args, "--n-prompt", 0);
        List<Integer> generations = counts(args, "--n-gen", 0);
        List<Integer> threads = counts(args, "--threads", 1);
        if (prompts.stream().allMatch(p -> p == 0) && generations.stream().allMatch(n -> n == 0)) {
            throw new UsageException("nothing to measure: -p and -n are both 0 (see 'buddy bench --help')");
        }
        int repetitions = args.intValue("--repetitions", 1, 1000);
        boolean autoBatch = "auto".equalsIgnoreCase(args.string("--batch-size").strip());
        int batchSize = autoBatch ? 0 : batchSize(args.string("--batch-size"));
        KvCacheType kvType = dev.buddy.cli.run.RunOptions.kvType(args.string("--kv-type"));
        BenchOutput output = output(args.string("--output"));
        BackendChoice device = DeviceOption.choice(args);
        if (args.has("--budget") != args.has("--router")) {
            throw new UsageException("--router and --budget go together: give both to bench a routed model, or"
                    + " neither (see 'buddy bench --help')");
        }
        float budget = args.has("--budget") ? args.fraction("--budget") : 1f;
        SkippedKvPolicy policy = dev.buddy.cli.run.RoutingOptions.policy(args.string("--kv-policy"));
        boolean cpuTime = args.flag("--cpu-time");
        boolean profile = args.flag("--profile");
        if (profile && !device.openCl()) {
            throw new UsageException("--profile times OpenCL kernels: use it with --device opencl (see 'buddy bench"
                    + " --help')");
        }
        int context = Math.max(1, prompts.stream().mapToInt(Integer::intValue).max().orElse(0))
                + generations.stream().mapToInt(Integer::intValue).max().orElse(0);

        Instant started = Instant.now();
        List<BenchMeasurement> results = new ArrayList<>();
        BenchModelInfo info;
        String backend = "Buddy CPU";
        try (Model loaded = TransformerWorkload.load(modelPath)) {
            Model model = dev.buddy.cli.run.LoraOption.apply(args, loaded, device);
            info = BenchModelInfo.of(model.gguf());
            if (autoBatch) {
                batchSize = DeviceOption.autoPromptBatch(device, model);
            }
            BenchRunner runner = new BenchRunner(repetitions, 1234);
            Router router = router(args, model, io);
            if (device.openCl()) {
                ClDevice chosen = DeviceOption.device(device);
                backend = "Buddy OpenCL " + chosen.name() + " (" + chosen.type() + ")";
                threads = List.of(chosen.computeUnits());
            }
            for (int t : threads) {
                BuddyPlanner planner = router == null ? null : BuddyPlanner.open(router,
                        Budget.fraction(budget), Reroute.everyStep());
                try (BenchWorkload workload = device.openCl()
                        ? openClWorkload(device, model, context, batchSize, kvType, policy, planner, profile, io)
                        : new TransformerWorkload(model, t, context, batchSize, kvType, planner, policy)) {
                    for (int p : prompts) {
                        if (p > 0) {
                            measure(runner, workload, new BenchTest(BenchTest.Kind.PROMPT, p, t), planner, cpuTime,
                                    results, io);
                        }
                    }
                    for (int n : generations) {
                        if (n > 0) {
                            measure(runner, workload, new BenchTest(BenchTest.Kind.GENERATION, n, t), planner,
                                    cpuTime, results, io);
                        }
                    }
                }
            }
        }
        BenchOutput.Config config = new BenchOutput.Config(batchSize, kvType.name().toLowerCase(Locale.ROOT),
                repetitions, started, backend);
        io.out().print(output.render(info, config, results, PeakRss.bytes()));
        return Cli.EXIT_OK;
    }

    /** The model uploaded to the chosen device; one line on stderr says where and how much. */
    private static BenchWorkload openClWorkload(BackendChoice device, Model model, int context, int batchSize,
            KvCacheType kvType, SkippedKvPolicy policy, LayerPlanner planner, boolean profile, Io io) {
        OpenClBackend backend = DeviceOption.openCl(device, model, context, batchSize, policy, kvType, profile);
        io.err().println(backend.describe());
        return new OpenClWorkload(backend, startToken(model), planner, profile);
    }

    private static int startToken(Model model) {
        int bos = model.tokenizer().vocabulary().bosId();
        return bos >= 0 ? bos : 0;
    }

    /**
     * Runs one test and records it. On the CPU backend it also reports thread CPU time (--cpu-time) and the router's
     * share of the forward time; on any backend, the blocks run per token when routing.
     */
    private static void measure(BenchRunner runner, BenchWorkload workload, BenchTest test,
            BuddyPlanner planner, boolean cpuTime, List<BenchMeasurement> results, Io io) {
        TransformerWorkload cpu = workload instanceof TransformerWorkload w ? w : null;
        if (cpu != null) {
            cpu.routerShareSinceMark();
            cpu.cpuAndWallNanosSinceMark();
        }
        long blocksBefore = planner == null ? 0 : Math.round(planner.stats().meanBlocksPerToken()
                * planner.stats().tokens());
        long tokensBefore = planner == null ? 0 : planner.stats().tokens();
        BenchMeasurement measured = runner.measure(workload, test);
        results.add(measured);
        if (workload instanceof OpenClWorkload gpu && gpu.profiling()) {
            io.err().print(KernelProfileReport.render(test.name(), gpu.kernelProfile(),
                    java.util.Arrays.stream(measured.samplesNs()).sum()));
        }
        long[] cpuWall = cpu == null ? new long[2] : cpu.cpuAndWallNanosSinceMark();
        if (cpuTime && test.threads() == 1 && cpuWall[0] > 0) {
            double tokens = (double) test.tokens() * measured.samplesNs().length; // the timed runs
            io.err().printf(Locale.ROOT, "cpu %s (t=1): %.2f t/s of thread CPU time (wall %.2f t/s over the same"
                    + " runs)%n", test.name(), tokens / (cpuWall[0] / 1e9), tokens / (cpuWall[1] / 1e9));
        }
        if (planner != null) {
            long tokens = planner.stats().tokens() - tokensBefore;
            long blocks = Math.round(planner.stats().meanBlocksPerToken() * planner.stats().tokens()) - blocksBefore;
            String share = cpu == null ? "" : String.format(Locale.ROOT, ", router %.3f%% of the forward time",
                    100 * cpu.routerShareSinceMark());
            io.err().printf(Locale.ROOT, "routing %s (t=%d): %.2f of %d blocks per token%s%n", test.name(),
                    test.threads(), blocks / (double) tokens, planner.stats().layerCount(), share);
        }
    }

    /** The router named by --router, checked against the model, or null for a dense bench. */
    private static Router router(ParsedArgs args, Model model, Io io) throws java.io.IOException {
        String name = args.string("--router");
        if (name == null) {
            return null;
        }
        BaseModelInfo base = BaseModelInfo.of(model.spec(), model.gguf());
        Router router = name.equals("random")
                ? RandomRouter.create(base, 42, FeatureSource.VALUE, Pooling.MEAN, false)
                : RouterFile.load(args.path("router", name), base);
        io.err().println("bench: " + router.describe() + ", budget " + args.string("--budget") + ", kv policy "
                + args.string("--kv-policy"));
        return router;
    }

    /** -b's value when it is not auto. */
    private static int batchSize(String text) {
        try {
            int v = Integer.parseInt(text.strip());
            if (v >= 1 && v <= MAX_TOKENS) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("invalid value '" + text + "' for -b/--batch-size: expected auto or an integer from 1"
                + " to " + MAX_TOKENS + " (see 'buddy bench --help')");
    }

    /** A comma-separated list of counts, each at least {@code min}. */
    private static List<Integer> counts(ParsedArgs args, String option, int min) {
        List<Integer> values = new ArrayList<>();
        for (String part : args.string(option).split(",", -1)) {
            try {
                int v = Integer.parseInt(part.strip());
                if (v < min || v > MAX_TOKENS) {
                    throw new NumberFormatException();
                }
                values.add(v);
            } catch (NumberFormatException e) {
                throw new UsageException("invalid value '" + args.string(option) + "' for " + option
                        + ": expected comma-separated integers from " + min + " to " + MAX_TOKENS
                        + " (see 'buddy bench --help')");
            }
        }
        return values;
    }

    private static BenchOutput output(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "md" -> BenchOutput.MD;
            case "csv" -> BenchOutput.CSV;
            case "json" -> BenchOutput.JSON;
            default -> throw new UsageException("invalid value '" + text + "' for -o: expected md, csv or json"
                    + " (see 'buddy bench --help')");
        };
    }
}
