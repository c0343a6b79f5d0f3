package dev.buddy.engine.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * The legacy 4/5-bit formats (Q4_0, Q4_1, Q5_0, Q5_1) on the synthetic llama model: Buddy's kernels reproduce
 * ggml's AVX2 vec_dot order (and, for the batched prompt, the per-(row, token) results of llama.cpp's tinyBLAS or
 * vec_dot), so its logits must be llama.cpp's bit for bit after the batched prompt and after every single-token
 * decode step along llama.cpp's greedy continuation, with both KV cache types. Prompts of 1 to over 16 tokens run the
 * single-token kernel, the 4-token tile and its edges.
 */
class LegacyQuantExactLogitsTest {
    private static final int STEPS = 16;
    private static final String[] PROMPTS = {
        "The quick brown fox jumps over the lazy dog.",
        "Once upon a time, in a land far away, there lived a",
        "Hi",
        "",
    };

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (GgmlType type : List.of(GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1)) {
            for (KvCacheType kv : KvCacheType.values()) {
                cases.add(Arguments.of(type, kv));
            }
        }
        return cases.stream();
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
                double prefill = maxDiff(expected[0], logits);
                double decode = 0;
                int worstStep = 0;
                for (int i = 0; i < continuation.length; i++) {
                    logits = tf.forward(state, continuation, i, ids.length + i, 1, null, true);
                    double d = maxDiff(expected[i + 1], logits);
                    if (d > decode) {
                        decode = d;
                        worstStep = i + 1;
                    }
                }
                System.out.printf(Locale.ROOT,
                        "%s %s KV \"%s\" (%d prompt tokens): max |Δlogit| %.3e after the batched prompt, %.3e over"
                                + " %d decode steps (worst step %d)%n",
                        spec.label(), kvType, prompt, ids.length, prefill, decode, continuation.length, worstStep);
                assertEquals(0.0, prefill, spec.label() + " " + kvType + " KV, prompt \"" + prompt
                        + "\": logits after the batched prompt differ from llama.cpp's by " + prefill);
                assertEquals(0.0, decode, spec.label() + " " + kvType + " KV, prompt \"" + prompt
                        + "\": logits differ from llama.cpp's by " + decode + " at decode step " + worstStep);
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
