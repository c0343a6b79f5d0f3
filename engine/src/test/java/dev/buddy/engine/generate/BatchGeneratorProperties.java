package dev.buddy.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import dev.buddy.engine.e2e.SyntheticModels;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.sampling.SamplerConfig;
import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.gguf.GgmlType;

/**
 * A {@link BatchGenerator} run gives every prompt the tokens and text a {@link Generator} gives it alone with the same
 * options and planner. Scalar kernels, so that the output head's GEMM over the batch's rows rounds as the one-token
 * GEMV does; each sequence's decode token sums attention in the one-token order in both runs.
 */
class BatchGeneratorProperties {
    private static final int LAYERS = 6;
    private static Path file;
    private static Model model;

    @BeforeContainer
    static void load() throws IOException {
        SyntheticModels.Spec base = SyntheticModels.llama(GgmlType.Q8_0);
        SyntheticModels.Spec deep = new SyntheticModels.Spec(base.architecture(), base.weightType(),
                base.embeddingLength(), base.feedForwardLength(), LAYERS, base.headCount(), base.headCountKv(),
                base.headDim(), base.tiedEmbeddings(), base.ropeFreqFactors(), base.qkvBias(), base.qkNorm(),
                base.ropeFreqBase(), base.contextLength(), 9);
        file = SyntheticModels.write(deep, Files.createTempFile("batch-generator", ".gguf"));
        model = Model.load(file, VectorWidth.SCALAR);
    }

    @AfterContainer
    static void close() throws IOException {
        model.close();
        Files.deleteIfExists(file);
    }

    /** A stateless planner: position p skips the middle blocks a hash of (salt, p) picks. */
    private static LayerPlanner hashed(long salt) {
        return (ctx, runBlock) -> {
            long h = new Random(salt * 31 + ctx.startPosition()).nextLong();
            for (int b = 1; b < runBlock.length - 1; b++) {
                runBlock[b] = ((h >>> b) & 1) == 1;
            }
        };
    }

    private static int[] randomPrompt(Random random, int length) {
        int[] tokens = new int[length];
        for (int i = 0; i < length; i++) {
            tokens[i] = 1 + random.nextInt(model.spec().vocabSize() - 1);
        }
        return tokens;
    }

    @Property(tries = 8)
    void eachPromptGeneratesWhatItGeneratesAlone(@ForAll long seed, @ForAll @IntRange(min = 1, max = 4) int prompts,
            @ForAll SkippedKvPolicy policy, @ForAll boolean routed, @ForAll boolean sampled) {
        Random random = new Random(seed);
        // A short context, so prompts of different lengths fill it (and stop) at different steps.
        GenerationOptions options = GenerationOptions.defaults().withThreads(2).withContextLength(20).withBatchSize(4)
                .withSampler(sampled ? SamplerConfig.defaults(seed) : SamplerConfig.greedy())
                .withLayerPlanner(null, policy);
        List<int[]> inputs = new ArrayList<>();
        List<LayerPlanner> planners = new ArrayList<>();
        for (int i = 0; i < prompts; i++) {
            inputs.add(randomPrompt(random, 1 + random.nextInt(9)));
            planners.add(routed ? hashed(random.nextLong()) : null);
        }
        int maxTokens = 8 + random.nextInt(20);
        List<List<Integer>> streamed = new ArrayList<>();
        for (int i = 0; i < prompts; i++) {
            streamed.add(new ArrayList<>());
        }
        List<GenerationResult> together;
        try (BatchGenerator g = BatchGenerator.of(model, options, 4)) {
            together = g.generateTokens(inputs, planners, maxTokens, (i, token, text) -> streamed.get(i).add(token));
        }
        for (int i = 0; i < prompts; i++) {
            GenerationResult alone;
            try (Generator g = Generator.of(model, options.withLayerPlanner(planners.get(i), policy))) {
                alone = g.generate(inputs.get(i), maxTokens, (token, text) -> { });
            }
            GenerationResult mine = together.get(i);
            assertArrayEquals(alone.tokens(), mine.tokens(), "tokens of prompt " + i);
            assertEquals(alone.text(), mine.text(), "text of prompt " + i);
            assertEquals(alone.stopReason(), mine.stopReason(), "stop reason of prompt " + i);
            assertArrayEquals(alone.tokens(), streamed.get(i).stream().mapToInt(Integer::intValue).toArray(),
                    "streamed tokens of prompt " + i);
        }
    }

    @Example
    void refusesMorePromptsThanItHolds() {
        try (BatchGenerator g = BatchGenerator.of(model, GenerationOptions.defaults().withThreads(1)
                .withContextLength(16), 2)) {
            assertThrows(IllegalArgumentException.class, () -> g.generateTokens(List.of(new int[] {1},
                    new int[] {2}, new int[] {3}), null, 4, (i, t, s) -> { }));
            assertThrows(IllegalArgumentException.class, () -> g.generateTokens(List.of(new int[] {1}),
                    List.of(hashed(1), hashed(2)), 4, (i, t, s) -> { }));
        }
    }
}
