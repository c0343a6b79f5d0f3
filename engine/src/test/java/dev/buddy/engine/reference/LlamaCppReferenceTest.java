package dev.buddy.engine.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.gguf.TestData;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LlamaCppReferenceTest {
    private static final String PROMPT = "Once upon a time";

    private static Path model(String file) {
        return TestData.require("models/" + file);
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "TinyStories-656K-Q8_0.gguf"})
    void tokenizeAddsBosOnlyWhenAsked(String file) {
        try (LlamaCppReference llama = LlamaCppReference.open(model(file))) {
            int[] withBos = llama.tokenize(PROMPT, true);
            int[] withoutBos = llama.tokenize(PROMPT, false);

            assertTrue(withBos.length > 1, "tokens: " + Arrays.toString(withBos));
            assertEquals(llama.bosToken(), withBos[0]);
            assertNotEquals(llama.bosToken(), withoutBos[0]);
            assertArrayEquals(Arrays.copyOfRange(withBos, 1, withBos.length), withoutBos);
            assertEquals(PROMPT, llama.detokenize(withoutBos).strip());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "TinyStories-656K-Q8_0.gguf"})
    void greedyIsDeterministicAndReadsAsAContinuation(String file) {
        try (LlamaCppReference llama = LlamaCppReference.open(model(file))) {
            int[] first = llama.greedy(PROMPT, 32);
            int[] second = llama.greedy(PROMPT, 32);

            assertEquals(32, first.length);
            assertArrayEquals(first, second);
            assertArrayEquals(first, llama.greedy(llama.tokenize(PROMPT, true), 32));
            String continuation = llama.detokenize(first);
            assertFalse(continuation.isBlank(), "continuation: " + Arrays.toString(first));
            assertTrue(continuation.chars().anyMatch(Character::isLetter), "continuation: " + continuation);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "TinyStories-656K-Q8_0.gguf"})
    void topKCandidatesLeadWithTheChosenTokenAndAreSorted(String file) {
        try (LlamaCppReference llama = LlamaCppReference.open(model(file))) {
            int[] prompt = llama.tokenize(PROMPT, true);
            GreedyRun run = llama.greedyRun(prompt, 16, 10, false);

            int[] generated = run.generatedTokens();
            assertEquals(16, run.topKPerStep().size());
            for (int step = 0; step < generated.length; step++) {
                List<TokenProbability> candidates = run.topKPerStep().get(step);
                assertEquals(10, candidates.size());
                assertEquals(generated[step], candidates.getFirst().tokenId());
                assertEquals(llama.piece(generated[step]), candidates.getFirst().piece());
                double total = 0;
                for (int i = 0; i < candidates.size(); i++) {
                    total += candidates.get(i).probability();
                    if (i > 0) {
                        assertTrue(candidates.get(i - 1).logit() >= candidates.get(i).logit());
                    }
                }
                assertTrue(total > 0 && total <= 1 + 1e-9, "top-10 mass " + total);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "TinyStories-656K-Q8_0.gguf"})
    void teacherForcingAgreesWithStepByStepGeneration(String file) {
        try (LlamaCppReference llama = LlamaCppReference.open(model(file))) {
            int[] prompt = llama.tokenize(PROMPT, true);
            GreedyRun run = llama.greedyRun(prompt, 12, 10, false);
            int[] generated = run.generatedTokens();
            int[] sequence = concat(prompt, generated);

            // One batched causal pass over prompt + continuation must predict each continuation token again.
            float[][] rows = llama.logitsAtEveryPosition(sequence);
            assertEquals(sequence.length, rows.length);
            for (int i = 0; i < generated.length; i++) {
                float[] row = rows[prompt.length - 1 + i];
                assertEquals(llama.vocabularySize(), row.length);
                assertEquals(generated[i], llama.topK(row, 1).getFirst().tokenId(), "step " + i);
            }
            // The prompt-only distribution is the first step of the generation.
            List<TokenProbability> firstStep = llama.nextTokenDistribution(prompt, 10);
            assertEquals(ids(run.topKPerStep().getFirst()), ids(firstStep));
            assertArrayEquals(llama.nextTokenLogits(prompt), rows[prompt.length - 1], 1e-4f);
        }
    }

    @Test
    void timingsCountPromptBatchAndSingleTokenDecodes() {
        try (LlamaCppReference llama = LlamaCppReference.open(model("stories260K.gguf"))) {
            int[] prompt = llama.tokenize(PROMPT, true);
            LlamaTimings timings = llama.greedyRun(prompt, 8, 0, false).timings();

            assertEquals(prompt.length, timings.promptTokens());
            assertEquals(7, timings.evalTokens(), "the last generated token is never decoded");
            assertTrue(timings.promptMillis() >= 0 && timings.evalMillis() >= 0, timings.toString());
        }
    }

    @Test
    void stopsAfterEndOfGenerationOnlyWhenAsked() {
        try (LlamaCppReference llama = LlamaCppReference.open(model("stories260K.gguf"))) {
            int[] prompt = llama.tokenize(PROMPT, true);
            int[] full = llama.greedyRun(prompt, 200, 0, false).generatedTokens();
            int[] stopped = llama.greedyRun(prompt, 200, 0, true).generatedTokens();

            assertEquals(200, full.length);
            int firstEnd = firstEndOfGeneration(llama, full);
            if (firstEnd < 0) {
                assertArrayEquals(full, stopped);
            } else {
                assertArrayEquals(Arrays.copyOf(full, firstEnd + 1), stopped);
            }
        }
    }

    @Test
    void loadsModelsOneAfterAnotherAndReproducesResults() {
        Path small = model("stories260K.gguf");
        Path quantized = model("TinyStories-656K-Q8_0.gguf");
        int[] before;
        try (LlamaCppReference llama = LlamaCppReference.open(small)) {
            before = llama.greedy(PROMPT, 8);
        }
        try (LlamaCppReference other = LlamaCppReference.open(quantized);
                LlamaCppReference again = LlamaCppReference.open(small)) {
            assertEquals(2048, other.vocabularySize());
            assertEquals(512, again.vocabularySize());
            assertArrayEquals(before, again.greedy(PROMPT, 8));
        }
    }

    @Test
    void rejectsMisuseWithTypedExceptions() {
        LlamaCppReference llama = LlamaCppReference.open(model("stories260K.gguf"),
                LlamaCppReference.Options.defaults().withContextSize(16));
        assertThrows(IllegalArgumentException.class, () -> llama.greedy(new int[] {1, 99999}, 4));
        assertThrows(IllegalArgumentException.class, () -> llama.greedy(new int[0], 4));
        // llama.cpp may round the context up, so the limit is taken from what it allocated.
        int tooManyNewTokens = llama.contextSize() - 1;
        assertThrows(IllegalArgumentException.class, () -> llama.greedy(new int[] {1, 2, 3}, tooManyNewTokens));
        llama.close();
        llama.close();
        assertThrows(IllegalStateException.class, () -> llama.tokenize(PROMPT, true));

        assertThrows(LlamaCppException.class, () -> LlamaCppReference.open(Path.of("no-such-model.gguf")));
    }

    @Test
    void reportsTheBundledLlamaCppBuild() {
        assertTrue(LlamaCppReference.llamaCppVersion().matches("b\\d+ \\([0-9a-f]+\\)"),
                LlamaCppReference.llamaCppVersion());
        assertFalse(LlamaCppReference.llamaCppSystemInfo().isBlank());
    }

    private static int firstEndOfGeneration(LlamaCppReference llama, int[] ids) {
        for (int i = 0; i < ids.length; i++) {
            if (llama.isEndOfGeneration(ids[i])) {
                return i;
            }
        }
        return -1;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }

    private static List<Integer> ids(List<TokenProbability> candidates) {
        return candidates.stream().map(TokenProbability::tokenId).toList();
    }
}
