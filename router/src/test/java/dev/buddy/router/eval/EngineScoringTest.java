package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.gguf.TestData;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Budget;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.Provenance;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.Router;
import dev.buddy.router.StaticPlan;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The scorer on Buddy's real engine and a real model (stories260K: 5 blocks, GQA, SentencePiece). */
class EngineScoringTest {
    private static final int CONTEXT = 256;
    private static final String STORY = "Once upon a time, there was a little girl named Lily. She loved to play"
            + " outside in the park with her friends. One day, she saw a big dog";
    private static final List<String> ENDINGS = List.of(" and she was scared.", " that wanted to play with her ball.",
            " under a tree.", " and a small cat who were friends. They ran and ran!");

    private static Model model;
    private static Parallel pool;
    private static Transformer transformer;
    private static TokenizerTextEncoder encoder;
    private static Router buddy;
    private static Router staticPlan;

    @BeforeAll
    static void load() throws IOException {
        model = Model.load(TestData.require("models/stories260K.gguf"));
        pool = new Parallel(1);
        transformer = new Transformer(model, pool);
        encoder = new TokenizerTextEncoder(model.tokenizer());
        BaseModelInfo info = BaseModelInfo.of(model.spec(), model.gguf());
        buddy = RandomRouter.create(info, 17, FeatureSource.VALUE, Pooling.MEAN, false);
        staticPlan = new StaticPlan("shortgpt", info.layerCount(), new int[] {2, 3, 1}, Map.of(),
                new Provenance(info.fingerprint(), info.architecture(), true, new float[0], "shortgpt", "none"));
    }

    @AfterAll
    static void close() {
        if (pool != null) {
            pool.close();
        }
        if (model != null) {
            model.close();
        }
    }

    enum Config {
        DENSE, BUDDY_PER_TOKEN, BUDDY_PREFILL, STATIC_PLAN;

        PlannerSource planners() {
            return switch (this) {
                case DENSE -> PlannerSource.DENSE;
                case BUDDY_PER_TOKEN, BUDDY_PREFILL -> PlannerSource.routed(buddy, Budget.fraction(0.6));
                case STATIC_PLAN -> PlannerSource.routed(staticPlan, Budget.drop(2));
            };
        }

        RoutingMode mode() {
            return this == BUDDY_PREFILL ? RoutingMode.PREFILL : RoutingMode.PER_TOKEN;
        }
    }

    private static LogLikelihoodScorer scorer(Config config, SkippedKvPolicy policy, int batch) {
        InferenceState state = transformer.newState(CONTEXT, KvCacheType.F32, batch, policy);
        return new LogLikelihoodScorer(new EngineTokenModel(transformer, state), encoder, config.planners(),
                config.mode(), false);
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void sharingTheContextMatchesScoringEachChoiceFromScratch(Config config) {
        for (SkippedKvPolicy policy : SkippedKvPolicy.values()) {
            // A small batch splits the context prefill into several planner calls, as long prompts are.
            LogLikelihoodScorer shared = scorer(config, policy, 16);
            double[] together = shared.logLikelihoods(STORY, ENDINGS);
            // Score the choices in a different order too: nothing from one continuation may leak into the next.
            List<String> reversed = ENDINGS.reversed();
            double[] backwards = shared.logLikelihoods(STORY, reversed);
            for (int i = 0; i < ENDINGS.size(); i++) {
                double alone = scorer(config, policy, 16).logLikelihoods(STORY, List.of(ENDINGS.get(i)))[0];
                assertEquals(alone, together[i], 1e-4, config + " " + policy + " choice " + i);
                assertEquals(alone, backwards[ENDINGS.size() - 1 - i], 1e-4, config + " " + policy + " reversed " + i);
                assertTrue(alone < 0 && Double.isFinite(alone));
            }
        }
    }

    /**
     * On the engine, batched continuations (one call, a route per token) get the routes one decode call per token
     * gets, and the same scores up to the SIMD kernels' GEMM-versus-GEMV rounding.
     */
    @Test
    void batchedContinuationsRouteAndScoreAsOneCallPerToken() {
        for (SkippedKvPolicy policy : SkippedKvPolicy.values()) {
            List<String> batchedRoutes = new java.util.ArrayList<>();
            List<String> steppedRoutes = new java.util.ArrayList<>();
            double[] batched = recordingScorer(policy, batchedRoutes, false).logLikelihoods(STORY, ENDINGS);
            double[] stepped = recordingScorer(policy, steppedRoutes, true).logLikelihoods(STORY, ENDINGS);
            assertEquals(steppedRoutes, batchedRoutes, policy.name());
            for (int i = 0; i < ENDINGS.size(); i++) {
                assertEquals(stepped[i], batched[i], 1e-4, policy + " choice " + i);
            }
        }
    }

    /** A BUDDY scorer whose planners log every route as "position+count:mask". */
    private static LogLikelihoodScorer recordingScorer(SkippedKvPolicy policy, List<String> routes,
            boolean oneCallPerToken) {
        InferenceState state = transformer.newState(CONTEXT, KvCacheType.F32, 16, policy);
        PlannerSource planners = () -> dev.buddy.router.BuddyPlanner.open(buddy, Budget.fraction(0.6),
                dev.buddy.router.Reroute.everyStep()).listener((start, count, phase, mask) ->
                        routes.add(start + "+" + count + ":" + Arrays.toString(mask)));
        return new LogLikelihoodScorer(new EngineTokenModel(transformer, state), encoder, planners,
                RoutingMode.PER_TOKEN, false, oneCallPerToken);
    }

    @Test
    void executedFractionFollowsTheBudget() {
        LogLikelihoodScorer s = scorer(Config.BUDDY_PER_TOKEN, SkippedKvPolicy.ZEROS, 64);
        s.logLikelihoods(STORY, ENDINGS);
        // b = 0.6 on 5 blocks: k = round(3) − 2 = 1 middle block, so 3 of 5 blocks run for every token.
        assertEquals(0.6, s.usage().executedFraction(), 1e-12);
        LogLikelihoodScorer dense = scorer(Config.DENSE, SkippedKvPolicy.ZEROS, 64);
        dense.logLikelihoods(STORY, ENDINGS);
        assertEquals(1.0, dense.usage().executedFraction());
    }

    @Test
    void tinyStoriesPerplexityIsFiniteAndBelowTheVocabularySize() throws IOException {
        Path root = TestData.require("datasets/tinystories/tinystories-valid-sample.txt").getParent().getParent();
        int[] stream = PerplexityEvaluator.tokenStream(PerplexityCorpus.TINYSTORIES.documents(root), encoder,
                encoder.addsBos(), 300);
        assertEquals(300, stream.length);
        assertEquals(encoder.bosToken(), stream[0], "stories260K's vocabulary adds BOS");
        PerplexityResult dense = PerplexityEvaluator.evaluate(PerplexityCorpus.TINYSTORIES, stream,
                scorer(Config.DENSE, SkippedKvPolicy.ZEROS, 64), 128, 64, ProgressListener.NONE);
        assertEquals(299, dense.tokensScored());
        assertTrue(Double.isFinite(dense.perplexity()) && dense.perplexity() > 1, "ppl " + dense.perplexity());
        assertTrue(dense.perplexity() < model.spec().vocabSize(), "ppl " + dense.perplexity());
        PerplexityResult routed = PerplexityEvaluator.evaluate(PerplexityCorpus.TINYSTORIES, stream,
                scorer(Config.BUDDY_PER_TOKEN, SkippedKvPolicy.ZEROS, 64), 128, 64, ProgressListener.NONE);
        assertTrue(Double.isFinite(routed.perplexity()));
        assertTrue(routed.perplexity() > dense.perplexity(), "skipping 2 of 5 blocks of a trained model costs"
                + " perplexity: " + routed.perplexity() + " vs " + dense.perplexity());
    }

    /** Skips locally, fails in CI, when llama.cpp's native library (de.kherud:llama) is not on the test classpath. */
    private static void requireLlamaCpp() {
        String os = System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch").equals("aarch64") ? "aarch64" : "x86_64";
        String resource = os.contains("mac") ? "de/kherud/llama/Mac/" + arch + "/libjllama.dylib"
                : "de/kherud/llama/Linux/" + arch + "/libjllama.so";
        if (EngineScoringTest.class.getClassLoader().getResource(resource) == null) {
            String msg = "llama.cpp reference unavailable: add de.kherud:llama as a test dependency of router";
            if (TestData.inCi()) {
                throw new AssertionError(msg);
            }
            Assumptions.abort(msg);
        }
    }

    @Test
    void tokenLogProbabilitiesMatchLlamaCppTeacherForcing() {
        requireLlamaCpp();
        int[] tokens = encoder.encode(STORY + ENDINGS.get(3));
        int[] sequence = new int[tokens.length + 1];
        sequence[0] = encoder.bosToken();
        System.arraycopy(tokens, 0, sequence, 1, tokens.length);
        float[][] reference;
        try (LlamaCppReference llama = LlamaCppReference.open(model.path())) {
            reference = llama.logitsAtEveryPosition(sequence);
        }
        // Score everything after BOS, token by token after a one-token context.
        double[] ours = new double[sequence.length - 1];
        scorer(Config.DENSE, SkippedKvPolicy.ZEROS, 64).scoreTokens(new int[] {sequence[0]},
                Arrays.copyOfRange(sequence, 1, sequence.length), ours);
        for (int i = 1; i < sequence.length; i++) {
            double expected = reference[i - 1][sequence[i]] - LogLikelihoodScorer.logSumExp(reference[i - 1]);
            assertEquals(expected, ours[i - 1], 1e-3, "token " + i);
        }
        // And the context-then-continuation split of a multiple-choice request gives the same sum.
        int[] context = encoder.encode(STORY);
        assertArrayEquals(context, Arrays.copyOf(tokens, context.length), "the story's tokens prefix the whole text's");
        double sum = 0;
        for (int i = context.length + 1; i < sequence.length; i++) {
            sum += reference[i - 1][sequence[i]] - LogLikelihoodScorer.logSumExp(reference[i - 1]);
        }
        int[] bosContext = new int[context.length + 1];
        bosContext[0] = encoder.bosToken();
        System.arraycopy(context, 0, bosContext, 1, context.length);
        double request = scorer(Config.DENSE, SkippedKvPolicy.ZEROS, 64).logLikelihoods(bosContext,
                new int[][] {Arrays.copyOfRange(sequence, context.length + 1, sequence.length)})[0];
        assertEquals(sum, request, 1e-3 * (sequence.length - context.length));
    }
}
