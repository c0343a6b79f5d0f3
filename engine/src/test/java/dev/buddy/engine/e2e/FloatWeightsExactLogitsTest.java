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
 * F32, F16 and BF16 weights sum in llama.cpp's orders (vec_dot for one token, tinyBLAS for a prompt batch), so on
 * synthetic llama and qwen2 models (llama.cpp b4916 predates qwen3) their logits must equal llama.cpp's bit for bit: after the batched prompt
 * and after every single-token step along llama.cpp's greedy continuation, with both KV cache types. This is the
 * like-for-like comparison; {@link SyntheticModelAgreementTest} compares one batched llama.cpp pass with Buddy's
 * token-by-token pass and so measures the two kernels' rounding difference instead.
 */
class FloatWeightsExactLogitsTest {
    private static final int STEPS = 16;
    private static final String[] PROMPTS = {"Once upon a time there was", "The capital of France is", "1 2 3"};

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16}) {
            for (KvCacheType kv : KvCacheType.values()) {
                cases.add(Arguments.of(SyntheticModels.llama(type), kv));
            }
        }
        cases.add(Arguments.of(SyntheticModels.qwen2(GgmlType.F16), KvCacheType.F16));
        cases.add(Arguments.of(SyntheticModels.qwen2(GgmlType.BF16), KvCacheType.F32));
        return cases.build();
    }

    @ParameterizedTest(name = "{0} with {1} KV cache")
    @MethodSource("cases")
    void logitsAreLlamaCppsBitForBit(SyntheticModels.Spec spec, KvCacheType kvType, @TempDir Path dir)
            throws IOException {
        Path file = SyntheticModels.write(spec, dir.resolve(spec.label() + ".gguf"));
        LlamaCppReference.Options options = LlamaCppReference.Options.defaults()
                .withKvCacheType(LlamaCppReference.KvCacheType.valueOf(kvType.name()));
        try (LlamaCppReference llama = LlamaCppReference.open(file, options);
                Model model = Model.load(file);
                Parallel pool = new Parallel(1)) {
            Transformer tf = new Transformer(model, pool);
            InferenceState state = tf.newState(128, kvType, 32, SkippedKvPolicy.ZEROS);
            StringBuilder failures = new StringBuilder();
            for (String prompt : PROMPTS) {
                int[] ids = llama.tokenize(prompt, true);
                int[] continuation = Arrays.copyOf(llama.greedy(ids, STEPS), STEPS - 1);
                float[][] expected = llama.decodeLogits(ids, continuation);
                state.reset();
                float[] logits = tf.forward(state, ids, 0, ids.length, null, true);
                double worst = maxDiff(expected[0], logits);
                int worstStep = 0;
                for (int i = 0; i < continuation.length; i++) {
                    logits = tf.forward(state, continuation, i, ids.length + i, 1, null, true);
                    double d = maxDiff(expected[i + 1], logits);
                    if (d > worst) {
                        worst = d;
                        worstStep = i + 1;
                    }
                }
                System.out.printf(Locale.ROOT, "%s, %s KV, \"%s\": max |Δlogit| %.3e (step %d of %d)%n",
                        spec.label(), kvType, prompt, worst, worstStep, STEPS);
                if (worst != 0) {
                    failures.append(String.format(Locale.ROOT, "; prompt \"%s\": %.3e at step %d", prompt, worst,
                            worstStep));
                }
            }
            assertTrue(failures.isEmpty(), spec.label() + ", " + kvType
                    + " KV: logits differ from llama.cpp's (step 0 = after the batched prompt)" + failures);
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
