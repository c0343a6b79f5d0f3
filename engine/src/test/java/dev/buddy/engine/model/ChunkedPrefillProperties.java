package dev.buddy.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.Random;

import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.gguf.TestData;

/**
 * Attention and softmax do not depend on how a prompt is cut into forward calls: any chunking gives the same logits
 * and the same KV cache, bit for bit. The model uses the scalar reference kernels, whose per-row results do not depend
 * on the number of tokens in a call (the SIMD kernels may add block sums in another order for a 4-token tile than for
 * a lone token), so that this checks the forward pass's own bookkeeping exactly. Chunks are never a single token
 * unless the whole prompt is: a one-token call is a decode step, whose attention llama.cpp (and Buddy after it) sums
 * in ggml_vec_dot's order rather than tinyBLAS's, so it legitimately rounds differently.
 */
class ChunkedPrefillProperties {
    private static Model model;
    private static Parallel pool;
    private static Transformer transformer;

    @BeforeContainer
    static void load() throws IOException {
        model = Model.load(TestData.require("models/stories260K.gguf"), VectorWidth.SCALAR);
        pool = new Parallel(2);
        transformer = new Transformer(model, pool);
    }

    @AfterContainer
    static void close() {
        pool.close();
        model.close();
    }

    @Property(tries = 40)
    void anyChunkingGivesTheSameLogitsAndCache(@ForAll long seed, @ForAll @IntRange(min = 1, max = 60) int length,
            @ForAll @IntRange(min = 2, max = 16) int maxBatch, @ForAll boolean half) {
        Assume.that(length == 1 || length % maxBatch != 1); // no one-token last chunk
        KvCacheType type = half ? KvCacheType.F16 : KvCacheType.F32;
        Random random = new Random(seed);
        int[] tokens = new int[length];
        tokens[0] = 1;
        for (int i = 1; i < length; i++) {
            tokens[i] = random.nextInt(model.spec().vocabSize());
        }
        InferenceState once = transformer.newState(64, type, 64, SkippedKvPolicy.ZEROS);
        float[] expected = transformer.forward(once, tokens, 0, length, null, true).clone();

        // Chunks of at most maxBatch through the state's own chunking ...
        InferenceState chunked = transformer.newState(64, type, maxBatch, SkippedKvPolicy.ZEROS);
        assertArrayEquals(expected, transformer.forward(chunked, tokens, 0, length, null, true));
        // ... and random uneven calls through the offset overload.
        InferenceState manual = transformer.newState(64, type, 64, SkippedKvPolicy.ZEROS);
        float[] actual = null;
        for (int start = 0; start < length; ) {
            int n = Math.min(length - start, 2 + random.nextInt(8));
            if (length - start - n == 1) {
                n++; // never leave a one-token call behind
            }
            actual = transformer.forward(manual, tokens, start, start, n, null, start + n == length);
            start += n;
        }
        assertArrayEquals(expected, actual);

        int kvDim = once.kvDim();
        float[] a = new float[kvDim];
        float[] b = new float[kvDim];
        for (int layer = 0; layer < model.spec().blockCount(); layer++) {
            for (int p = 0; p < length; p++) {
                once.kvCache().readKey(layer, p, a, 0);
                manual.kvCache().readKey(layer, p, b, 0);
                assertArrayEquals(a, b);
                once.kvCache().readValue(layer, p, a, 0);
                chunked.kvCache().readValue(layer, p, b, 0);
                assertArrayEquals(a, b);
            }
        }
        assertEquals(model.spec().vocabSize(), expected.length);
    }
}
