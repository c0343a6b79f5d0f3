package dev.buddy.engine.e2e;

import java.nio.file.Path;
import java.util.Locale;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.gguf.TestData;

class DecodeLogitsDiagnostic {
    private static final String[] PROMPTS = {
        "Once upon a time", "The little dog", "Lily and Tom went to the park. They", "One day, a big bird",
        "Sam was sad because", "",
    };

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"models/TinyStories-656K-Q8_0.gguf, F32", "models/TinyStories-656K-Q8_0.gguf, F16",
        "models/stories260K.gguf, F32", "models/stories260K.gguf, F16"})
    void measure(String file, KvCacheType kvType) throws Exception {
        Path path = TestData.require(file);
        LlamaCppReference.Options options = LlamaCppReference.Options.defaults()
                .withKvCacheType(LlamaCppReference.KvCacheType.valueOf(kvType.name()));
        try (LlamaCppReference llama = LlamaCppReference.open(path, options);
                Model model = Model.load(path);
                Parallel pool = new Parallel(1)) {
            Transformer tf = new Transformer(model, pool);
            InferenceState state = tf.newState(256, kvType, 32, SkippedKvPolicy.ZEROS);
            double worstPrefill = 0;
            double worstDecode = 0;
            for (String prompt : PROMPTS) {
                int[] ids = llama.tokenize(prompt, true);
                int[] cont = llama.greedy(ids, 64);
                float[][] ref = llama.decodeLogits(ids, java.util.Arrays.copyOf(cont, 63));
                state.reset();
                float[] logits = tf.forward(state, ids, 0, ids.length, null, true);
                double prefill = maxDiff(ref[0], logits);
                double decode = 0;
                int firstStep = -1;
                for (int i = 0; i < 63; i++) {
                    logits = tf.forward(state, cont, i, ids.length + i, 1, null, true);
                    double d = maxDiff(ref[i + 1], logits);
                    if (d > 0 && firstStep < 0) {
                        firstStep = i + 1;
                        System.out.printf(Locale.ROOT, "DIAG   first nonzero step %d: max %.3e, token fed %d at position %d%n",
                                i + 1, d, cont[i], ids.length + i);
                    }
                    decode = Math.max(decode, d);
                }
                worstPrefill = Math.max(worstPrefill, prefill);
                worstDecode = Math.max(worstDecode, decode);
                System.out.printf(Locale.ROOT, "DIAG %s %s \"%s\" (%d tokens): prefill %.3e, decode max %.3e,"
                        + " first nonzero decode step %d%n", file, kvType, prompt, ids.length, prefill, decode,
                        firstStep);
            }
            System.out.printf(Locale.ROOT, "DIAG %s %s vector.bits=%s: worst prefill %.3e, worst decode %.3e%n",
                    file, kvType, System.getProperty("buddy.vector.bits"), worstPrefill, worstDecode);
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
