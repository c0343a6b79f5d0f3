package dev.buddy.engine.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.tensor.Parallel;

/**
 * Greedy continuations of the real SmolLM2-135M-Instruct against llama.cpp's: 5 chat-formatted prompts × 64 tokens,
 * identical token for token with both KV cache types (the logits are llama.cpp's bit for bit).
 * The GGUF is not part of the shared test data, so this runs only when the system property or environment variable
 * {@value #LOCATION} names the file, and is skipped (never failed) otherwise, in CI as well.
 */
class SmolLm2GreedyTest {
    static final String LOCATION = "BUDDY_SMOLLM2";
    private static final int NEW_TOKENS = 64;
    private static final String[] QUESTIONS = {
        "What is the capital of France?",
        "Write a haiku about the sea.",
        "Explain in two sentences why the sky is blue.",
        "List three fruits that are red.",
        "How do I reverse a string in Python?",
    };

    @ParameterizedTest(name = "SmolLM2 with {0} KV cache")
    @EnumSource(KvCacheType.class)
    void greedyTokensAreLlamaCpps(KvCacheType kvType) throws Exception {
        String location = System.getProperty(LOCATION, System.getenv(LOCATION));
        Assumptions.assumeTrue(location != null && !location.isBlank(),
                "set -D" + LOCATION + "=<path to SmolLM2-135M-Instruct GGUF> (or the environment variable) to run");
        Path path = Path.of(location);
        Assumptions.assumeTrue(Files.isRegularFile(path), LOCATION + " names no file: " + path);
        LlamaCppReference.Options options = LlamaCppReference.Options.defaults().withContextSize(512)
                .withKvCacheType(LlamaCppReference.KvCacheType.valueOf(kvType.name()));
        List<String> divergences = new ArrayList<>();
        int identical = 0;
        try (LlamaCppReference llama = LlamaCppReference.open(path, options);
                Model model = Model.load(path);
                Parallel pool = new Parallel(1)) {
            Transformer tf = new Transformer(model, pool);
            InferenceState state = tf.newState(512, kvType, 64, SkippedKvPolicy.ZEROS);
            for (String question : QUESTIONS) {
                String chat = "<|im_start|>user\n" + question + "<|im_end|>\n<|im_start|>assistant\n";
                int[] ids = llama.tokenize(chat, true, true);
                GreedyComparison.Outcome o = GreedyComparison.compare(tf, state, llama, ids, NEW_TOKENS);
                identical += o.identical();
                String line = "SmolLM2 " + kvType + " \"" + question + "\": " + o.describe();
                System.out.println(line);
                if (o.diverged()) { // not even at a near-tie: the run is bit-exact, so any parting is a regression
                    divergences.add(line);
                }
            }
        }
        System.out.println("SmolLM2 " + kvType + ": " + identical + "/" + QUESTIONS.length * NEW_TOKENS
                + " greedy tokens identical before any divergence");
        assertTrue(divergences.isEmpty(), "greedy tokens part from llama.cpp's: " + divergences);
    }
}
