package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.LayerPlanContext;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.sampling.Sampler;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.gguf.TestData;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * The device forward pass against Buddy's CPU backend ({@link Transformer} with the same KV cache type as the device,
 * F32 or F16, and the default exact inputs on the device side):
 * a prompt, then greedy decoding, gives the same tokens on both, with every block and under a planner that skips
 * blocks (each skipped-KV policy).
 */
@AddLifecycleHook(RequiresOpenCl.class)
class CpuBackendEquivalenceTest {
    private static final String PROMPT = "Once upon a time, there was a little";
    private static final int STEPS = 48;

    @Example
    void stories260KGreedyIsIdentical() throws IOException {
        compare("models/stories260K.gguf", null, SkippedKvPolicy.ZEROS, KvCacheType.F32);
    }

    @Example
    void tinyStoriesQ8_0GreedyIsIdentical() throws IOException {
        compare("models/TinyStories-656K-Q8_0.gguf", null, SkippedKvPolicy.ZEROS, KvCacheType.F32);
    }

    @Example
    void skippingPlannerGivesIdenticalTokensUnderEveryPolicy() throws IOException {
        for (SkippedKvPolicy policy : SkippedKvPolicy.values()) {
            compare("models/stories260K.gguf", new AlternatingPlanner(), policy, KvCacheType.F32);
            compare("models/TinyStories-656K-Q8_0.gguf", new AlternatingPlanner(), policy, KvCacheType.F32);
        }
    }

    @Example
    void halfKvCacheGreedyIsIdenticalToTheCpuF16Cache() throws IOException {
        compare("models/stories260K.gguf", null, SkippedKvPolicy.ZEROS, KvCacheType.F16);
        compare("models/TinyStories-656K-Q8_0.gguf", null, SkippedKvPolicy.ZEROS, KvCacheType.F16);
    }

    @Example
    void halfKvCacheWithSkippingPlannerUnderEveryPolicy() throws IOException {
        for (SkippedKvPolicy policy : SkippedKvPolicy.values()) {
            compare("models/stories260K.gguf", new AlternatingPlanner(), policy, KvCacheType.F16);
        }
    }

    private static void compare(String file, LayerPlanner planner, SkippedKvPolicy policy, KvCacheType kvType)
            throws IOException {
        int context = 96;
        // The scalar kernels: the CPU backend's reference path, equal to its SIMD paths and quick to warm up.
        try (Model model = Model.load(TestData.require(file), VectorWidth.SCALAR); Parallel pool = new Parallel(2);
                OpenClTransformer device = OpenClTransformer.load(Device.kernels(), model.gguf(), model.spec(),
                        OpenClModelOptions.defaults(context).withSkippedKvPolicy(policy).withMaxBatch(8)
                                .withKvType(kvType))) {
            int[] prompt = model.tokenizer().encode(PROMPT);
            Transformer cpu = new Transformer(model, pool);
            InferenceState state = cpu.newState(context, kvType, 8, policy);
            float[] cpuLogits = cpu.forward(state, prompt, 0, prompt.length, planner, true);
            float[] deviceLogits = new float[model.spec().vocabSize()];
            device.forward(prompt, 0, prompt.length, 0, planner == null ? LayerPlanner.ALL_BLOCKS : planner,
                    deviceLogits);
            String what = file + " " + kvType + " KV " + policy + (planner == null ? "" : " with skipping planner");
            assertWithinSpread(cpuLogits, deviceLogits, what + " prompt logits");
            int[] cpuTokens = new int[STEPS];
            int[] deviceTokens = new int[STEPS];
            int[] one = new int[1];
            int cpuNext = Sampler.argmax(cpuLogits, cpuLogits.length);
            int deviceNext = Sampler.argmax(deviceLogits, deviceLogits.length);
            for (int i = 0; i < STEPS; i++) {
                cpuTokens[i] = cpuNext;
                deviceTokens[i] = deviceNext;
                int pos = prompt.length + i;
                one[0] = cpuNext;
                cpuLogits = cpu.forward(state, one, pos, 1, planner, true);
                cpuNext = Sampler.argmax(cpuLogits, cpuLogits.length);
                one[0] = deviceNext;
                deviceNext = device.forwardGreedy(one, 0, 1, pos, planner == null ? LayerPlanner.ALL_BLOCKS : planner);
            }
            assertArrayEquals(cpuTokens, deviceTokens, what + ": greedy tokens differ\n cpu    "
                    + Arrays.toString(cpuTokens) + "\n device " + Arrays.toString(deviceTokens));
            assertTrue(Arrays.stream(cpuTokens).distinct().count() > 5, "degenerate run: " + Arrays.toString(cpuTokens));
        }
    }

    /** Skips the upper half of the blocks at every odd position, after reading block 0's new value row. */
    private static final class AlternatingPlanner implements LayerPlanner {
        private float[] value = new float[0];

        @Override
        public void plan(LayerPlanContext ctx, boolean[] runBlock) {
            if (value.length != ctx.kvDim()) {
                value = new float[ctx.kvDim()];
            }
            int last = ctx.startPosition() + ctx.tokenCount() - 1;
            ctx.layer0Value(last, value, 0);
            if (last % 2 == 1) {
                for (int l = Math.max(1, ctx.layerCount() / 2); l < ctx.layerCount(); l++) {
                    runBlock[l] = false;
                }
            }
        }
    }

    /** Logits agree to a small fraction of their spread: rounding order and rare int8 rounding-boundary flips only. */
    private static void assertWithinSpread(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length);
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float w : want) {
            min = Math.min(min, w);
            max = Math.max(max, w);
        }
        assertArrayEquals(want, got, 0.01f * (max - min), what);
    }
}
