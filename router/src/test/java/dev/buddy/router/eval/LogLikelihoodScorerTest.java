package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.router.Budget;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.Provenance;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.StaticPlan;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** The scorer's bookkeeping (shared prefill, rewinding, routing modes, truncation, tokens) on {@link ToyCausalModel}. */
class LogLikelihoodScorerTest {
    private static final int VOCAB = 40;
    private static final int LAYERS = 8;
    private static final int KV_DIM = 6;
    private static final int CONTEXT = 64;
    private static final int MAX_BATCH = 3;
    private static final String FINGERPRINT = "ab".repeat(32);

    private static final DynamicRouter ROUTER = RandomRouter.create(LAYERS, KV_DIM, FINGERPRINT, "llama", 7,
            FeatureSource.VALUE, Pooling.MEAN, false);
    private static final StaticPlan STATIC = new StaticPlan("shortgpt", LAYERS, new int[] {3, 1, 6, 2, 5, 4}, Map.of(),
            new Provenance(FINGERPRINT, "llama", true, new float[0], "shortgpt", "none"));

    enum Config {
        DENSE, BUDDY_PER_TOKEN, BUDDY_PREFILL, STATIC_PLAN;

        PlannerSource planners() {
            return switch (this) {
                case DENSE -> PlannerSource.DENSE;
                case BUDDY_PER_TOKEN, BUDDY_PREFILL -> PlannerSource.routed(ROUTER, Budget.fraction(0.5));
                case STATIC_PLAN -> PlannerSource.routed(STATIC, Budget.drop(3));
            };
        }

        RoutingMode mode() {
            return this == BUDDY_PREFILL ? RoutingMode.PREFILL : RoutingMode.PER_TOKEN;
        }
    }

    private static ToyCausalModel model() {
        return new ToyCausalModel(VOCAB, LAYERS, KV_DIM, CONTEXT, MAX_BATCH);
    }

    private static LogLikelihoodScorer scorer(ToyCausalModel model, Config config, boolean bos) {
        return new LogLikelihoodScorer(model, new ToyCausalModel.Encoder(VOCAB), config.planners(), config.mode(),
                bos);
    }

    private static int[] randomTokens(SplittableRandom random, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 3 + random.nextInt(VOCAB - 3);
        }
        return t;
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void sharingTheContextGivesWhatScoringEachChoiceFromScratchGives(Config config) {
        SplittableRandom random = new SplittableRandom(11);
        for (int trial = 0; trial < 20; trial++) {
            int[] context = randomTokens(random, 1 + random.nextInt(12));
            int[][] choices = new int[1 + random.nextInt(4)][];
            for (int i = 0; i < choices.length; i++) {
                choices[i] = randomTokens(random, 1 + random.nextInt(6));
            }
            ToyCausalModel shared = model();
            double[] together = scorer(shared, config, false).logLikelihoods(context, choices);
            int scratchTokens = 0;
            for (int i = 0; i < choices.length; i++) {
                ToyCausalModel fresh = model();
                double alone = scorer(fresh, config, false).logLikelihoods(context, new int[][] {choices[i]})[0];
                assertEquals(alone, together[i], 1e-12, "trial " + trial + " choice " + i);
                scratchTokens += fresh.forwardTokens;
            }
            assertEquals(context.length + Arrays.stream(choices).mapToInt(c -> c.length - 1).sum(),
                    shared.forwardTokens, "the context runs once");
            assertTrue(shared.forwardTokens <= scratchTokens);
        }
    }

    @Test
    void theRoutingModesDiffer() {
        SplittableRandom random = new SplittableRandom(5);
        int differ = 0;
        for (int trial = 0; trial < 20; trial++) {
            int[] context = randomTokens(random, 2 + random.nextInt(10));
            int[][] choice = {randomTokens(random, 6)};
            double perToken = scorer(model(), Config.BUDDY_PER_TOKEN, false).logLikelihoods(context, choice)[0];
            double prefill = scorer(model(), Config.BUDDY_PREFILL, false).logLikelihoods(context, choice)[0];
            differ += perToken != prefill ? 1 : 0;
        }
        assertTrue(differ > 0, "per-token rerouting changed no route in 20 sequences");
    }

    @Test
    void prefillModeHoldsTheRouteOfTheLastPrefillCall() {
        ToyCausalModel m = model();
        int[] context = randomTokens(new SplittableRandom(3), 8); // three planner calls of at most 3 tokens
        int[][] choices = {randomTokens(new SplittableRandom(4), 5), randomTokens(new SplittableRandom(5), 4)};
        scorer(m, Config.BUDDY_PREFILL, false).logLikelihoods(context, choices);
        // Continuations run batched: 4 tokens as calls of 3 and 1 (the toy's batch is 3), then 3 tokens as one call.
        assertEquals(3 + 2 + 1, m.calls.size());
        boolean[] prefillRoute = (boolean[]) m.calls.get(2)[2];
        assertEquals(2, (int) m.calls.get(2)[1]);
        int continuationTokens = 0;
        for (int c = 3; c < m.calls.size(); c++) {
            continuationTokens += (int) m.calls.get(c)[1];
            assertArrayEquals(prefillRoute, (boolean[]) m.calls.get(c)[2]);
        }
        assertEquals(4 + 3, continuationTokens);
        int middle = 0;
        for (int b = 1; b < LAYERS - 1; b++) {
            middle += prefillRoute[b] ? 1 : 0;
        }
        assertEquals(Budget.fraction(0.5).middleBlocks(LAYERS), middle);
    }

    @Test
    void perTokenModeReroutesEveryContinuationTokenLikeAFreshSequence() {
        ToyCausalModel shared = model();
        int[] context = randomTokens(new SplittableRandom(8), 7);
        int[][] choices = {randomTokens(new SplittableRandom(9), 6), randomTokens(new SplittableRandom(10), 6)};
        scorer(shared, Config.BUDDY_PER_TOKEN, false).logLikelihoods(context, choices);
        ToyCausalModel fresh = model();
        scorer(fresh, Config.BUDDY_PER_TOKEN, false).logLikelihoods(context, new int[][] {choices[1]});
        // The second choice's decode steps in the shared run route exactly as a sequence that only saw the context.
        List<Object[]> sharedSteps = shared.calls.subList(shared.calls.size() - 5, shared.calls.size());
        List<Object[]> freshSteps = fresh.calls.subList(fresh.calls.size() - 5, fresh.calls.size());
        for (int s = 0; s < 5; s++) {
            assertEquals(freshSteps.get(s)[0], sharedSteps.get(s)[0]);
            assertArrayEquals((boolean[]) freshSteps.get(s)[2], (boolean[]) sharedSteps.get(s)[2], "step " + s);
        }
    }

    /** Every position's mask, from the toy's call log (a per-call mask stands for each of its tokens). */
    private static boolean[][] masksByPosition(ToyCausalModel m) {
        boolean[][] masks = new boolean[CONTEXT][];
        for (Object[] call : m.calls) {
            for (int t = 0; t < (int) call[1]; t++) {
                masks[(int) call[0] + t] = (boolean[]) call[2];
            }
        }
        return masks;
    }

    /**
     * Batched continuations (one call, a route per token) score, route and count exactly as one decode call per
     * token does. The toy's logits hash every position's mask, so equal scores also mean equal routes everywhere.
     */
    @ParameterizedTest
    @EnumSource(Config.class)
    void batchedContinuationsEqualOneCallPerToken(Config config) {
        SplittableRandom random = new SplittableRandom(31);
        for (int trial = 0; trial < 20; trial++) {
            int[] context = randomTokens(random, 1 + random.nextInt(12));
            int[][] choices = new int[1 + random.nextInt(4)][];
            for (int i = 0; i < choices.length; i++) {
                choices[i] = randomTokens(random, 1 + random.nextInt(9));
            }
            ToyCausalModel batchedModel = model();
            ToyCausalModel steppedModel = model();
            LogLikelihoodScorer batched = scorer(batchedModel, config, false);
            LogLikelihoodScorer stepped = new LogLikelihoodScorer(steppedModel, new ToyCausalModel.Encoder(VOCAB),
                    config.planners(), config.mode(), false, true);
            for (int i = 0; i < choices.length; i++) {
                // One choice at a time, so the call log's last continuation is this one's.
                double[] expected = stepped.logLikelihoods(context, new int[][] {choices[i]});
                double[] actual = batched.logLikelihoods(context, new int[][] {choices[i]});
                assertArrayEquals(expected, actual, "trial " + trial + " choice " + i);
                boolean[][] want = masksByPosition(steppedModel);
                boolean[][] got = masksByPosition(batchedModel);
                for (int p = 0; p < context.length + choices[i].length - 1; p++) {
                    assertArrayEquals(want[p], got[p], "trial " + trial + " choice " + i + " position " + p);
                }
            }
            double[] perTokenStepped = new double[8];
            double[] perTokenBatched = new double[8];
            int[] target = randomTokens(random, 8);
            assertEquals(stepped.scoreTokens(context, target, perTokenStepped),
                    batched.scoreTokens(context, target, perTokenBatched));
            assertArrayEquals(perTokenStepped, perTokenBatched);
            assertEquals(stepped.usage().tokens(), batched.usage().tokens());
            assertEquals(stepped.usage().blocksRun(), batched.usage().blocksRun());
            // The 8-token target alone saves 6 invocations.
            assertTrue(batchedModel.invocations < steppedModel.invocations);
        }
    }

    @Test
    void tokensFollowLmEvalsEncodePair() {
        ToyCausalModel.Encoder enc = new ToyCausalModel.Encoder(VOCAB);
        // "x a" + "b": the whole text encodes "ab" as one token, so the continuation is what follows the context's own
        // token count in the whole encoding: nothing, scored as 0.
        ToyCausalModel m = model();
        double[] lls = scorer(m, Config.DENSE, false).logLikelihoods("xa", List.of("b", " c"));
        int[] ctx = enc.encode("xa");
        double expectedC = scorer(model(), Config.DENSE, false).logLikelihoods(ctx,
                new int[][] {Arrays.copyOfRange(enc.encode("xa c"), ctx.length, enc.encode("xa c").length)})[0];
        assertEquals(0.0, lls[0]);
        assertEquals(expectedC, lls[1], 1e-12);

        // Trailing whitespace of the context moves to the continuation.
        double moved = scorer(model(), Config.DENSE, false).logLikelihoods("q  ", List.of("ab")) [0];
        double direct = scorer(model(), Config.DENSE, false).logLikelihoods(enc.encode("q"),
                new int[][] {enc.encode("  ab")})[0];
        assertEquals(direct, moved, 1e-12);
    }

    @Test
    void bosIsPrependedOnlyWhenAsked() {
        ToyCausalModel.Encoder enc = new ToyCausalModel.Encoder(VOCAB);
        double withBos = scorer(model(), Config.DENSE, true).logLikelihoods("hello", List.of(" world"))[0];
        int[] ctx = enc.encode("hello");
        int[] bosCtx = new int[ctx.length + 1];
        bosCtx[0] = ToyCausalModel.Encoder.BOS;
        System.arraycopy(ctx, 0, bosCtx, 1, ctx.length);
        double expected = scorer(model(), Config.DENSE, false).logLikelihoods(bosCtx,
                new int[][] {enc.encode(" world")})[0];
        assertEquals(expected, withBos, 1e-12);
        double withoutBos = scorer(model(), Config.DENSE, false).logLikelihoods("hello", List.of(" world"))[0];
        assertEquals(scorer(model(), Config.DENSE, false).logLikelihoods(ctx, new int[][] {enc.encode(" world")})[0],
                withoutBos, 1e-12);
        // An empty context conditions on BOS, as lm-eval's prefix token.
        double empty = scorer(model(), Config.DENSE, false).logLikelihoods("", List.of("zz"))[0];
        assertEquals(scorer(model(), Config.DENSE, false).logLikelihoods(new int[] {ToyCausalModel.Encoder.BOS},
                new int[][] {enc.encode("zz")})[0], empty, 1e-12);
    }

    @Test
    void longInputsLoseContextTokensAtTheFront() {
        SplittableRandom random = new SplittableRandom(21);
        int[] context = randomTokens(random, 80);
        int[] shortChoice = randomTokens(random, 2);
        int[] longChoice = randomTokens(random, 9);
        double[] lls = scorer(model(), Config.BUDDY_PER_TOKEN, false).logLikelihoods(context,
                new int[][] {shortChoice, longChoice});
        // lm-eval keeps the last max_length + 1 tokens of context + continuation.
        int dropShort = context.length + shortChoice.length - 1 - CONTEXT;
        int dropLong = context.length + longChoice.length - 1 - CONTEXT;
        assertEquals(scorer(model(), Config.BUDDY_PER_TOKEN, false).logLikelihoods(
                Arrays.copyOfRange(context, dropShort, context.length), new int[][] {shortChoice})[0], lls[0], 1e-12);
        assertEquals(scorer(model(), Config.BUDDY_PER_TOKEN, false).logLikelihoods(
                Arrays.copyOfRange(context, dropLong, context.length), new int[][] {longChoice})[0], lls[1], 1e-12);
        assertThrows(InvalidEvalOptionException.class, () -> scorer(model(), Config.DENSE, false)
                .logLikelihoods(context, new int[][] {randomTokens(random, CONTEXT + 1)}));
    }

    @Test
    void perTokenScoresSumToTheLogLikelihood() {
        SplittableRandom random = new SplittableRandom(2);
        int[] context = randomTokens(random, 5);
        int[] continuation = randomTokens(random, 7);
        double[] perToken = new double[continuation.length];
        double sum = scorer(model(), Config.BUDDY_PER_TOKEN, false).scoreTokens(context, continuation, perToken);
        assertEquals(Arrays.stream(perToken).sum(), sum, 1e-12);
        for (double lp : perToken) {
            assertTrue(lp < 0 && Double.isFinite(lp));
        }
        assertEquals(scorer(model(), Config.BUDDY_PER_TOKEN, false).logLikelihoods(context,
                new int[][] {continuation})[0], sum, 1e-12);
    }

    @Test
    void usageCountsTheBlocksThatRan() {
        SplittableRandom random = new SplittableRandom(4);
        int[] context = randomTokens(random, 9);
        int[][] choices = {randomTokens(random, 4), randomTokens(random, 3)};
        for (Config config : Config.values()) {
            LogLikelihoodScorer s = scorer(model(), config, false);
            s.logLikelihoods(context, choices);
            assertEquals(9 + 3 + 2, s.usage().tokens());
            double expected = switch (config) {
                case DENSE -> 1.0;
                case BUDDY_PER_TOKEN, BUDDY_PREFILL -> (Budget.fraction(0.5).middleBlocks(LAYERS) + 2) / (double) LAYERS;
                case STATIC_PLAN -> (Budget.drop(3).middleBlocks(LAYERS) + 2) / (double) LAYERS;
            };
            assertEquals(expected, s.usage().executedFraction(), 1e-12, config.name());
        }
    }
}
