package dev.buddy.engine.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.buddy.engine.kv.KvCache;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.tensor.GgmlMath;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.Rope;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.reference.TensorTrace;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.gguf.GgmlType;

/**
 * Op by op against llama.cpp's own intermediate tensors ({@link TensorTrace}, its cb_eval hook), not only the final
 * logits: a last-bit difference in one op shows up here at the op and position where it starts, instead of as a
 * logit that drifts many steps later. Synthetic models with 64-wide heads (the real models' size, where ggml's
 * dot products and RoPE run their vector paths), a batched prompt, then 40 single-token steps. (qwen3 is not here:
 * llama.cpp b4916 predates it.)
 */
class LlamaCppTraceTest {
    private static final int STEPS = 40;
    private static final String PROMPT = "Once upon a time, in a land far away, there lived a";

    static Stream<Arguments> models() {
        return Stream.of(
                model(SyntheticModels.llama(GgmlType.Q4_K), KvCacheType.F16),
                model(SyntheticModels.llama(GgmlType.Q4_K), KvCacheType.F32),
                model(SyntheticModels.qwen2(GgmlType.Q4_K), KvCacheType.F16), model(SyntheticModels.llama(GgmlType.Q8_0), KvCacheType.F16));
    }

    private static Arguments model(SyntheticModels.Spec spec, KvCacheType kvType) {
        return Arguments.of(Named.of(spec.label(), spec), kvType);
    }

    /** The models above, plus 16-wide heads, where ggml's dot products over a head fall entirely in their tails. */
    static Stream<Arguments> attentionModels() {
        return Stream.concat(models(), Stream.of(
                model(SyntheticModels.llama(GgmlType.Q8_0), KvCacheType.F16),
                model(SyntheticModels.llama(GgmlType.Q8_0), KvCacheType.F32)));
    }

    /**
     * Buddy's RoPE applied to llama.cpp's own unrotated queries and keys gives llama.cpp's rotated ones bit for bit,
     * at every position of the prompt and the steps after it. (glibc's cosf/sinf and GCC's fused multiply-adds in
     * ggml's rotation decide the last bits; a one-bit difference here once moved the real SmolLM2's logits by 0.67.)
     */
    @ParameterizedTest(name = "{0} with {1} KV cache")
    @MethodSource("attentionModels")
    void ropeRotatesAsLlamaCpp(SyntheticModels.Spec spec, KvCacheType kvType, @TempDir Path dir) throws IOException {
        int[] checked = {0};
        walk(spec, kvType, dir, (model, trace) -> {
            Rope rope = new Rope(model.spec().rope());
            return (tokens, first, when) -> checked[0] += checkRotations(trace, rope, model.spec().headDim(), first,
                    model.spec().blockCount());
        });
        System.out.println(spec.label() + " " + kvType + ": " + checked[0] + " rotated heads equal llama.cpp's");
    }

    /** Every block's output (the residual after it) equals llama.cpp's {@code l_out} at every step, bit for bit. */
    @ParameterizedTest(name = "{0} with {1} KV cache")
    @MethodSource("models")
    void everyBlockOutputIsLlamaCpps(SyntheticModels.Spec spec, KvCacheType kvType, @TempDir Path dir)
            throws IOException {
        try (Parallel pool = new Parallel(1)) {
            walk(spec, kvType, dir, (model, trace) -> {
                Transformer tf = new Transformer(model, pool);
                InferenceState state = tf.newState(128, kvType, 32, SkippedKvPolicy.ZEROS);
                List<float[]> boundaries = new ArrayList<>();
                state.setResidualObserver((boundary, x, start, n, dim) ->
                        boundaries.add(Arrays.copyOfRange(x, (n - 1) * dim, n * dim)));
                return (tokens, first, when) -> {
                    boundaries.clear();
                    tf.forward(state, tokens, first, tokens.length, null, true);
                    checkBlockOutputs(trace, boundaries, tf.spec().blockCount(), when);
                };
            });
        }
    }

    /**
     * Layer 0's attention computed by Buddy's KV cache kernels from llama.cpp's own rotated queries, keys and values
     * equals llama.cpp's raw scores (K·q), its softmax and its weighted values, bit for bit, for the batched prompt
     * (tinyBLAS order) and every single-token step (ggml_vec_dot order).
     */
    @ParameterizedTest(name = "{0} with {1} KV cache")
    @MethodSource("attentionModels")
    void attentionMatchesLlamaCppOpByOp(SyntheticModels.Spec spec, KvCacheType kvType, @TempDir Path dir)
            throws IOException {
        walk(spec, kvType, dir, (model, trace) -> {
            KvCache cache = KvCache.allocate(kvType, 1, 128, model.spec().headCountKv(), model.spec().headDim());
            return (tokens, first, when) -> checkAttention(trace, cache, model.spec(), first, tokens.length, when);
        });
    }

    /** What a test checks after each llama.cpp decode call, with that call's tensors in the trace. */
    private interface CallCheck {
        void check(int[] tokens, int firstPosition, String when);
    }

    private interface CheckFactory {
        CallCheck create(Model model, TensorTrace trace);
    }

    /**
     * Writes the model, then feeds llama.cpp the prompt as one batch and {@value #STEPS} greedy tokens one at a time,
     * running the check after every call.
     */
    private static void walk(SyntheticModels.Spec spec, KvCacheType kvType, Path dir, CheckFactory checks)
            throws IOException {
        Path path = SyntheticModels.write(spec, dir.resolve(spec.label() + ".gguf"));
        TensorTrace trace = new TensorTrace();
        try (LlamaCppReference llama = LlamaCppReference.open(path, options(kvType), trace);
                Model model = Model.load(path)) {
            CallCheck check = checks.create(model, trace);
            int[] tokens = llama.tokenize(PROMPT, true);
            llama.clearCache();
            float[] logits = llama.decodeAt(tokens, 0);
            check.check(tokens, 0, "prompt");
            int position = tokens.length;
            for (int step = 0; step < STEPS; step++) {
                int[] next = {argMax(logits)};
                logits = llama.decodeAt(next, position);
                check.check(next, position, "step " + step);
                position++;
            }
        }
    }

    private static void checkAttention(TensorTrace trace, KvCache cache, ModelSpec ms, int first, int n, String when) {
        int hd = ms.headDim();
        int heads = ms.headCount();
        int kvDim = ms.headCountKv() * hd;
        float[] q = rotated(trace, "Qcur-0").data();
        float[] k = rotated(trace, "Kcur-0").data();
        float[] v = trace.versions("Vcur-0").getLast().data();
        for (int t = 0; t < n; t++) {
            cache.storeKey(0, first + t, k, t * kvDim);
            cache.storeValue(0, first + t, v, t * kvDim);
        }
        List<TensorTrace.Tensor> all = trace.computed();
        int softmaxAt = 0;
        while (!all.get(softmaxAt).op().equals("SOFT_MAX")) {
            softmaxAt++;
        }
        TensorTrace.Tensor softmax = all.get(softmaxAt);
        TensorTrace.Tensor scores = trace.sourceOf(softmax);
        TensorTrace.Tensor weighted = all.subList(softmaxAt, all.size()).stream()
                .filter(x -> x.op().equals("MUL_MAT")).findFirst().orElseThrow();
        float scale = 1.0f / (float) Math.sqrt(hd);
        boolean batch = n > 1;
        float[] query = new float[hd];
        float[] row = new float[first + n];
        float[] out = new float[hd];
        float[] scratch = new float[cache.valueScratchSize()];
        for (int t = 0; t < n; t++) {
            int positions = first + t + 1;
            for (int h = 0; h < heads; h++) {
                cache.prepareQuery(q, (t * heads + h) * hd, query, 0);
                cache.keyScores(0, h / (heads / ms.headCountKv()), query, 0, positions, 1.0f, row, 0, batch);
                for (int p = 0; p < positions; p++) {
                    assertBits(scores.at(p, t, h), row[p], when + " K·q head " + h + " row " + t + " key " + p);
                }
                cache.keyScores(0, h / (heads / ms.headCountKv()), query, 0, positions, scale, row, 0, batch);
                GgmlMath.softmax(row, 0, positions);
                for (int p = 0; p < positions; p++) {
                    assertBits(softmax.at(p, t, h), row[p], when + " softmax head " + h + " row " + t + " key " + p);
                }
                cache.weightedValues(0, h / (heads / ms.headCountKv()), row, 0, positions, out, 0, scratch, 0,
                        batch);
                for (int i = 0; i < hd; i++) {
                    assertBits(weighted.at(i, t, h), out[i], when + " V·softmax head " + h + " row " + t + " dim " + i);
                }
            }
        }
    }

    private static TensorTrace.Tensor rotated(TensorTrace trace, String name) {
        return trace.versions(name).stream().filter(t -> t.op().equals("ROPE")).findFirst().orElseThrow();
    }

    private static void assertBits(float expected, float actual, String what) {
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
                () -> what + ": llama.cpp " + expected + ", Buddy " + actual);
    }

    private static LlamaCppReference.Options options(KvCacheType kvType) {
        return LlamaCppReference.Options.defaults().withContextSize(128)
                .withKvCacheType(LlamaCppReference.KvCacheType.valueOf(kvType.name()));
    }

    /** Rotates llama.cpp's inputs of every "Qcur-l"/"Kcur-l" RoPE node with Buddy's Rope and compares. */
    private static int checkRotations(TensorTrace trace, Rope rope, int headDim, int firstPosition, int blocks) {
        int checked = 0;
        float[] cos = new float[rope.dimensions() / 2];
        float[] sin = new float[rope.dimensions() / 2];
        for (int layer = 0; layer < blocks; layer++) {
            for (String name : new String[] {"Qcur-" + layer, "Kcur-" + layer}) {
                TensorTrace.Tensor rotated = trace.versions(name).stream().filter(t -> t.op().equals("ROPE"))
                        .findFirst().orElse(null);
                assertNotNull(rotated, "llama.cpp's graph has no RoPE node " + name);
                TensorTrace.Tensor input = trace.sourceOf(rotated);
                assertNotNull(input, "the input of llama.cpp's " + name + " was not captured");
                int heads = (int) rotated.ne()[1];
                int tokens = (int) rotated.ne()[2];
                float[] mine = input.data().clone();
                for (int t = 0; t < tokens; t++) {
                    rope.angles(firstPosition + t, cos, sin, 0);
                    for (int h = 0; h < heads; h++) {
                        rope.rotate(mine, (t * heads + h) * headDim, cos, sin, 0);
                        checked++;
                    }
                }
                for (int i = 0; i < mine.length; i++) {
                    int token = i / (heads * headDim);
                    assertEquals(Float.floatToRawIntBits(rotated.data()[i]), Float.floatToRawIntBits(mine[i]),
                            () -> name + " at position " + (firstPosition + token) + ": llama.cpp's rotation"
                                    + " differs from Buddy's");
                }
            }
        }
        return checked;
    }

    /** Buddy's residual entering block l + 1 against llama.cpp's "l_out-l" (the last row of the call). */
    private static void checkBlockOutputs(TensorTrace trace, List<float[]> boundaries, int blocks, String when) {
        for (int layer = 0; layer < blocks - 1; layer++) {
            TensorTrace.Tensor out = trace.get("l_out-" + layer);
            assertNotNull(out, "llama.cpp's graph has no l_out-" + layer);
            int width = (int) out.ne()[0];
            int rows = (int) out.ne()[1];
            float[] last = Arrays.copyOfRange(out.data(), (rows - 1) * width, rows * width);
            float[] mine = boundaries.get(layer + 1);
            for (int i = 0; i < width; i++) {
                int element = i;
                int l = layer;
                assertEquals(Float.floatToRawIntBits(last[i]), Float.floatToRawIntBits(mine[i]),
                        () -> when + ": block " + l + "'s output differs from llama.cpp's at element " + element
                                + " (" + last[element] + " vs " + mine[element] + ")");
            }
        }
    }

    private static int argMax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }
}
