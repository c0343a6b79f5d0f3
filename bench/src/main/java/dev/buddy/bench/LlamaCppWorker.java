package dev.buddy.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.reference.LlamaTimings;

/**
 * The llama.cpp side of {@link SideBySide}, run in its own JVM: llama-bench's pp and tg tests through
 * {@link LlamaCppReference}, timed by llama.cpp's own counters ({@code llama_perf_context}: prompt eval and eval
 * time), so no Java-side overhead is counted. Prints the same JSON as {@code buddy bench -o json}.
 *
 * <p>pp N: a fresh KV cache and one batch of N random tokens. tg N: a fresh KV cache and N single-token decodes
 * starting from BOS (the first is the one-token "prompt", which llama.cpp counts as an eval). A warm-up run of each
 * comes first. {@code --baseline} loads nothing and reports only the JVM's own peak RSS, to subtract.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.buddy.bench.LlamaCppWorker
 *     -m MODEL.gguf -p 512 -n 128 -r 1 -t 2 [--kv-type f16|f32] [--baseline]</pre>
 */
public final class LlamaCppWorker {
    private LlamaCppWorker() {}

    /** What to run. */
    record Request(Path model, int promptTokens, int generatedTokens, int repetitions, int threads,
                   LlamaCppReference.KvCacheType kvType) {}

    public static void main(String[] args) throws IOException {
        Args a = new Args(args);
        if (a.flag("--baseline")) {
            System.out.println("[{\"n_prompt\": 0, \"n_gen\": 0, \"avg_ts\": 0, \"peak_rss_bytes\": "
                    + PeakRss.bytes() + "}]");
            return;
        }
        Request request = new Request(Path.of(a.required("-m")), a.integer("-p", 512), a.integer("-n", 128),
                a.integer("-r", 1), a.integer("-t", 1),
                LlamaCppReference.KvCacheType.valueOf(a.value("--kv-type", "f16").toUpperCase(Locale.ROOT)));
        if (!Files.isRegularFile(request.model())) {
            throw new IllegalArgumentException("model file not found: " + request.model());
        }
        System.out.print(json(measure(request), PeakRss.bytes()));
    }

    /** The measured tests: {tokens, kind (0 pp, 1 tg), t/s of each repetition...}. */
    static List<double[]> measure(Request r) {
        int context = Math.max(r.promptTokens(), 1) + r.generatedTokens() + 1;
        LlamaCppReference.Options options = new LlamaCppReference.Options(r.threads(), context, r.kvType());
        List<double[]> tests = new ArrayList<>();
        try (LlamaCppReference llama = LlamaCppReference.open(r.model(), options)) {
            SplittableRandom random = new SplittableRandom(1234);
            if (r.promptTokens() > 0) {
                int[] prompt = random.ints(r.promptTokens(), 0, llama.vocabularySize()).toArray();
                promptRate(llama, prompt); // warm-up
                double[] test = new double[2 + r.repetitions()];
                test[0] = r.promptTokens();
                test[1] = 0;
                for (int i = 0; i < r.repetitions(); i++) {
                    test[2 + i] = promptRate(llama, prompt);
                }
                tests.add(test);
            }
            if (r.generatedTokens() > 0) {
                int[] start = {llama.bosToken() >= 0 ? llama.bosToken() : 0};
                generationRate(llama, start, r.generatedTokens()); // warm-up
                double[] test = new double[2 + r.repetitions()];
                test[0] = r.generatedTokens();
                test[1] = 1;
                for (int i = 0; i < r.repetitions(); i++) {
                    test[2 + i] = generationRate(llama, start, r.generatedTokens());
                }
                tests.add(test);
            }
        }
        return tests;
    }

    private static double promptRate(LlamaCppReference llama, int[] prompt) {
        LlamaTimings t = llama.greedyRun(prompt, 1, 0, false).timings();
        if (t.promptTokens() != prompt.length) {
            throw new IllegalStateException("llama.cpp timed " + t.promptTokens() + " prompt tokens, expected "
                    + prompt.length);
        }
        return t.promptTokensPerSecond();
    }

    private static double generationRate(LlamaCppReference llama, int[] start, int tokens) {
        LlamaTimings t = llama.greedyRun(start, tokens, 0, false).timings();
        if (t.evalTokens() != tokens) {
            throw new IllegalStateException("llama.cpp timed " + t.evalTokens() + " single-token decodes, expected "
                    + tokens);
        }
        return t.evalTokensPerSecond();
    }

    /** The tests in buddy bench's JSON fields. */
    static String json(List<double[]> tests, long peakRss) {
        StringBuilder sb = new StringBuilder("[\n");
        for (int i = 0; i < tests.size(); i++) {
            double[] t = tests.get(i);
            double[] rates = java.util.Arrays.copyOfRange(t, 2, t.length);
            boolean prompt = t[1] == 0;
            sb.append(String.format(Locale.ROOT, "  {\"engine\": \"llama.cpp\", \"n_prompt\": %d, \"n_gen\": %d, "
                            + "\"avg_ts\": %s, \"samples_ts\": [%s], \"peak_rss_bytes\": %d}%s%n",
                    prompt ? (int) t[0] : 0, prompt ? 0 : (int) t[0], Stats.mean(rates),
                    String.join(", ", java.util.Arrays.stream(rates).mapToObj(Double::toString).toList()), peakRss,
                    i + 1 < tests.size() ? "," : ""));
        }
        return sb.append("]\n").toString();
    }
}
