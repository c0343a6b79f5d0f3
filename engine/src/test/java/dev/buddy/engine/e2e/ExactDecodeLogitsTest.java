package dev.buddy.engine.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.gguf.TestData;

/**
 * TinyStories-656K (Q8_0 weights, F32 norms) goes through kernels whose order Buddy reproduces exactly: the Q8_0
 * dots, both attention paths for both KV types, ggml's expf polynomial in softmax and SiLU, and RoPE's fused
 * multiply-adds. Its logits must then be llama.cpp's bit for bit, after the batched prompt and after every
 * single-token decode step along llama.cpp's own greedy continuation. Any difference (not just a flipped token) is a
 * regression in one of those orders.
 */
class ExactDecodeLogitsTest {
    private static final int STEPS = 32;
    private static final String[] PROMPTS = {
        "Once upon a time", "The little dog", "Lily and Tom went to the park. They", "One day, a big bird",
        "Sam was sad because", "",
    };

    @ParameterizedTest(name = "TinyStories-656K-Q8_0 with {0} KV cache")
    @EnumSource(KvCacheType.class)
    void logitsAreLlamaCppsBitForBit(KvCacheType kvType) throws IOException {
        Path path = TestData.require("models/TinyStories-656K-Q8_0.gguf");
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
                for (int i = 0; i < continuation.length; i++) {
                    logits = tf.forward(state, continuation, i, ids.length + i, 1, null, true);
                    double d = maxDiff(expected[i + 1], logits);
                    if (d > worst) {
                        worst = d;
                        worstStep = i + 1;
                    }
                }
                System.out.printf(Locale.ROOT, "%s KV \"%s\": max |Δlogit| %.3e (step %d of %d)%n", kvType, prompt,
                        worst, worstStep, STEPS);
                assertEquals(0.0, worst, kvType + " KV, prompt \"" + prompt + "\": logits differ from llama.cpp's by "
                        + worst + " at step " + worstStep + " (0 = after the batched prompt)");
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
