package dev.buddy.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.engine.e2e.GgufEdit;
import dev.buddy.engine.kv.KvCache;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.sampling.Sampler;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.gguf.GgufValue;
import dev.buddy.gguf.GgufValueType;
import dev.buddy.gguf.TestData;

/**
 * The forward pass's own invariants on a real model (stories260K, 5 blocks): the planner hook, the skipped-KV
 * policies, the context limit and allocation-free decoding. Agreement with llama.cpp is tested in the e2e package.
 *
 * <p>The model runs on the scalar reference kernels: many checks here are bit-for-bit, and the scalar kernels are
 * deterministic whatever the JIT has compiled, so a difference can only come from the forward pass itself.
 */
class ForwardPassTest {
    private static final int[] PROMPT = {1, 403, 407, 261, 378, 322, 265, 400, 267, 302, 261};
    private static final int STEPS = 12;

    private static Path path;
    private static Model model;
    private static Parallel pool;
    private static Transformer transformer;

    @BeforeAll
    static void load() throws IOException {
        path = TestData.require("models/stories260K.gguf");
        model = Model.load(path, VectorWidth.SCALAR);
        pool = new Parallel(2);
        transformer = new Transformer(model, pool);
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

    /** Prompt then greedy decoding; returns the logits after every forward call. */
    private static List<float[]> run(Transformer tf, InferenceState s, LayerPlanner planner) {
        List<float[]> all = new ArrayList<>();
        float[] logits = tf.forward(s, PROMPT, 0, PROMPT.length, planner, true);
        all.add(logits.clone());
        int[] one = new int[1];
        for (int pos = PROMPT.length; pos < PROMPT.length + STEPS; pos++) {
            one[0] = Sampler.argmax(logits, logits.length);
            logits = tf.forward(s, one, pos, 1, planner, true);
            all.add(logits.clone());
        }
        return all;
    }

    private static InferenceState state(KvCacheType type, SkippedKvPolicy policy) {
        return transformer.newState(64, type, 8, policy);
    }

    private static void assertBitIdentical(List<float[]> expected, List<float[]> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "logits of forward call " + i);
        }
    }

    @Test
    void allBlocksPlannerIsBitIdenticalToNoPlanner() {
        for (KvCacheType type : KvCacheType.values()) {
            for (SkippedKvPolicy policy : SkippedKvPolicy.values()) {
                List<float[]> bypass = run(transformer, state(type, policy), null);
                List<float[]> hooked = run(transformer, state(type, policy), LayerPlanner.ALL_BLOCKS);
                assertBitIdentical(bypass, hooked);
            }
        }
    }

    @Test
    void plannerSeesEachCallOnceAfterBlockZero() {
        InferenceState reference = state(KvCacheType.F32, SkippedKvPolicy.ZEROS);
        run(transformer, reference, null);
        List<int[]> calls = new ArrayList<>();
        LayerPlanner recorder = (ctx, runBlock) -> {
            assertEquals(model.spec().blockCount(), ctx.layerCount());
            assertEquals(model.spec().kvDim(), ctx.kvDim());
            assertEquals(ctx.layerCount(), runBlock.length);
            for (boolean b : runBlock) {
                assertTrue(b, "runBlock arrives all true");
            }
            // Block 0's rows for the new positions exist already and equal the no-planner run's.
            float[] key = new float[ctx.kvDim()];
            float[] expected = new float[ctx.kvDim()];
            int last = ctx.startPosition() + ctx.tokenCount() - 1;
            ctx.layer0Key(last, key, 0);
            reference.kvCache().readKey(0, last, expected, 0);
            assertArrayEquals(expected, key);
            ctx.layer0Value(last, key, 0);
            reference.kvCache().readValue(0, last, expected, 0);
            assertArrayEquals(expected, key);
            assertThrows(IndexOutOfBoundsException.class, () -> ctx.layer0Key(last + 1, new float[ctx.kvDim()], 0));
            calls.add(new int[] {ctx.startPosition(), ctx.tokenCount()});
        };
        run(transformer, state(KvCacheType.F32, SkippedKvPolicy.ZEROS), recorder);
        // The 11-token prompt runs as chunks of 8 and 3, then one call per decoded token.
        assertArrayEquals(new int[] {0, 8}, calls.get(0));
        assertArrayEquals(new int[] {8, 3}, calls.get(1));
        assertEquals(2 + STEPS, calls.size());
        for (int i = 0; i < STEPS; i++) {
            assertArrayEquals(new int[] {PROMPT.length + i, 1}, calls.get(2 + i));
        }
    }

    /** Skipping a block at every step must equal the model with that block removed from the file. */
    @Test
    void skippingABlockEverywhereEqualsTheModelWithoutIt(@TempDir Path dir) throws IOException {
        int removed = 2;
        int blocks = model.spec().blockCount();
        Path smaller = GgufEdit.copy(path, dir.resolve("without-block.gguf"),
                Map.of("llama.block_count", new GgufValue(GgufValueType.UINT32, blocks - 1)), name -> {
                    if (!name.startsWith("blk.")) {
                        return name;
                    }
                    int dot = name.indexOf('.', 4);
                    int b = Integer.parseInt(name.substring(4, dot));
                    return b == removed ? null : "blk." + (b > removed ? b - 1 : b) + name.substring(dot);
                });
        LayerPlanner skip = (ctx, runBlock) -> runBlock[removed] = false;
        try (Model small = Model.load(smaller, VectorWidth.SCALAR)) {
            Transformer smallTf = new Transformer(small, pool);
            for (SkippedKvPolicy policy : SkippedKvPolicy.values()) {
                List<float[]> expected = run(smallTf, smallTf.newState(64, KvCacheType.F16, 8, policy), null);
                List<float[]> actual = run(transformer, state(KvCacheType.F16, policy), skip);
                assertBitIdentical(expected, actual);
            }
        }
    }

    /** A planner that skips one block at exactly one decode position. */
    private static LayerPlanner skipOnce(int block, int position) {
        return (ctx, runBlock) -> {
            if (ctx.startPosition() == position) {
                runBlock[block] = false;
            }
        };
    }

    @Test
    void zerosPolicyLeavesZeroRowsThatLaterTokensAttendTo() {
        int block = 3;
        int position = PROMPT.length + 2;
        InferenceState s = state(KvCacheType.F16, SkippedKvPolicy.ZEROS);
        List<float[]> skipped = run(transformer, s, skipOnce(block, position));
        KvCache kv = s.kvCache();
        float[] row = new float[kv.kvDim()];
        kv.readKey(block, position, row, 0);
        assertArrayEquals(new float[kv.kvDim()], row);
        kv.readValue(block, position, row, 0);
        assertArrayEquals(new float[kv.kvDim()], row);
        assertTrue(kv.isValid(block, position), "zero rows stay in the softmax");
        kv.readKey(block, position + 1, row, 0);
        assertNotEquals(0f, Arrays.stream(box(row)).mapToDouble(Float::doubleValue).map(Math::abs).sum());
        // The skip changed what followed.
        assertFalse(Arrays.equals(run(transformer, state(KvCacheType.F16, SkippedKvPolicy.ZEROS), null).getLast(),
                skipped.getLast()));
    }

    @Test
    void maskPolicyExcludesTheSkippedRowsFromLaterAttention() {
        int block = 3;
        int position = PROMPT.length + 2;
        LayerPlanner planner = skipOnce(block, position);
        InferenceState s = state(KvCacheType.F32, SkippedKvPolicy.MASK);
        List<float[]> masked = run(transformer, s, planner);
        assertFalse(s.kvCache().isValid(block, position));
        assertTrue(s.kvCache().isValid(block, position + 1));
        assertTrue(s.kvCache().isValid(block + 1, position));

        // Whatever the masked rows hold cannot matter: fill them with large values before the later steps run.
        InferenceState poisoned = state(KvCacheType.F32, SkippedKvPolicy.MASK);
        float[] junk = new float[poisoned.kvDim()];
        Arrays.fill(junk, 50f);
        LayerPlanner poisoning = (ctx, runBlock) -> {
            planner.plan(ctx, runBlock);
            if (ctx.startPosition() == position + 1) {
                poisoned.kvCache().storeKey(block, position, junk, 0);
                poisoned.kvCache().storeValue(block, position, junk, 0);
            }
        };
        assertBitIdentical(masked, run(transformer, poisoned, poisoning));

        // The same poisoning under ZEROS, where the skipped rows stay in the softmax, does change the output.
        InferenceState zeros = state(KvCacheType.F32, SkippedKvPolicy.ZEROS);
        List<float[]> zeroRun = run(transformer, zeros, planner);
        InferenceState zerosPoisoned = state(KvCacheType.F32, SkippedKvPolicy.ZEROS);
        LayerPlanner poisoningZeros = (ctx, runBlock) -> {
            planner.plan(ctx, runBlock);
            if (ctx.startPosition() == position + 1) {
                zerosPoisoned.kvCache().storeKey(block, position, junk, 0);
                zerosPoisoned.kvCache().storeValue(block, position, junk, 0);
            }
        };
        assertFalse(Arrays.equals(zeroRun.getLast(), run(transformer, zerosPoisoned, poisoningZeros).getLast()));
    }

    @Test
    void computeKvPolicyStoresTheRowsTheFullModelWould() {
        int block = 3;
        int[] tokens = new int[PROMPT.length + STEPS];
        System.arraycopy(PROMPT, 0, tokens, 0, PROMPT.length);
        List<float[]> greedy = run(transformer, state(KvCacheType.F32, SkippedKvPolicy.ZEROS), null);
        for (int i = 0; i < STEPS; i++) {
            float[] l = greedy.get(i);
            tokens[PROMPT.length + i] = Sampler.argmax(l, l.length);
        }
        for (KvCacheType type : KvCacheType.values()) {
            // Both runs make the same calls (chunks of 8); the second skips the block for the first chunk.
            InferenceState full = state(type, SkippedKvPolicy.COMPUTE_KV);
            InferenceState skipped = state(type, SkippedKvPolicy.COMPUTE_KV);
            transformer.forward(full, tokens, 0, tokens.length, null, false);
            transformer.forward(skipped, tokens, 0, tokens.length, skipOnce(block, 0), false);
            // Blocks before the skipped one saw the same residual, so the skipped block's keys and values are the
            // full model's; the next block's are not (its input lacks the skipped block's contribution).
            int kvDim = full.kvDim();
            float[] a = new float[kvDim];
            float[] b = new float[kvDim];
            for (int p = 0; p < tokens.length; p++) {
                full.kvCache().readKey(block, p, a, 0);
                skipped.kvCache().readKey(block, p, b, 0);
                assertArrayEquals(a, b, type + " key at " + p);
                full.kvCache().readValue(block, p, a, 0);
                skipped.kvCache().readValue(block, p, b, 0);
                assertArrayEquals(a, b, type + " value at " + p);
                assertTrue(skipped.kvCache().isValid(block, p));
            }
            full.kvCache().readValue(block + 1, 3, a, 0);
            skipped.kvCache().readValue(block + 1, 3, b, 0);
            assertFalse(Arrays.equals(a, b));
        }
    }

    /** Tagged {@code allocation}: runs in its own JVM with the launcher's -Xbatch (see the parent POM). */
    @Test
    @Tag("allocation")
    void decodingAllocatesNothingPerToken() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().threadId();
        try (Parallel single = new Parallel(1)) {
            Transformer tf = new Transformer(model, single);
            for (KvCacheType type : KvCacheType.values()) {
                InferenceState s = tf.newState(256, type, 8, SkippedKvPolicy.MASK);
                Sampler sampler = new Sampler(dev.buddy.engine.sampling.SamplerConfig.defaults(7), model.spec().vocabSize());
                int[] one = {1};
                LayerPlanner skipEveryOther = (ctx, runBlock) -> runBlock[2] = ctx.startPosition() % 2 == 0;
                // Warm-up: class loading and JIT compilation allocate, and until C2 has compiled the vector kernels
                // their Java fallbacks allocate a vector object per operation; on a loaded machine that can take
                // many rounds, so repeat until a whole round runs allocation-free (or give up and let it fail).
                for (int round = 0; round < 40; round++) {
                    s.reset();
                    long start = threads.getThreadAllocatedBytes(thread);
                    for (int p = 0; p < 40; p++) {
                        float[] logits = tf.forward(s, one, 0, p, 1, skipEveryOther, true);
                        one[0] = sampler.sample(logits);
                        sampler.accept(one[0]);
                    }
                    if (threads.getThreadAllocatedBytes(thread) - start < 1024) {
                        break;
                    }
                }
                s.reset();
                int pos = 0;
                for (; pos < 40; pos++) {
                    float[] logits = tf.forward(s, one, 0, pos, 1, skipEveryOther, true);
                    one[0] = sampler.sample(logits);
                    sampler.accept(one[0]);
                }
                long before = threads.getThreadAllocatedBytes(thread);
                for (; pos < 200; pos++) {
                    float[] logits = tf.forward(s, one, 0, pos, 1, skipEveryOther, true);
                    one[0] = sampler.sample(logits);
                    sampler.accept(one[0]);
                }
                long allocated = threads.getThreadAllocatedBytes(thread) - before;
                if (allocated >= 1024) {
                    InferenceState state = s;
                    fail(type + ": 160 decode steps allocated " + allocated + " bytes; allocated at "
                            + AllocationSites.top(() -> {
                                for (int p = 200; p < 256; p++) {
                                    one[0] = sampler.sample(tf.forward(state, one, 0, p, 1, skipEveryOther, true));
                                    sampler.accept(one[0]);
                                }
                            }));
                }
            }
        }
    }

    @Test
    void exceedingTheContextIsATypedError() {
        InferenceState s = transformer.newState(16, KvCacheType.F16, 8, SkippedKvPolicy.ZEROS);
        int[] tokens = new int[17];
        Arrays.fill(tokens, 5);
        ContextOverflowException e = assertThrows(ContextOverflowException.class,
                () -> transformer.forward(s, tokens, 0, 17, null, true));
        assertEquals(17, e.requiredPositions());
        assertEquals(16, e.contextLength());
        transformer.forward(s, tokens, 0, 16, null, true);
        assertThrows(ContextOverflowException.class, () -> transformer.forward(s, new int[] {5}, 16, 1, null, true));
        assertThrows(IllegalArgumentException.class, () -> transformer.forward(s, new int[] {100000}, 0, 1, null, true));
    }

    private static Float[] box(float[] a) {
        Float[] b = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }
}
