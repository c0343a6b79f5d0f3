package dev.buddy.engine.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.gguf.GgmlType;

/**
 * Synthetic llama models with Q4_K, Q5_K or Q6_K block matrices (Q8_0 embeddings/output) go only through kernels
 * whose order Buddy reproduces: the K-quant dots in ggml's AVX2 lane order for the single-token steps and the batched
 * prompt alike (llama.cpp b4916 has no tinyBLAS path for K-quants on x86, so its prompt runs the same vec_dot per row
 * and token), plus the orders {@link ExactDecodeLogitsTest} already pins. The logits must be llama.cpp's bit for bit
 * after the batched prompt and after every decode step along llama.cpp's greedy continuation, for both KV types.
 * The kernels themselves are checked against ggml's machine code in {@code KQuantGgmlAgreementProperties}.
 */
class KQuantExactLogitsTest {
    private static final int STEPS = 24;
    private static final String[] PROMPTS = {
        "The quick brown fox jumps over the lazy dog.", "Once upon a time, in a land far away, there lived a", "Hi",
    };

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            for (KvCacheType kv : KvCacheType.values()) {
                cases.add(Arguments.of(type, kv));
            }
        }
        return cases.build();
    }

    @ParameterizedTest(name = "llama-{0} with {1} KV cache")
    @MethodSource("cases")
    void logitsAreLlamaCppsBitForBit(GgmlType type, KvCacheType kvType, @TempDir Path dir) throws IOException {
        SyntheticModels.Spec spec = SyntheticModels.llama(type);
        Path path = SyntheticModels.write(spec, dir.resolve(spec.label() + ".gguf"));
        LlamaCppReference.Options options = LlamaCppReference.Options.defaults()
                .withKvCacheType(LlamaCppReference.KvCacheType.valueOf(kvType.name()));
        try (LlamaCppReference llama = LlamaCppReference.open(path, options);
                Model model = Model.load(path);
                Parallel pool = new Parallel(1)) {
            Transformer tf = new Transformer(model, pool);
            InferenceState state = tf.newState(128, kvType, 32, SkippedKvPolicy.ZEROS);
            for (String prompt : PROMPTS) {
                int[] ids = llama.tokenize(prompt, true);
                int[] continuation = Arrays.copyOf(llama.greedy(ids, STEPS), STEPS - 1);
                float[][] expected = llama.decodeLogits(ids, continuation);
                state.reset();
                float[] logits = tf.forward(state, ids, 0, ids.length, null, true);
                double worst = maxDiff(expected[0], logits);
                int worstStep = 0;
                int firstStep = worst > 0 ? 0 : -1;
                double first = worst;
                for (int i = 0; i < continuation.length; i++) {
                    logits = tf.forward(state, continuation, i, ids.length + i, 1, null, true);
                    double d = maxDiff(expected[i + 1], logits);
                    if (d > 0 && firstStep < 0) {
                        firstStep = i + 1;
                        first = d;
                    }
                    if (d > worst) {
                        worst = d;
                        worstStep = i + 1;
                    }
                }
                System.out.printf(Locale.ROOT,
                        "%s %s KV \"%s\" (%d prompt tokens): max |Δlogit| %.3e (step %d), first difference %.3e at"
                                + " step %d%n",
                        spec.label(), kvType, prompt, ids.length, worst, worstStep, first, firstStep);
                assertTrue(worst == 0.0, spec.label() + ", "
                        + kvType + " KV, prompt \"" + prompt + "\": logits differ from llama.cpp's by " + worst
                        + " at step " + worstStep + " (0 = after the batched prompt), first at step " + firstStep);
            }
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }
}
