package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.gguf.TestData;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class PerplexityTest {

    @Property(tries = 1000)
    void windowsScoreEveryTokenButTheFirstExactlyOnce(@ForAll @IntRange(min = 2, max = 3000) int tokens,
                                                     @ForAll @IntRange(min = 2, max = 600) int window,
                                                     @ForAll @IntRange(min = 1, max = 600) int strideSeed) {
        int stride = 1 + (strideSeed - 1) % (window - 1);
        List<PerplexityWindow> windows = PerplexityWindows.plan(tokens, window, stride);
        int[] scored = new int[tokens];
        for (int j = 0; j < windows.size(); j++) {
            PerplexityWindow w = windows.get(j);
            assertEquals((long) j * stride, w.begin(), "HF's windows start at multiples of the stride");
            assertTrue(w.end() - w.begin() <= window);
            assertTrue(w.positionsUsed() < window);
            if (j > 0) {
                assertEquals(window - stride, w.contextTokens(), "later windows condition on the overlap");
            }
            for (int t = w.scoreFrom(); t < w.end(); t++) {
                scored[t]++;
            }
        }
        assertEquals(0, scored[0], "nothing predicts the first token");
        for (int t = 1; t < tokens; t++) {
            assertEquals(1, scored[t], "token " + t);
        }
        assertEquals(tokens, windows.getLast().end());
    }

    @Test
    void defaultWindowIsHalfOverlapping() {
        assertEquals(512, PerplexityWindows.defaultWindow(4096));
        assertEquals(128, PerplexityWindows.defaultWindow(128));
        assertEquals(256, PerplexityWindows.defaultStride(512));
        List<PerplexityWindow> w = PerplexityWindows.plan(1000, 512, 256);
        assertEquals(List.of(new PerplexityWindow(0, 1, 512), new PerplexityWindow(256, 512, 768),
                new PerplexityWindow(512, 768, 1000)), w);
    }

    @Test
    void badWindowsAreRefused() {
        assertThrows(InvalidEvalOptionException.class, () -> PerplexityWindows.plan(100, 1, 1));
        assertThrows(InvalidEvalOptionException.class, () -> PerplexityWindows.plan(100, 8, 8));
        assertThrows(InvalidEvalOptionException.class, () -> PerplexityWindows.plan(100, 8, 0));
        assertThrows(InvalidEvalOptionException.class, () -> PerplexityWindows.plan(1, 8, 4));
    }

    /** Every next token equally likely: the perplexity of any text is exactly the vocabulary size. */
    private static final class UniformModel implements TokenModel {
        private final float[] logits = new float[50];

        @Override
        public int vocabSize() {
            return logits.length;
        }

        @Override
        public int contextLength() {
            return 32;
        }

        @Override
        public int layerCount() {
            return 4;
        }

        @Override
        public int kvDim() {
            return 2;
        }

        @Override
        public float[] forward(int[] tokens, int offset, int startPos, int n, LayerPlanner planner) {
            assertTrue(startPos + n <= contextLength());
            return logits;
        }

        @Override
        public void forwardEach(int[] tokens, int offset, int startPos, int n, LayerPlanner planner,
                dev.buddy.engine.model.LogitsConsumer consumer) {
            assertTrue(startPos + n <= contextLength());
            for (int t = 0; t < n; t++) {
                consumer.accept(startPos + t, logits, 0);
            }
        }

        @Override
        public void layer0Value(int position, float[] dst, int dstOffset) {
            Arrays.fill(dst, dstOffset, dstOffset + 2, position);
        }

        @Override
        public void layer0Key(int position, float[] dst, int dstOffset) {
            Arrays.fill(dst, dstOffset, dstOffset + 2, -position);
        }
    }

    @Test
    void aUniformModelHasThePerplexityOfItsVocabulary() {
        UniformModel model = new UniformModel();
        LogLikelihoodScorer scorer = new LogLikelihoodScorer(model, new ToyCausalModel.Encoder(50),
                PlannerSource.DENSE, RoutingMode.PER_TOKEN, false);
        int[] stream = new int[301];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = (i * 13) % 50;
        }
        long[] progress = {0};
        PerplexityResult r = PerplexityEvaluator.evaluate(PerplexityCorpus.TINYSTORIES, stream, scorer, 32, 16,
                units -> progress[0] += units);
        assertEquals(300, r.tokensScored());
        assertEquals(300, progress[0]);
        assertEquals(50.0, r.perplexity(), 1e-9);
        assertEquals(Math.log(50), r.meanNegLogLikelihood(), 1e-12);
    }

    @Test
    void perplexityOfAToyModelIsTheExponentOfItsMeanTokenLoss() {
        ToyCausalModel model = new ToyCausalModel(40, 6, 4, 48, 8);
        LogLikelihoodScorer scorer = new LogLikelihoodScorer(model, new ToyCausalModel.Encoder(40),
                PlannerSource.DENSE, RoutingMode.PER_TOKEN, false);
        int[] stream = new int[200];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = 3 + (i * 7) % 37;
        }
        PerplexityResult r = PerplexityEvaluator.evaluate(PerplexityCorpus.WIKITEXT2, stream, scorer, 48, 24,
                ProgressListener.NONE);
        // The same windows scored one by one with a fresh model each.
        double logLikelihood = 0;
        for (PerplexityWindow w : PerplexityWindows.plan(200, 48, 24)) {
            LogLikelihoodScorer fresh = new LogLikelihoodScorer(new ToyCausalModel(40, 6, 4, 48, 8),
                    new ToyCausalModel.Encoder(40), PlannerSource.DENSE, RoutingMode.PER_TOKEN, false);
            double[] perToken = new double[w.scoredTokens()];
            fresh.scoreTokens(Arrays.copyOfRange(stream, w.begin(), w.scoreFrom()),
                    Arrays.copyOfRange(stream, w.scoreFrom(), w.end()), perToken);
            logLikelihood += Arrays.stream(perToken).sum();
        }
        assertEquals(Math.exp(-logLikelihood / 199), r.perplexity(), 1e-9);
        assertTrue(r.perplexity() > 1 && Double.isFinite(r.perplexity()));
    }

    @Test
    void tokenStreamStartsEachDocumentWithBosAndStopsAtTheLimit() {
        ToyCausalModel.Encoder enc = new ToyCausalModel.Encoder(40);
        int[] stream = PerplexityEvaluator.tokenStream(List.of("hi", "yo!"), enc, true, 100);
        int[] expected = {1, enc.encode("hi")[0], enc.encode("hi")[1], 1, enc.encode("yo!")[0], enc.encode("yo!")[1],
                enc.encode("yo!")[2]};
        assertArrayEquals(expected, stream);
        assertArrayEquals(Arrays.copyOf(expected, 4), PerplexityEvaluator.tokenStream(List.of("hi", "yo!"), enc,
                true, 4));
        assertArrayEquals(new int[] {enc.encode("hi")[0], enc.encode("hi")[1], enc.encode("yo!")[0]},
                PerplexityEvaluator.tokenStream(List.of("hi", "yo!"), enc, false, 3));
    }

    @Test
    void corporaSplitIntoDocuments() throws IOException {
        Path root = TestData.require("datasets/tinystories/tinystories-valid-sample.txt").getParent().getParent();
        List<String> stories = PerplexityCorpus.TINYSTORIES.documents(root);
        assertEquals(1841, stories.size(), "SOURCES.md §4: 1841 stories");
        assertTrue(stories.getFirst().startsWith("Spot. Spot saw the shiny car"), stories.getFirst());
        for (String s : stories) {
            assertFalse(s.contains(PerplexityCorpus.STORY_SEPARATOR));
            assertFalse(s.startsWith("\uFEFF"));
        }
        TestData.require("datasets/wikitext/wikitext-2-raw/wiki.test.raw");
        List<String> wiki = PerplexityCorpus.WIKITEXT2.documents(root);
        assertEquals(1, wiki.size());
        assertTrue(wiki.getFirst().startsWith(" \n = Robert Boulter = \n"));
        assertEquals(1290590, wiki.getFirst().getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    }
}
