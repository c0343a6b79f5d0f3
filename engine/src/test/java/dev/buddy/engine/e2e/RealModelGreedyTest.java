package dev.buddy.engine.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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

/**
 * Greedy continuations of real models must be token-for-token llama.cpp's: 6 prompts × 64 tokens per model and KV
 * cache type. Both engines start from llama.cpp's tokenization of the prompt (the TinyStories GGUF's SentencePiece
 * scores are all -1000, so tokenizers may legitimately disagree on it; the forward pass is what is compared here).
 */
class RealModelGreedyTest {
    private static final int NEW_TOKENS = 64;
    private static final String[] PROMPTS = {
        "Once upon a time",
        "The little dog",
        "Lily and Tom went to the park. They",
        "One day, a big bird",
        "Sam was sad because",
        "",
    };

    @ParameterizedTest(name = "{0} with {1} KV cache")
    @CsvSource({
        "models/stories260K.gguf, F32",
        "models/stories260K.gguf, F16",
        "models/TinyStories-656K-Q8_0.gguf, F32",
        "models/TinyStories-656K-Q8_0.gguf, F16",
    })
    void greedyTokensAreLlamaCpps(String file, KvCacheType kvType) throws IOException {
        Path path = TestData.require(file);
        LlamaCppReference.Options options = LlamaCppReference.Options.defaults()
                .withKvCacheType(LlamaCppReference.KvCacheType.valueOf(kvType.name()));
        List<String> nearTies = new ArrayList<>();
        List<String> realDivergences = new ArrayList<>();
        int identical = 0;
        int total = 0;
        try (LlamaCppReference llama = LlamaCppReference.open(path, options);
                Model model = Model.load(path);
                Parallel pool = new Parallel(1)) {
            Transformer tf = new Transformer(model, pool);
            InferenceState state = tf.newState(256, kvType, 32, SkippedKvPolicy.ZEROS);
            for (String prompt : PROMPTS) {
                int[] ids = llama.tokenize(prompt, true);
                GreedyComparison.Outcome o = GreedyComparison.compare(tf, state, llama, ids, NEW_TOKENS);
                identical += o.identical();
                total += NEW_TOKENS;
                String line = file + " " + kvType + " \"" + prompt + "\": " + o.describe();
                System.out.println(line);
                if (o.nearTie()) {
                    nearTies.add(line);
                } else if (o.diverged()) {
                    realDivergences.add(line);
                }
            }
        }
        System.out.println(file + " " + kvType + ": " + identical + "/" + total + " greedy tokens identical"
                + (nearTies.isEmpty() ? "" : ", near-tie divergences: " + nearTies));
        assertTrue(realDivergences.isEmpty(),
                "divergence away from a near-tie: " + realDivergences);
        // A near-tie may flip at most one continuation per model and cache type; anything more needs a look.
        assertTrue(nearTies.size() <= 1, "too many near-tie divergences: " + nearTies);
    }
}
