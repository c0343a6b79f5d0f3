package dev.buddy.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.engine.model.Architecture;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.RopeConfig;
import dev.buddy.engine.model.RopeStyle;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The per-model prompt chunk: a multiple of 4 between 64 and 256 whose activations stay within the 16 MiB budget
 * unless the model is too wide for even 64 tokens, never smaller for a narrower model, and only a default: an explicit
 * batch size wins.
 */
class GenerationOptionsProperties {

    private static ModelSpec spec(int dim, int ffn, int heads, int kvHeads, int headDim) {
        return new ModelSpec(Architecture.LLAMA, 2, dim, ffn, heads, kvHeads, headDim, 1000, 4096, 1e-5f,
                new RopeConfig(RopeStyle.NORMAL, headDim, 10000f, 1f, null, null), false, false, true);
    }

    @Property(tries = 300)
    void theChunkIsATileMultipleWithinItsBoundsAndItsBudget(@ForAll @IntRange(min = 1, max = 64) int heads,
            @ForAll @IntRange(min = 1, max = 8) int groups, @ForAll @IntRange(min = 4, max = 128) int halfHeadDim,
            @ForAll @IntRange(min = 64, max = 32768) int ffn) {
        int kvHeads = Math.max(1, heads / groups);
        int qHeads = kvHeads * groups;
        int headDim = 2 * halfHeadDim;
        ModelSpec s = spec(qHeads * headDim, ffn, qHeads, kvHeads, headDim);
        int batch = GenerationOptions.promptBatchFor(s);
        assertEquals(0, batch % 4, "a whole number of 4-token tiles");
        assertTrue(batch >= 64 && batch <= 256, "between 64 and 256: " + batch);
        long perToken = GenerationOptions.activationBytesPerToken(s);
        assertTrue(batch == 64 || batch * perToken <= 16L << 20, "within 16 MiB: " + batch);
        assertTrue(batch == 256 || (batch + 4) * perToken > 16L << 20, "the largest that fits: " + batch);
        ModelSpec wider = spec(qHeads * headDim, ffn * 2, qHeads, kvHeads, headDim);
        assertTrue(GenerationOptions.promptBatchFor(wider) <= batch, "a wider model never gets a larger chunk");
    }

    @Test
    void realShapesGetTheirChunksAndAnExplicitBatchWins() {
        ModelSpec smolLm2 = spec(576, 1536, 9, 3, 64);
        ModelSpec llama1b = spec(2048, 8192, 32, 8, 64);
        assertEquals(256, GenerationOptions.promptBatchFor(smolLm2));
        assertTrue(GenerationOptions.promptBatchFor(llama1b) < 128, "Llama-3.2-1B keeps a small chunk");
        GenerationOptions defaults = GenerationOptions.defaults();
        assertEquals(GenerationOptions.AUTO, defaults.batchSize());
        assertEquals(GenerationOptions.promptBatchFor(llama1b), defaults.batchSizeFor(llama1b));
        assertEquals(32, defaults.withBatchSize(32).batchSizeFor(smolLm2));
        assertThrows(IllegalArgumentException.class, () -> defaults.withBatchSize(-1));
    }
}
