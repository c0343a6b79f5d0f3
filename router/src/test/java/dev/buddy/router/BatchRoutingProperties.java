package dev.buddy.router;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

import dev.buddy.engine.e2e.SyntheticModels;
import dev.buddy.engine.generate.BatchGenerator;
import dev.buddy.engine.generate.GenerationOptions;
import dev.buddy.engine.generate.GenerationResult;
import dev.buddy.engine.generate.Generator;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.sampling.SamplerConfig;
import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.gguf.GgmlType;

/**
 * Routing batched requests: each prompt of a {@link BatchRouting} run gets its own path, rerouted at every step from
 * its own context, and generates exactly what it generates routed alone. Synthetic models of random depth with the
 * scalar kernels (a row's matrix products then do not depend on which rows share them; see SequenceBatch).
 */
class BatchRoutingProperties {
    private static final String[] PROMPTS = {"Once upon a time", "The cat", "", "A long, long way from home there",
            "Hello"};
    private static final Map<Integer, Model> MODELS = new HashMap<>();
    private static final List<Path> FILES = new ArrayList<>();

    @AfterContainer
    static void close() throws IOException {
        for (Model m : MODELS.values()) {
            m.close();
        }
        for (Path f : FILES) {
            Files.deleteIfExists(f);
        }
        MODELS.clear();
        FILES.clear();
    }

    private static synchronized Model model(int layers) {
        return MODELS.computeIfAbsent(layers, l -> {
            try {
                SyntheticModels.Spec base = SyntheticModels.llama(GgmlType.Q8_0);
                SyntheticModels.Spec deep = new SyntheticModels.Spec(base.architecture(), base.weightType(),
                        base.embeddingLength(), base.feedForwardLength(), l, base.headCount(), base.headCountKv(),
                        base.headDim(), base.tiedEmbeddings(), base.ropeFreqFactors(), base.qkvBias(),
                        base.qkNorm(), base.ropeFreqBase(), base.contextLength(), 13);
                Path file = SyntheticModels.write(deep, Files.createTempFile("batch-routing", ".gguf"));
                FILES.add(file);
                return Model.load(file, VectorWidth.SCALAR);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** One route per forward call: its first position and the blocks it ran. */
    private record Route(int start, String blocks) {
    }

    @Property(tries = 10)
    void eachPromptIsRoutedAndGeneratedAsAlone(@ForAll long seed, @ForAll @IntRange(min = 3, max = 12) int layers,
            @ForAll @IntRange(min = 1, max = 4) int prompts, @ForAll SkippedKvPolicy policy,
            @ForAll @IntRange(min = 1, max = 10) int budgetTenths) {
        Random random = new Random(seed);
        Model model = model(layers);
        Router router = RandomRouter.create(BaseModelInfo.of(model.spec(), model.gguf()), seed, FeatureSource.VALUE,
                Pooling.MEAN, false);
        Budget budget = Budget.fraction(budgetTenths / 10.0);
        GenerationOptions options = GenerationOptions.defaults().withThreads(2).withContextLength(32).withBatchSize(4)
                .withSampler(SamplerConfig.defaults(seed)).withLayerPlanner(null, policy);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < prompts; i++) {
            texts.add(PROMPTS[random.nextInt(PROMPTS.length)]);
        }
        int maxTokens = 4 + random.nextInt(16);

        List<List<Route>> routes = new ArrayList<>();
        for (int i = 0; i < prompts; i++) {
            routes.add(new ArrayList<>());
        }
        BatchRouting.Result together;
        try (BatchGenerator g = BatchGenerator.of(model, options, prompts)) {
            together = BatchRouting.generate(g, router, budget, Reroute.everyStep(), texts, maxTokens,
                    (i, token, text) -> { }, (i, start, count, phase, mask) -> routes.get(i).add(
                            new Route(start, PathTrace.render(mask))));
        }
        for (int i = 0; i < prompts; i++) {
            List<Route> aloneRoutes = new ArrayList<>();
            BuddyPlanner planner = BuddyPlanner.open(router, budget, Reroute.everyStep()).listener(
                    (start, count, phase, mask) -> aloneRoutes.add(new Route(start, PathTrace.render(mask))));
            GenerationResult alone;
            try (Generator g = Generator.of(model, options.withLayerPlanner(planner, policy))) {
                alone = g.generate(texts.get(i), maxTokens, (token, text) -> { });
            }
            GenerationResult mine = together.generations().get(i);
            assertArrayEquals(alone.tokens(), mine.tokens(), "tokens of prompt " + i);
            assertEquals(alone.text(), mine.text(), "text of prompt " + i);
            assertEquals(aloneRoutes, routes.get(i), "routes of prompt " + i);
            RoutingStats stats = together.planners().get(i).stats();
            assertEquals(planner.stats().meanBlocksPerToken(), stats.meanBlocksPerToken(), "blocks per token");
            int k = together.planners().get(i).session().middleBlocks();
            for (Route r : routes.get(i)) {
                assertEquals(k + 2, r.blocks().chars().filter(c -> c == PathTrace.RAN).count(),
                        "strict budget: every call of prompt " + i + " runs k + 2 blocks");
            }
        }
    }
}
