package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import dev.buddy.engine.e2e.SyntheticModels;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The training forward pass must be the model the router will run in: the last position's logits of a prompt,
 * computed by {@link ModelPass} with a block mask, against the engine's {@link Transformer} prefilling the same
 * prompt with a {@link LayerPlanner} that skips the same blocks. Checked on the engine's synthetic llama (RoPE
 * factors, tied embeddings, GQA), qwen2 (biases) and qwen3 (QK-norm, wide heads) models in F32 and Q8_0, and on the
 * real TinyStories model.
 */
class EngineAgreementTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2", "qwen3"})
    void syntheticModelsAgreeWithTheEngine(String arch, @TempDir Path tmp) throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.Q8_0}) {
            SyntheticModels.Spec spec = switch (arch) {
                case "llama" -> SyntheticModels.llama(type);
                case "qwen2" -> SyntheticModels.qwen2(type);
                default -> SyntheticModels.qwen3(type);
            };
            Path file = SyntheticModels.write(spec, tmp.resolve(spec.label() + ".gguf"));
            int blocks = spec.blockCount();
            boolean[] everything = new boolean[blocks];
            Arrays.fill(everything, true);
            compare(file, new int[] {1, 450, 1200, 77, 9000, 31, 5, 260, 11}, everything, spec.label());
            if (blocks >= 3) {
                boolean[] skipMiddle = everything.clone();
                skipMiddle[1] = false;
                compare(file, new int[] {1, 3000, 42, 17, 900}, skipMiddle, spec.label() + " skipping block 1");
            }
        }
    }

    @Test
    void storiesModelAgreesWithTheEngineUnderEveryMask() throws IOException {
        Path file = TestData.require("models/stories260K.gguf");
        int[] prompt = {1, 403, 407, 261, 378, 297, 395, 286, 30, 400, 353, 261};
        for (int mask = 0; mask < 8; mask++) {
            boolean[] run = {true, (mask & 1) != 0, (mask & 2) != 0, (mask & 4) != 0, true};
            compare(file, prompt, run, "stories260K mask " + Arrays.toString(run));
        }
    }

    /**
     * A route per position ({@link ModelPass#forwardPerPosition}) is the engine decoding the same tokens one at a
     * time, each with its own block mask, under the same {@link SkippedKvPolicy} (zeros or compute-kv): every
     * position's logits. On the synthetic llama (one routable block) and on stories260K (three).
     */
    @ParameterizedTest
    @ValueSource(strings = {"ZEROS", "COMPUTE_KV"})
    void aRoutePerPositionIsTheEngineDecodingTokenByToken(String policyName, @TempDir Path tmp) throws IOException {
        SkippedKvPolicy policy = SkippedKvPolicy.valueOf(policyName);
        SyntheticModels.Spec spec = SyntheticModels.llama(GgmlType.F32);
        Path synthetic = SyntheticModels.write(spec, tmp.resolve(spec.label() + ".gguf"));
        comparePerPosition(synthetic, new int[] {1, 450, 1200, 77, 9000, 31, 5, 260}, 7, policy);
        comparePerPosition(TestData.require("models/stories260K.gguf"),
                new int[] {1, 403, 407, 261, 378, 297, 395, 286, 30, 400, 353, 261}, 8, policy);
    }

    private static void comparePerPosition(Path file, int[] tokens, long seed, SkippedKvPolicy policy)
            throws IOException {
        int n = tokens.length;
        float[][] expected = new float[n][];
        boolean[][] takes;
        try (Model model = Model.load(file); Parallel pool = new Parallel(2)) {
            int blocks = model.spec().blockCount();
            java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
            takes = new boolean[n][blocks];
            for (int t = 0; t < n; t++) {
                for (int l = 0; l < blocks; l++) {
                    // first and last always, the others by chance: some positions skip what others take
                    takes[t][l] = l == 0 || l == blocks - 1 || random.nextBoolean();
                }
            }
            Transformer transformer = new Transformer(model, pool);
            InferenceState state = transformer.newState(64, KvCacheType.F32, 64, policy);
            for (int t = 0; t < n; t++) {
                boolean[] run = takes[t];
                LayerPlanner planner = (ctx, runBlock) -> System.arraycopy(run, 0, runBlock, 0, run.length);
                expected[t] = transformer.forward(state, new int[] {tokens[t]}, t, 1, planner, true).clone();
            }
        }
        try (FrozenModel model = FrozenModel.open(file); Parallel pool = new Parallel(2)) {
            ModelPass pass = new ModelPass(model, n, pool);
            pass.embed(tokens, n);
            pass.forwardPerPosition(n, takes, policy);
            float[] actual = new float[model.spec().vocabSize()];
            for (int t = 0; t < n; t++) {
                pass.logits(t, actual);
                assertClose(expected[t], actual, file.getFileName() + " position " + t + " "
                        + Arrays.toString(takes[t]));
            }
        }
    }

    private static void compare(Path file, int[] tokens, boolean[] run, String what) throws IOException {
        int n = tokens.length;
        float[] expected;
        try (Model model = Model.load(file); Parallel pool = new Parallel(2)) {
            Transformer transformer = new Transformer(model, pool);
            InferenceState state = transformer.newState(64, KvCacheType.F32, 64, SkippedKvPolicy.ZEROS);
            LayerPlanner planner = (ctx, runBlock) -> System.arraycopy(run, 0, runBlock, 0, run.length);
            expected = transformer.forward(state, tokens, 0, n, planner, true).clone();
        }
        float[] actual;
        try (FrozenModel model = FrozenModel.open(file); Parallel pool = new Parallel(2)) {
            ModelPass pass = new ModelPass(model, n, pool);
            float[] gates = new float[run.length];
            for (int l = 0; l < run.length; l++) {
                gates[l] = run[l] ? 1f : 0f;
            }
            pass.embed(tokens, n);
            pass.forward(n, gates, false);
            actual = new float[model.spec().vocabSize()];
            pass.logits(n - 1, actual);
        }
        assertClose(expected, actual, what);
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        double maxAbs = 0;
        double maxDiff = 0;
        for (int v = 0; v < expected.length; v++) {
            maxAbs = Math.max(maxAbs, Math.abs(expected[v]));
            maxDiff = Math.max(maxDiff, Math.abs(expected[v] - actual[v]));
        }
        System.out.printf("%s: max |logit difference| %.3g (largest logit %.3g)%n", what, maxDiff, maxAbs);
        // Both sides round activations the same way before each product; they differ only in summation order.
        assertTrue(maxDiff <= 1e-4 * Math.max(1, maxAbs), what + ": logits differ by up to " + maxDiff
                + " (largest logit " + maxAbs + ")");
    }
}
