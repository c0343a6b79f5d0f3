package dev.buddy.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.IOException;
import java.util.Random;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.gguf.TestData;

/**
 * The thread count changes how the work is split, never a bit of the result: prompts and decode steps give the same
 * logits and the same KV cache on 1, 2 and 3 threads. Attention splits its (KV head, row, query head) items across
 * threads, so chunk edges cut GQA groups and rows at varying places, and each thread attends with its own working
 * memory; stories260K has 4 KV heads of 2 query heads each, heads of 8 (the SIMD group kernels' case).
 */
class ThreadCountProperties {
    private static Model model;
    private static final Parallel[] POOLS = new Parallel[3];
    private static final Transformer[] TRANSFORMERS = new Transformer[3];

    @BeforeContainer
    static void load() throws IOException {
        model = Model.load(TestData.require("models/stories260K.gguf"));
        for (int i = 0; i < POOLS.length; i++) {
            POOLS[i] = new Parallel(i + 1);
            TRANSFORMERS[i] = new Transformer(model, POOLS[i]);
        }
    }

    @AfterContainer
    static void close() {
        for (Parallel pool : POOLS) {
            pool.close();
        }
        model.close();
    }

    @Property(tries = 30)
    void everyThreadCountGivesTheSameLogitsAndCache(@ForAll long seed,
            @ForAll @IntRange(min = 2, max = 70) int promptLength, @ForAll @IntRange(min = 0, max = 4) int decodeSteps,
            @ForAll boolean half) {
        KvCacheType type = half ? KvCacheType.F16 : KvCacheType.F32;
        Random random = new Random(seed);
        int[] tokens = new int[promptLength + decodeSteps];
        tokens[0] = 1;
        for (int i = 1; i < tokens.length; i++) {
            tokens[i] = random.nextInt(model.spec().vocabSize());
        }
        InferenceState[] states = new InferenceState[TRANSFORMERS.length];
        float[][] logits = new float[TRANSFORMERS.length][];
        for (int i = 0; i < TRANSFORMERS.length; i++) {
            states[i] = TRANSFORMERS[i].newState(96, type, 32, SkippedKvPolicy.ZEROS);
            logits[i] = TRANSFORMERS[i].forward(states[i], tokens, 0, promptLength, null, true).clone();
            for (int step = 0; step < decodeSteps; step++) {
                int p = promptLength + step;
                logits[i] = TRANSFORMERS[i].forward(states[i], tokens, p, p, 1, null, true).clone();
            }
        }
        int kvDim = states[0].kvDim();
        float[] a = new float[kvDim];
        float[] b = new float[kvDim];
        for (int i = 1; i < TRANSFORMERS.length; i++) {
            assertArrayEquals(logits[0], logits[i], (i + 1) + " threads against 1: logits");
            for (int layer = 0; layer < model.spec().blockCount(); layer++) {
                for (int p = 0; p < tokens.length; p++) {
                    states[0].kvCache().readKey(layer, p, a, 0);
                    states[i].kvCache().readKey(layer, p, b, 0);
                    assertArrayEquals(a, b, (i + 1) + " threads: key of block " + layer + " at " + p);
                    states[0].kvCache().readValue(layer, p, a, 0);
                    states[i].kvCache().readValue(layer, p, b, 0);
                    assertArrayEquals(a, b, (i + 1) + " threads: value of block " + layer + " at " + p);
                }
            }
        }
    }
}
