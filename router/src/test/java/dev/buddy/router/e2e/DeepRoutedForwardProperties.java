package dev.buddy.router.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.sampling.Sampler;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.gguf.TestData;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Budget;
import dev.buddy.router.BuddyPlanner;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.Reroute;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Random budgets, reroute policies and feature sources on a 14-block model derived from stories260K. */
class DeepRoutedForwardProperties {
    private static final int LAYERS = 14;
    private static final int[] PROMPT = {1, 403, 407, 261, 378, 322, 265, 400, 267, 302, 261};
    private static final int STEPS = 8;

    private static Path file;
    private static Model model;
    private static Parallel pool;
    private static Transformer transformer;
    private static BaseModelInfo info;
    private static List<float[]> dense;

    @BeforeContainer
    static void load() throws IOException {
        Path source = TestData.require("models/stories260K.gguf");
        file = DeepenedModel.write(source, Files.createTempFile("deep", ".gguf"), LAYERS);
        model = Model.load(file, VectorWidth.SCALAR);
        pool = new Parallel(1);
        transformer = new Transformer(model, pool);
        info = BaseModelInfo.of(model.spec(), model.gguf());
        dense = run(transformer.newState(64, KvCacheType.F32, 4, SkippedKvPolicy.MASK), null, new ArrayList<>());
    }

    @AfterContainer
    static void close() throws IOException {
        if (pool != null) {
            pool.close();
        }
        if (model != null) {
            model.close();
        }
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }

    private static List<float[]> run(InferenceState s, LayerPlanner planner, List<float[]> out) {
        float[] logits = transformer.forward(s, PROMPT, 0, PROMPT.length, planner, true);
        out.add(logits.clone());
        int[] one = new int[1];
        for (int pos = PROMPT.length; pos < PROMPT.length + STEPS; pos++) {
            one[0] = Sampler.argmax(logits, logits.length);
            logits = transformer.forward(s, one, pos, 1, planner, true);
            out.add(logits.clone());
        }
        return out;
    }

    @Property(tries = 12)
    void everyPositionRunsExactlyKPlusTwoBlocks(@ForAll @DoubleRange(min = 0.05, max = 1.0) double b,
                                                @ForAll FeatureSource source,
                                                @ForAll @IntRange(min = 1, max = 3) int rerouteEvery,
                                                @ForAll long seed) {
        assertEquals(LAYERS, info.layerCount());
        int k = Budget.fraction(b).middleBlocks(LAYERS);
        InferenceState s = transformer.newState(64, KvCacheType.F32, 4, SkippedKvPolicy.MASK);
        BuddyPlanner planner = BuddyPlanner.open(RandomRouter.create(info, seed, source, Pooling.MEAN, false),
                Budget.fraction(b), Reroute.every(rerouteEvery));
        List<float[]> routed = run(s, planner, new ArrayList<>());
        for (int pos = 0; pos < PROMPT.length + STEPS; pos++) {
            int ran = 0;
            for (int layer = 0; layer < LAYERS; layer++) {
                ran += s.kvCache().isValid(layer, pos) ? 1 : 0;
            }
            assertEquals(k + 2, ran, "blocks run at position " + pos + " for b=" + b);
            assertEquals(true, s.kvCache().isValid(0, pos) && s.kvCache().isValid(LAYERS - 1, pos));
        }
        if (k == LAYERS - 2) {
            assertBitIdentical(dense, routed);
        }
    }

    @Example
    void fullBudgetIsBitIdenticalToDense() {
        for (FeatureSource source : FeatureSource.values()) {
            BuddyPlanner planner = BuddyPlanner.open(RandomRouter.create(info, 17, source, Pooling.LAST, false),
                    Budget.fraction(1.0), Reroute.everyStep());
            assertBitIdentical(dense, run(transformer.newState(64, KvCacheType.F32, 4, SkippedKvPolicy.MASK), planner,
                    new ArrayList<>()));
            assertEquals(LAYERS, planner.stats().meanBlocksPerToken());
        }
    }

    private static void assertBitIdentical(List<float[]> expected, List<float[]> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "logits of forward call " + i);
        }
    }
}
