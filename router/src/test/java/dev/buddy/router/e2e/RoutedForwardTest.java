package dev.buddy.router.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.engine.generate.GenerationOptions;
import dev.buddy.engine.generate.GenerationResult;
import dev.buddy.engine.generate.Generator;
import dev.buddy.engine.generate.TokenListener;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.sampling.Sampler;
import dev.buddy.engine.sampling.SamplerConfig;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TestData;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Budget;
import dev.buddy.router.BuddyPlanner;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.FingerprintMismatchException;
import dev.buddy.router.PathTrace;
import dev.buddy.router.Pooling;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.Reroute;
import dev.buddy.router.Router;
import dev.buddy.router.RouterFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router driving the real forward pass on stories260K (5 blocks, so 3 routable middle blocks). Scalar kernels keep
 * the bit-for-bit comparisons independent of what the JIT has compiled.
 */
class RoutedForwardTest {
    private static final int[] PROMPT = {1, 403, 407, 261, 378, 322, 265, 400, 267, 302, 261};
    private static final int STEPS = 16;

    private static Path path;
    private static Model model;
    private static Parallel pool;
    private static Transformer transformer;
    private static BaseModelInfo info;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() throws IOException {
        path = TestData.require("models/stories260K.gguf");
        model = Model.load(path, VectorWidth.SCALAR);
        pool = new Parallel(1);
        transformer = new Transformer(model, pool);
        info = BaseModelInfo.of(model.spec(), model.gguf());
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

    private static DynamicRouter router(long seed, FeatureSource source) {
        return RandomRouter.create(info, seed, source, Pooling.MEAN, false);
    }

    /** Prompt then greedy decoding; the logits after every forward call. */
    private static List<float[]> run(InferenceState s, LayerPlanner planner) {
        List<float[]> all = new ArrayList<>();
        float[] logits = transformer.forward(s, PROMPT, 0, PROMPT.length, planner, true);
        all.add(logits.clone());
        int[] one = new int[1];
        for (int pos = PROMPT.length; pos < PROMPT.length + STEPS; pos++) {
            one[0] = Sampler.argmax(logits, logits.length);
            logits = transformer.forward(s, one, pos, 1, planner, true);
            all.add(logits.clone());
        }
        return all;
    }

    @Test
    void baseModelInfoAgreesWithTheEngineSpec() throws IOException {
        try (GgufFile f = GgufFile.open(path)) {
            assertEquals(info, BaseModelInfo.of(f));
        }
        assertEquals(model.spec().blockCount(), info.layerCount());
        assertEquals(model.spec().kvDim(), info.valueDim());
    }

    @Test
    void fullBudgetIsBitIdenticalToTheDenseEngine() {
        for (KvCacheType type : KvCacheType.values()) {
            for (FeatureSource source : FeatureSource.values()) {
                List<float[]> dense = run(transformer.newState(64, type, 4, SkippedKvPolicy.ZEROS), null);
                BuddyPlanner planner = BuddyPlanner.open(router(3, source), Budget.fraction(1.0),
                        Reroute.everyStep());
                List<float[]> routed = run(transformer.newState(64, type, 4, SkippedKvPolicy.ZEROS), planner);
                for (int i = 0; i < dense.size(); i++) {
                    assertArrayEquals(dense.get(i), routed.get(i), type + "/" + source + ": logits of call " + i);
                }
                assertEquals(info.layerCount(), planner.stats().meanBlocksPerToken());
            }
        }
    }

    @Test
    void fullBudgetGeneratesTheDenseTokens() throws IOException {
        GenerationOptions options = GenerationOptions.defaults().withThreads(1).withContextLength(128)
                .withSampler(SamplerConfig.greedy());
        int[] dense;
        try (Generator g = Generator.of(model, options)) {
            dense = g.generate(PROMPT, 24, TokenListener.NONE).tokens();
        }
        BuddyPlanner planner = BuddyPlanner.open(router(9, FeatureSource.VALUE), Budget.fraction(1.0),
                Reroute.everyStep());
        try (Generator g = Generator.of(model, options.withLayerPlanner(planner, SkippedKvPolicy.ZEROS))) {
            assertArrayEquals(dense, g.generate(PROMPT, 24, TokenListener.NONE).tokens());
        }
    }

    /**
     * b = 0.6 on 5 blocks: k = round(3) − 2 = 1, so 3 blocks per token. With the MASK policy the cache marks a skipped
     * block's row invalid, so the engine itself records which blocks ran at every position.
     */
    @Test
    void budgetPointSixRunsExactlyKPlusTwoBlocksPerToken() {
        int k = Budget.fraction(0.6).middleBlocks(info.layerCount());
        assertEquals(1, k);
        InferenceState s = transformer.newState(64, KvCacheType.F32, 4, SkippedKvPolicy.MASK);
        BuddyPlanner planner = BuddyPlanner.open(router(5, FeatureSource.VALUE), Budget.fraction(0.6),
                Reroute.everyStep());
        List<boolean[]> masks = new ArrayList<>();
        List<String> trace = new ArrayList<>();
        RoutingRecorder recorder = new RoutingRecorder(masks);
        planner.listener((start, n, phase, mask) -> {
            recorder.routed(start, n, mask);
            trace.add(PathTrace.render(mask));
        });
        List<float[]> routed = run(s, planner);

        int positions = PROMPT.length + STEPS;
        assertEquals(positions, masks.size());
        for (int pos = 0; pos < positions; pos++) {
            int ran = 0;
            for (int layer = 0; layer < info.layerCount(); layer++) {
                boolean valid = s.kvCache().isValid(layer, pos);
                assertEquals(masks.get(pos)[layer], valid, "position " + pos + ", block " + layer);
                ran += valid ? 1 : 0;
            }
            assertEquals(k + 2, ran, "blocks run at position " + pos);
        }
        assertEquals(k + 2, planner.stats().meanBlocksPerToken(), 1e-12);
        assertEquals(k + 2, planner.stats().meanBlocksPerDecodeToken(), 1e-12);
        assertEquals(STEPS, planner.stats().decodeTokens());
        assertTrue(trace.stream().allMatch(t -> t.chars().filter(c -> c == PathTrace.RAN).count() == k + 2));

        List<float[]> dense = run(transformer.newState(64, KvCacheType.F32, 4, SkippedKvPolicy.MASK), null);
        assertFalse(java.util.Arrays.equals(dense.getFirst(), routed.getFirst()), "skipping blocks changes logits");
    }

    @Test
    void generatorRunsTheBudgetAndReusesNothingAcrossPrompts() throws IOException {
        BuddyPlanner planner = BuddyPlanner.open(router(5, FeatureSource.VALUE), Budget.drop(2), Reroute.everyStep());
        GenerationOptions options = GenerationOptions.defaults().withThreads(1).withContextLength(128)
                .withSampler(SamplerConfig.greedy()).withLayerPlanner(planner, SkippedKvPolicy.ZEROS);
        try (Generator g = Generator.of(model, options)) {
            GenerationResult first = g.generate(PROMPT, 12, TokenListener.NONE);
            GenerationResult second = g.generate(PROMPT, 12, TokenListener.NONE);
            // The second prompt starts at position 0 again: the session restarts, so the routes and tokens repeat.
            assertArrayEquals(first.tokens(), second.tokens());
        }
        assertEquals(3.0, planner.stats().meanBlocksPerToken(), 1e-12);
    }

    @Test
    void aRouterFileForAnotherModelIsRefused() throws IOException {
        Path routerPath = dir.resolve("stories.router.gguf");
        RouterFile.write(router(1, FeatureSource.VALUE), routerPath);
        Router loaded = RouterFile.load(routerPath, info);
        assertEquals(info.layerCount(), loaded.layerCount());

        Path other = TestData.require("models/TinyStories-656K-Q8_0.gguf");
        BaseModelInfo otherInfo;
        try (GgufFile f = GgufFile.open(other)) {
            otherInfo = BaseModelInfo.of(f);
        }
        assertThrows(FingerprintMismatchException.class, () -> RouterFile.load(routerPath, otherInfo));
    }

    /** Expands each forward call's mask to one entry per position. */
    private record RoutingRecorder(List<boolean[]> masks) {
        void routed(int start, int n, boolean[] mask) {
            assertEquals(masks.size(), start, "positions arrive in order");
            for (int i = 0; i < n; i++) {
                masks.add(mask.clone());
            }
        }
    }
}
