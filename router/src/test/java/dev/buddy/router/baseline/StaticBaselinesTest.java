package dev.buddy.router.baseline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TestData;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.ModelFingerprint;
import dev.buddy.router.Provenance;
import dev.buddy.router.Router;
import dev.buddy.router.RouterFile;
import dev.buddy.router.StaticPlan;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The static baselines on the real stories260K model (5 blocks: middle blocks 1..3) and a few hundred tokens. */
class StaticBaselinesTest {
    static final int CALIBRATION_TOKENS = 200;
    static final int WINDOW = 64;

    static Model model;
    static int[] tokens;
    static CalibrationRunner runner;
    static Provenance base;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() throws IOException {
        Path path = TestData.require("models/stories260K.gguf");
        Path text = TestData.require("datasets/wikitext/wikitext-2-raw/wiki.test.raw");
        model = Model.load(path, VectorWidth.SCALAR);
        tokens = CalibrationTokens.load(text, model.tokenizer(), CALIBRATION_TOKENS);
        runner = new CalibrationRunner(model, tokens, WINDOW, 1);
        try (GgufFile f = GgufFile.open(path)) {
            base = new Provenance(ModelFingerprint.of(f), "llama", true, new float[0], "none", "none");
        }
    }

    @AfterAll
    static void tearDown() {
        if (runner != null) {
            runner.close();
        }
        if (model != null) {
            model.close();
        }
    }

    @Test
    void calibrationTakesExactlyTheFirstNTokensOfTheText() throws IOException {
        assertEquals(CALIBRATION_TOKENS, tokens.length);
        Path text = TestData.require("datasets/wikitext/wikitext-2-raw/wiki.test.raw");
        int[] longer = CalibrationTokens.load(text, model.tokenizer(), 2 * CALIBRATION_TOKENS);
        assertArrayEquals(tokens, Arrays.copyOf(longer, CALIBRATION_TOKENS), "a prefix of a longer calibration");
        assertEquals(CALIBRATION_TOKENS - (CALIBRATION_TOKENS + WINDOW - 1) / WINDOW, runner.predictedTokens());
    }

    @Test
    void calibrationRejectsTextWithoutTokens() throws IOException {
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "");
        assertThrows(CalibrationException.class, () -> CalibrationTokens.load(empty, model.tokenizer(), 100));
    }

    @Test
    void observedLogitsMatchTheEngine() {
        int[] window = Arrays.copyOf(tokens, WINDOW);
        float[] engine = runner.engineLastPositionLogits(window);
        float[] observed = runner.lastPositionLogits(window);
        assertEquals(engine.length, observed.length);
        for (int v = 0; v < engine.length; v++) {
            assertEquals(engine[v], observed[v], 1e-4f * Math.max(1f, Math.abs(engine[v])), "logit " + v);
        }
    }

    /** Reference: the engine decoding token by token, its own last-position logits at every step. */
    private static double referenceMeanNll(boolean[] removed) {
        double sum = 0;
        long count = 0;
        try (Parallel pool = new Parallel(1)) {
            Transformer t = new Transformer(model, pool);
            InferenceState s = t.newState(WINDOW, KvCacheType.F32, 1, SkippedKvPolicy.MASK);
            for (int start = 0; start + 1 < tokens.length; start += WINDOW) {
                int n = Math.min(WINDOW, tokens.length - start);
                s.reset();
                for (int p = 0; p + 1 < n; p++) {
                    float[] logits = t.forward(s, tokens, start + p, p, 1, (ctx, run) -> {
                        for (int b = 1; b < run.length; b++) {
                            run[b] &= !removed[b];
                        }
                    }, true);
                    double max = Double.NEGATIVE_INFINITY;
                    for (float l : logits) {
                        max = Math.max(max, l);
                    }
                    double z = 0;
                    for (float l : logits) {
                        z += Math.exp(l - max);
                    }
                    sum += Math.log(z) + max - logits[tokens[start + p + 1]];
                    count++;
                }
            }
        }
        return sum / count;
    }

    @Test
    void windowedLossMatchesTokenByTokenDecoding() {
        boolean[] full = new boolean[5];
        boolean[] withoutBlock2 = new boolean[5];
        withoutBlock2[2] = true;
        assertEquals(referenceMeanNll(full), runner.meanNll(full), 1e-4);
        assertEquals(referenceMeanNll(withoutBlock2), runner.meanNll(withoutBlock2), 1e-4);
    }

    @Test
    void blockInfluenceLiesInZeroToTwoForEveryMiddleBlock() {
        double[] bi = new StaticBaselines(runner, Progress.NONE).blockInfluence();
        assertEquals(3, bi.length);
        for (double v : bi) {
            assertTrue(v >= 0 && v <= 2, "BI " + v);
        }
        assertTrue(Arrays.stream(bi).anyMatch(v -> v > 0), "blocks change the residual: " + Arrays.toString(bi));
    }

    @Test
    void deltaPerplexityIsTheClippedIncreaseOverTheFullModel() {
        List<int[]> calls = new ArrayList<>();
        double[] delta = new StaticBaselines(runner, (done, total) -> calls.add(new int[] {done, total}))
                .deltaPerplexity();
        double full = runner.perplexity(new boolean[5]);
        for (int i = 0; i < 3; i++) {
            boolean[] removed = new boolean[5];
            removed[i + 1] = true;
            assertTrue(delta[i] >= 0, "ΔPPL " + delta[i]);
            assertEquals(Math.max(0, runner.perplexity(removed) - full), delta[i], 1e-9);
        }
        assertEquals(4, calls.size(), "one pass for the full model and one per middle block");
        assertArrayEquals(new int[] {4, 4}, calls.get(3));
        assertEquals(StaticBaselines.passes(BaselineMethod.PPL, 5, 0), 4);
    }

    @Test
    void slebRemovesTheDeltaPerplexityArgminFirst() {
        int argmin = -1;
        double best = Double.POSITIVE_INFINITY;
        for (int b = 1; b <= 3; b++) {
            boolean[] removed = new boolean[5];
            removed[b] = true;
            double ppl = runner.perplexity(removed);
            if (ppl < best) {
                best = ppl;
                argmin = b;
            }
        }
        int[] passes = {0};
        SlebResult sleb = new StaticBaselines(runner, (done, total) -> passes[0] = done).sleb(2);
        assertEquals(argmin, sleb.removalOrder()[0]);
        assertEquals(best, sleb.perplexityAfter()[0], 1e-9);
        assertEquals(StaticBaselines.passes(BaselineMethod.SLEB, 5, 2), passes[0]);
        assertEquals(1 + 3 + 2, passes[0]);
        // The second removal is the best of the two remaining, measured with the first already gone.
        boolean[] removed = new boolean[5];
        removed[sleb.removalOrder()[0]] = true;
        double second = Double.POSITIVE_INFINITY;
        for (int b = 1; b <= 3; b++) {
            if (!removed[b]) {
                removed[b] = true;
                second = Math.min(second, runner.perplexity(removed));
                removed[b] = false;
            }
        }
        assertEquals(second, sleb.perplexityAfter()[1], 1e-9);
    }

    @Test
    void everyMethodGivesAValidPlanThatRoundTripsThroughRouterFile() throws IOException {
        BaseModelInfo info;
        try (GgufFile f = GgufFile.open(model.path())) {
            info = BaseModelInfo.of(f);
        }
        StaticBaselines baselines = new StaticBaselines(runner, Progress.NONE);
        for (BaselineMethod method : BaselineMethod.values()) {
            StaticPlan plan = baselines.build(method, method.cliName(), base, 2, PriorIndicator.DPPL);
            assertEquals(method.fileMethod(), plan.provenance().method());
            for (int k = 1; k <= 3; k++) {
                boolean[] mask = plan.maskFor(k);
                assertTrue(mask[0] && mask[4], method + ": first and last block always run");
                int count = 0;
                for (boolean m : mask) {
                    count += m ? 1 : 0;
                }
                assertEquals(k + 2, count, method + " k=" + k);
            }
            assertEquals(3, plan.ranking().length, method + " ranks every middle block");
            Path file = dir.resolve(method.cliName() + ".gguf");
            RouterFile.write(plan, file);
            Router back = RouterFile.load(file, info);
            StaticPlan read = assertInstanceOfStatic(back);
            assertArrayEquals(plan.ranking(), read.ranking());
            Map<Integer, int[]> sets = plan.setsByK();
            assertEquals(sets.keySet(), read.setsByK().keySet());
            sets.forEach((k, v) -> assertArrayEquals(v, read.setsByK().get(k)));
            assertEquals(plan.provenance(), read.provenance());
        }
    }

    private static StaticPlan assertInstanceOfStatic(Router r) {
        assertTrue(r instanceof StaticPlan, "a static plan comes back: " + r);
        return (StaticPlan) r;
    }

    @Test
    void priorOnlyRanksLikeItsIndicator() {
        StaticBaselines baselines = new StaticBaselines(runner, Progress.NONE);
        // Every App. B step is monotone, so the prior keeps the indicator's order (ties aside).
        double[] bi = baselines.blockInfluence();
        int[] byCosine = baselines.build(BaselineMethod.PRIOR, "p", base, 1, PriorIndicator.COSINE).ranking();
        for (int r = 0; r + 1 < byCosine.length; r++) {
            assertTrue(bi[byCosine[r] - 1] >= bi[byCosine[r + 1] - 1], "cosine prior order " + Arrays.toString(byCosine));
        }
        assertArrayEquals(baselines.build(BaselineMethod.PPL, "d", base, 1, PriorIndicator.DPPL).ranking(),
                baselines.build(BaselineMethod.PRIOR, "p", base, 1, PriorIndicator.DPPL).ranking());
    }

    @Test
    void slebSetsAreNestedAndFollowTheRemovalOrder() {
        SlebResult result = new SlebResult(new int[] {2, 3}, new double[] {5, 6}, 4);
        StaticPlan plan = StaticBaselines.slebPlan("s", 5, result, base);
        assertArrayEquals(new int[] {1, 3}, plan.setsByK().get(2));
        assertArrayEquals(new int[] {1}, plan.setsByK().get(1));
        assertArrayEquals(new int[] {1, 3, 2}, plan.ranking());
        StaticPlan partial = StaticBaselines.slebPlan("s", 5, new SlebResult(new int[] {3}, new double[] {5}, 4), base);
        assertEquals(0, partial.ranking().length, "an incomplete search has no full ranking");
        assertArrayEquals(new int[] {1, 2}, partial.setsByK().get(2));
        assertFalse(partial.setsByK().containsKey(1));
        assertThrows(IllegalArgumentException.class, () -> new StaticBaselines(runner, Progress.NONE).sleb(3));
    }
}
