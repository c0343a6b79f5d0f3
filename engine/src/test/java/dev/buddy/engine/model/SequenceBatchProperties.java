package dev.buddy.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Tag;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import dev.buddy.engine.e2e.SyntheticModels;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.gguf.GgmlType;

/**
 * Several sequences advanced by one {@link Transformer#forward(SequenceBatch)} call compute exactly what each computes
 * alone with the same plan: the same logits after every call and the same KV cache. Like is compared with like: the
 * scalar kernels, whose row results do not depend on how many rows share a GEMM (the SIMD F32/F16/BF16 kernels sum batches of
 * several rows in tinyBLAS's order), and each sequence's attention sums in the order of its own token
 * count in both runs (a prompt of several tokens in the batch order, a decode token in the one-token order), so the
 * sequences run alone in exactly the calls they get in the batch.
 */
class SequenceBatchProperties {
    private static final int CONTEXT = 48;

    private static final Map<Integer, Model> MODELS = new HashMap<>();
    private static final List<Path> FILES = new ArrayList<>();
    private static Parallel pool;

    @BeforeContainer
    static void open() {
        pool = new Parallel(2);
    }

    @AfterContainer
    static void close() throws IOException {
        pool.close();
        for (Model m : MODELS.values()) {
            m.close();
        }
        for (Path f : FILES) {
            Files.deleteIfExists(f);
        }
        MODELS.clear();
        FILES.clear();
    }

    /** A synthetic llama model with {@code layers} blocks, scalar kernels; written once per depth. */
    private static synchronized Model model(int layers) {
        return MODELS.computeIfAbsent(layers, l -> {
            try {
                SyntheticModels.Spec base = SyntheticModels.llama(GgmlType.Q8_0);
                SyntheticModels.Spec deep = new SyntheticModels.Spec(base.architecture(), base.weightType(),
                        base.embeddingLength(), base.feedForwardLength(), l, base.headCount(), base.headCountKv(),
                        base.headDim(), base.tiedEmbeddings(), base.ropeFreqFactors(), base.qkvBias(),
                        base.qkNorm(), base.ropeFreqBase(), base.contextLength(), 5);
                Path file = SyntheticModels.write(deep, Files.createTempFile("sequence-batch", ".gguf"));
                FILES.add(file);
                return Model.load(file, VectorWidth.SCALAR);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** One sequence's tokens (prompt, then teacher-forced continuation) and a mask per position. */
    private record Sequence(int[] tokens, int prompt, boolean[][] masks) {
        LayerPlanner perToken() {
            return new LayerPlanner() {
                @Override
                public void plan(LayerPlanContext ctx, boolean[] runBlock) {
                    throw new AssertionError("the engine must call planTokens");
                }

                @Override
                public boolean plansPerToken() {
                    return true;
                }

                @Override
                public void planTokens(LayerPlanContext ctx, boolean[] runBlocks) {
                    int layers = ctx.layerCount();
                    for (int t = 0; t < ctx.tokenCount(); t++) {
                        System.arraycopy(masks[ctx.startPosition() + t], 0, runBlocks, t * layers, layers);
                    }
                }
            };
        }

        /** A whole-call planner for one-token calls. */
        LayerPlanner perCall() {
            return (ctx, runBlock) -> {
                assertEquals(1, ctx.tokenCount());
                System.arraycopy(masks[ctx.startPosition()], 0, runBlock, 0, runBlock.length);
            };
        }

        /** The planner of the call that starts at {@code position}: per token for the prompt, per call after it. */
        LayerPlanner planner(int position, boolean dense) {
            return dense ? null : position == 0 ? perToken() : perCall();
        }

        /** Tokens of the call that starts at {@code position}: the whole prompt, then one at a time. */
        int callLength(int position) {
            return position == 0 ? prompt : 1;
        }
    }

    private static Sequence randomSequence(Random random, int layers, int vocab, double runProbability) {
        int prompt = 1 + random.nextInt(6);
        int total = prompt + random.nextInt(12);
        int[] tokens = new int[total];
        for (int i = 0; i < total; i++) {
            tokens[i] = random.nextInt(vocab);
        }
        boolean[][] masks = new boolean[total][layers];
        for (boolean[] m : masks) {
            for (int b = 0; b < layers; b++) {
                m[b] = b == 0 || b == layers - 1 || random.nextDouble() < runProbability;
            }
        }
        return new Sequence(tokens, prompt, masks);
    }

    /** Logits after every call of the sequence run alone: [call][vocab], call 0 being the prompt. */
    private static List<float[]> alone(Transformer tf, InferenceState s, Sequence seq, boolean dense) {
        List<float[]> logits = new ArrayList<>();
        for (int p = 0; p < seq.tokens.length; p += seq.callLength(p)) {
            logits.add(tf.forward(s, seq.tokens, p, p, seq.callLength(p), seq.planner(p, dense), true).clone());
        }
        return logits;
    }

    /** Every sequence advanced together: one batched call per step until all have run out of tokens. */
    private static List<List<float[]>> together(Transformer tf, SequenceBatch batch, InferenceState[] states,
            Sequence[] seqs, boolean dense, int[] rowsRunTotal) {
        List<List<float[]>> logits = new ArrayList<>();
        int[] next = new int[seqs.length];
        int[] indexOf = new int[seqs.length];
        for (int i = 0; i < seqs.length; i++) {
            logits.add(new ArrayList<>());
        }
        while (true) {
            batch.clear();
            for (int i = 0; i < seqs.length; i++) {
                indexOf[i] = -1;
                int p = next[i];
                if (p < seqs[i].tokens.length) {
                    indexOf[i] = batch.add(states[i], seqs[i].tokens, p, p, seqs[i].callLength(p),
                            seqs[i].planner(p, dense));
                }
            }
            if (batch.size() == 0) {
                return logits;
            }
            tf.forward(batch);
            for (int b = 0; b < rowsRunTotal.length; b++) {
                rowsRunTotal[b] += batch.rowsRun(b);
            }
            for (int i = 0; i < seqs.length; i++) {
                if (indexOf[i] >= 0) {
                    logits.get(i).add(batch.logits(indexOf[i]).clone());
                    next[i] += seqs[i].callLength(next[i]);
                }
            }
        }
    }

    @Property(tries = 25)
    void eachSequenceOfABatchEqualsItselfAlone(@ForAll long seed, @ForAll @IntRange(min = 1, max = 7) int layers,
            @ForAll @IntRange(min = 1, max = 4) int sequences, @ForAll SkippedKvPolicy policy,
            @ForAll boolean half, @ForAll boolean dense) {
        Random random = new Random(seed);
        Transformer tf = new Transformer(model(layers), pool);
        KvCacheType type = half ? KvCacheType.F16 : KvCacheType.F32;
        Sequence[] seqs = new Sequence[sequences];
        InferenceState[] states = new InferenceState[sequences];
        int[] expectedRowsRun = new int[layers];
        for (int i = 0; i < sequences; i++) {
            seqs[i] = randomSequence(random, layers, tf.spec().vocabSize(), random.nextDouble());
            states[i] = tf.newState(CONTEXT, type, 8, policy);
            for (boolean[] m : seqs[i].masks) {
                for (int b = 0; b < layers; b++) {
                    expectedRowsRun[b] += dense || m[b] || b == 0 ? 1 : 0;
                }
            }
        }
        SequenceBatch batch = new SequenceBatch(tf, sequences, 8 * sequences, CONTEXT, policy);
        int[] rowsRun = new int[layers];
        List<List<float[]>> actual = together(tf, batch, states, seqs, dense, rowsRun);
        assertArrayEquals(expectedRowsRun, rowsRun, "rows each block ran on, over all calls");

        float[] a = new float[tf.spec().kvDim()];
        float[] b = new float[tf.spec().kvDim()];
        for (int i = 0; i < sequences; i++) {
            InferenceState solo = tf.newState(CONTEXT, type, 8, policy);
            List<float[]> expected = alone(tf, solo, seqs[i], dense);
            assertEquals(expected.size(), actual.get(i).size(), "calls of sequence " + i);
            for (int c = 0; c < expected.size(); c++) {
                assertArrayEquals(expected.get(c), actual.get(i).get(c), "sequence " + i + ", call " + c);
            }
            for (int layer = 0; layer < layers; layer++) {
                for (int p = 0; p < seqs[i].tokens.length; p++) {
                    String where = "sequence " + i + ", layer " + layer + ", position " + p;
                    assertEquals(solo.kvCache().isValid(layer, p), states[i].kvCache().isValid(layer, p), where);
                    solo.kvCache().readKey(layer, p, a, 0);
                    states[i].kvCache().readKey(layer, p, b, 0);
                    assertArrayEquals(a, b, "key at " + where);
                    solo.kvCache().readValue(layer, p, a, 0);
                    states[i].kvCache().readValue(layer, p, b, 0);
                    assertArrayEquals(a, b, "value at " + where);
                }
            }
        }
    }

    /** A block that no sequence of the call selected runs on no row; one that some selected runs on exactly those. */
    @Example
    void aBlockNoSequenceSelectedDoesNotRun() {
        int layers = 5;
        Transformer tf = new Transformer(model(layers), pool);
        boolean[][] first = {{true, true, false, true, true}};
        boolean[][] second = {{true, false, false, true, true}};
        int[] tokens = {7, 11};
        InferenceState s1 = tf.newState(CONTEXT, KvCacheType.F16, 4, SkippedKvPolicy.ZEROS);
        InferenceState s2 = tf.newState(CONTEXT, KvCacheType.F16, 4, SkippedKvPolicy.ZEROS);
        SequenceBatch batch = new SequenceBatch(tf, 2, 2, CONTEXT, SkippedKvPolicy.ZEROS);
        batch.add(s1, tokens, 0, 0, 1, new Sequence(tokens, 1, first).perCall());
        batch.add(s2, tokens, 1, 0, 1, new Sequence(tokens, 1, second).perCall());
        tf.forward(batch);
        assertArrayEquals(new int[] {2, 1, 0, 2, 2}, new int[] {batch.rowsRun(0), batch.rowsRun(1),
                batch.rowsRun(2), batch.rowsRun(3), batch.rowsRun(4)});
    }

    @Example
    void refusesWhatASequenceCannotTake() {
        Transformer tf = new Transformer(model(3), pool);
        InferenceState s = tf.newState(4, KvCacheType.F16, 2, SkippedKvPolicy.ZEROS);
        SequenceBatch batch = new SequenceBatch(tf, 2, 4, 4, SkippedKvPolicy.ZEROS);
        int[] tokens = {1, 2, 3, 4, 5};
        assertThrows(IllegalArgumentException.class, () -> batch.add(s, tokens, 0, 0, 3, null), "over maxBatch");
        assertThrows(ContextOverflowException.class, () -> batch.add(s, tokens, 0, 3, 2, null), "past the context");
        assertThrows(IllegalArgumentException.class, () -> batch.add(tf.newState(4, KvCacheType.F16, 2,
                SkippedKvPolicy.MASK), tokens, 0, 0, 1, null), "another skipped-KV policy");
        batch.add(s, tokens, 0, 0, 1, null);
        assertThrows(IllegalArgumentException.class, () -> batch.add(s, tokens, 1, 1, 1, null), "twice in a call");
        assertThrows(IllegalArgumentException.class, () -> new Transformer(model(3), pool).forward(
                new SequenceBatch(tf, 1, 1, 4, SkippedKvPolicy.ZEROS)), "an empty batch");
    }

    /**
     * Batched decode steps of several sequences under per-token plans allocate nothing once warmed up. Tagged
     * {@code allocation}: runs in its own JVM with the launcher's -Xbatch (see the parent POM).
     */
    @Example
    @Tag("allocation")
    void batchedStepsAllocateNothing() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().threadId();
        int layers = 6;
        try (Parallel single = new Parallel(1)) {
            Transformer tf = new Transformer(model(layers), single);
            Random random = new Random(5);
            int sequences = 3;
            Sequence[] seqs = new Sequence[sequences];
            InferenceState[] states = new InferenceState[sequences];
            for (int i = 0; i < sequences; i++) {
                boolean[][] masks = new boolean[CONTEXT][layers];
                for (boolean[] m : masks) {
                    for (int b = 0; b < layers; b++) {
                        m[b] = b == 0 || b == layers - 1 || random.nextBoolean();
                    }
                }
                int[] tokens = new int[CONTEXT];
                for (int p = 0; p < CONTEXT; p++) {
                    tokens[p] = random.nextInt(tf.spec().vocabSize());
                }
                seqs[i] = new Sequence(tokens, 1, masks);
                states[i] = tf.newState(CONTEXT, KvCacheType.F16, 1, SkippedKvPolicy.COMPUTE_KV);
            }
            LayerPlanner[] planners = new LayerPlanner[sequences];
            for (int i = 0; i < sequences; i++) {
                planners[i] = seqs[i].perCall();
            }
            SequenceBatch batch = new SequenceBatch(tf, sequences, sequences, CONTEXT, SkippedKvPolicy.COMPUTE_KV);
            // Whole passes over the context until the JIT has settled (a pass through code not yet compiled may
            // allocate), then the fewest bytes of up to three measured passes: a recompilation can still allocate
            // once in one of them (in CI, 176 bytes in one pass and none on replay, after other tests had compiled
            // the shared code for other formats), while an allocation per step shows in every pass.
            for (int pass = 0; pass < 30 && pass(threads, thread, tf, batch, states, seqs, planners) >= CONTEXT;
                    pass++) {
                // warming up
            }
            long allocated = Long.MAX_VALUE;
            for (int measured = 0; measured < 3 && allocated >= CONTEXT; measured++) {
                allocated = Math.min(allocated, pass(threads, thread, tf, batch, states, seqs, planners));
            }
            if (allocated >= CONTEXT) {
                fail(allocated + " bytes over " + CONTEXT + " batched steps; allocated at " + AllocationSites.top(
                        () -> pass(threads, thread, tf, batch, states, seqs, planners)));
            }
        }
    }

    /** One batched step per position of the context, every sequence advancing; returns the bytes allocated. */
    private static long pass(com.sun.management.ThreadMXBean threads, long thread, Transformer tf,
            SequenceBatch batch, InferenceState[] states, Sequence[] seqs, LayerPlanner[] planners) {
        long before = threads.getThreadAllocatedBytes(thread);
        for (int p = 0; p < CONTEXT; p++) {
            batch.clear();
            for (int i = 0; i < states.length; i++) {
                batch.add(states[i], seqs[i].tokens, p, p, 1, planners[i]);
            }
            tf.forward(batch);
        }
        return threads.getThreadAllocatedBytes(thread) - before;
    }
}
