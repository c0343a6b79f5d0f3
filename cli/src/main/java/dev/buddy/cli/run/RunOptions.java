package dev.buddy.cli.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.buddy.cli.ModelPath;
import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.engine.generate.GenerationOptions;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.sampling.SamplerConfig;

/**
 * The options every command that runs a model shares (model, threads, context, KV cache, sampling), named as in
 * llama.cpp ({@code -m -p -n -t -c --temp --top-k --top-p --min-p --repeat-penalty --seed}) so its users feel at home.
 */
public final class RunOptions {
    private RunOptions() {}

    static final String DEFAULT_SEED = "42";

    static List<OptionSpec> model() {
        return List.of(
                OptionSpec.value("-m", "--model", "FILE", "the GGUF model (llama, qwen2, qwen3)", null),
                OptionSpec.value("-t", "--threads", "N", "worker threads",
                        Integer.toString(Runtime.getRuntime().availableProcessors())),
                OptionSpec.value("-c", "--ctx-size", "N",
                        "context size in tokens (0 = the model's, capped at " + GenerationOptions.DEFAULT_CONTEXT_CAP
                                + ")", "0"),
                OptionSpec.value(null, "--kv-type", "TYPE", "KV cache storage: f16 (as llama.cpp) or f32", "f16"));
    }

    static List<OptionSpec> sampling() {
        return List.of(
                OptionSpec.value(null, "--temp", "T", "temperature; 0 picks the most likely token (greedy)", "0.8"),
                OptionSpec.value(null, "--top-k", "K", "keep the K most likely tokens (0 = all)", "40"),
                OptionSpec.value(null, "--top-p", "P", "keep the smallest set with probability >= P (1 = off)",
                        "0.95"),
                OptionSpec.value(null, "--min-p", "P", "drop tokens below P x the top probability (0 = off)", "0.05"),
                OptionSpec.value(null, "--repeat-penalty", "X", "penalise tokens seen in the last 64 (1 = off)",
                        "1.0"),
                OptionSpec.value(null, "--seed", "N", "random seed, for reproducible sampling (-1 = random)",
                        DEFAULT_SEED));
    }

    static List<OptionSpec> concat(List<OptionSpec>... lists) {
        List<OptionSpec> all = new ArrayList<>();
        for (List<OptionSpec> l : lists) {
            all.addAll(l);
        }
        return all;
    }

    static SamplerConfig sampler(ParsedArgs args) {
        long seed = args.longValue("--seed");
        if (seed == -1) {
            seed = System.nanoTime();
        }
        float temp = args.floatValue("--temp", 0f, 100f);
        if (temp == 0f) {
            return SamplerConfig.greedy().withRepetitionPenalty(args.floatValue("--repeat-penalty", 0.01f, 100f), 64)
                    .withSeed(seed);
        }
        return SamplerConfig.defaults(seed)
                .withTemperature(temp)
                .withTopK(args.intValue("--top-k", 0, Integer.MAX_VALUE))
                .withTopP(args.floatValue("--top-p", 0f, 1f))
                .withMinP(args.floatValue("--min-p", 0f, 1f))
                .withRepetitionPenalty(args.floatValue("--repeat-penalty", 0.01f, 100f), 64);
    }

    static GenerationOptions generation(ParsedArgs args) {
        return GenerationOptions.defaults()
                .withThreads(args.intValue("--threads", 1, 1024))
                .withContextLength(args.intValue("--ctx-size", 0, 1 << 24))
                .withKvCacheType(kvType(args.string("--kv-type")))
                .withSampler(sampler(args));
    }

    /** The -m model, checked to be a file before anything loads it. */
    static Path modelPath(ParsedArgs args, String command) {
        Path m = ModelPath.of(args);
        if (m == null) {
            throw new UsageException("missing -m MODEL.gguf: which model should I run? (see 'buddy " + command
                    + " --help')");
        }
        return m;
    }

    /** The --kv-type value, for every command that has one. */
    public static KvCacheType kvType(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f16" -> KvCacheType.F16;
            case "f32" -> KvCacheType.F32;
            default -> throw new UsageException("invalid --kv-type '" + s + "': expected f16 or f32");
        };
    }
}
