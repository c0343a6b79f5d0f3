package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * The multi-token Q4_0 prompt tile ({@link Q4_0RowGroups#dotTokens}), bit for bit against the scalar kernel in the
 * repacked gemm's order and against the single-token 8-row kernel ({@link Q4_0RowGroups#dot8}), on blocks that push
 * the 16-bit sums to their limits, misaligned rows, token counts that leave tails, and row ranges split across
 * threads anywhere (so a chunk's last group overhangs it).
 */
class Q4_0PromptTileProperties {
    private static final Parallel SERIAL = new Parallel(1);
    private static final Parallel POOL = new Parallel(3);

    @AfterContainer
    static void closePools() {
        SERIAL.close();
        POOL.close();
    }

    @Provide
    Arbitrary<VectorWidth> wideWidths() {
        return Arbitraries.of(VectorWidth.W256, VectorWidth.W512);
    }

    /**
     * Whole prompts through {@link WeightMatrix#matmul}: every (row, token) equals the scalar kernel (the repacked
     * order for 8k rows, ggml's vec_dot order otherwise) and the single-token product of the same row.
     */
    @Property(tries = 200)
    void promptGivesTheScalarAndDecodeBits(@ForAll("wideWidths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 5) int groups, @ForAll boolean wholeGroups,
            @ForAll @IntRange(min = 1, max = 20) int blocks, @ForAll @IntRange(min = 1, max = 13) int tokens,
            @ForAll @IntRange(min = 0, max = 3) int nibbleMode, @ForAll @IntRange(min = 0, max = 2) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = wholeGroups ? 8 * groups : 8 * groups - 1 - rnd.nextInt(7);
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.q4_0Tensor(rows, cols, nibbleMode, misalign, rnd, arena);
            long[] dims = {cols, rows};
            WeightMatrix simd = WeightMatrix.of("w", GgmlType.Q4_0, dims, t, width);
            WeightMatrix scalar = WeightMatrix.of("w", GgmlType.Q4_0, dims, t, VectorWidth.SCALAR);
            assertEquals(!wholeGroups, simd.readsPermutedInput(tokens),
                    "only matrices outside the row groups read the permuted input");
            float[] x = new float[tokens * cols];
            for (int k = 0; k < tokens; k++) {
                System.arraycopy(TestTensors.q8Input(cols, inputMode, rnd), 0, x, k * cols, cols);
            }
            float[] expected = new float[tokens * rows];
            float[] actual = new float[tokens * rows];
            scalar.matmul(x, tokens, expected, SERIAL);
            simd.matmul(x, tokens, actual, threaded ? POOL : SERIAL);
            float[] single = new float[rows];
            for (int k = 0; k < tokens; k++) {
                simd.matvec(x, k * cols, single, 0, threaded ? POOL : SERIAL);
                for (int r = 0; r < rows; r++) {
                    int i = k * rows + r;
                    String where = width + " row " + r + " of " + rows + ", token " + k + " of " + tokens + ", "
                            + cols + " columns";
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                            where + ": scalar " + expected[i] + " prompt " + actual[i]);
                    assertEquals(Float.floatToRawIntBits(single[r]), Float.floatToRawIntBits(actual[i]),
                            where + ": decode " + single[r] + " prompt " + actual[i]);
                }
            }
        }
    }

    /**
     * The tile itself, at an arbitrary first row of a misaligned tensor and any output stride, against {@link
     * Q4_0RowGroups#dot8} per token, and against the scalar kernel wherever the input quants stay within the
     * quantiser's range. Input mode 3 writes -128 quants, which ggml's quantiser never makes ({@code |x| * 127 /
     * amax <= 127}) and which can push a block past the 16-bit range the sums rely on: there the tile must still be
     * dot8 lane for lane.
     */
    @Property(tries = 250)
    void tileIsEightRowDecodeForEveryToken(@ForAll @IntRange(min = 1, max = 4) int groups,
            @ForAll @IntRange(min = 1, max = 20) int blocks,
            @ForAll @IntRange(min = 1, max = Q4_0RowGroups.MAX_TOKENS) int tokens,
            @ForAll @IntRange(min = 0, max = 3) int nibbleMode, @ForAll @IntRange(min = 0, max = 3) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 8 * groups;
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.q4_0Tensor(rows, cols, nibbleMode, misalign, rnd, arena);
            WeightMatrix scalar = WeightMatrix.of("w", GgmlType.Q4_0, new long[] {cols, rows}, t, VectorWidth.SCALAR);
            // a leading token the tile skips, so token and block offsets are not zero
            int allTokens = tokens + 1;
            float[] x = new float[allTokens * cols];
            for (int k = 0; k < allTokens; k++) {
                System.arraycopy(TestTensors.q8Input(cols, Math.min(inputMode, 2), rnd), 0, x, k * cols, cols);
            }
            QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_0);
            in.quantize(x, 0, allTokens, cols);
            boolean quantiserRange = inputMode != 3;
            if (!quantiserRange) {
                for (int i = 0; i < allTokens * cols; i++) {
                    in.qs[i] = (short) (rnd.nextBoolean() ? -128 : 127);
                }
            }
            in.prepareBlockSums();
            long rowBytes = GgmlType.Q4_0.byteSize(cols);
            int firstRow = rnd.nextInt(rows - 7);
            int outStride = 8 + rnd.nextInt(5);
            float[] tiled = new float[tokens * outStride + 3];
            Arrays.fill(tiled, Float.NaN);
            Q4_0RowGroups.dotTokens(t, firstRow * rowBytes, rowBytes, blocks, tokens, in.qs, cols, in.d, in.blockSums,
                    blocks, new float[8], new float[8 * tokens], tiled, 3, outStride);
            float[] decoded = new float[8];
            for (int k = 0; k < tokens; k++) {
                int token = 1 + k;
                Q4_0RowGroups.dot8(t, firstRow * rowBytes, rowBytes, blocks, in.qs, token * cols, in.d,
                        in.blockSums, token * blocks, new float[8], decoded, 0);
                for (int i = 0; i < 8; i++) {
                    float tile = tiled[3 + k * outStride + i];
                    String where = "row " + (firstRow + i) + " token " + k + " of " + tokens + ", " + cols
                            + " columns";
                    assertEquals(Float.floatToRawIntBits(decoded[i]), Float.floatToRawIntBits(tile),
                            where + ": dot8 " + decoded[i] + " tile " + tile);
                    if (quantiserRange) {
                        float s = scalar.scalarDot(firstRow + i, in, token);
                        assertEquals(Float.floatToRawIntBits(s), Float.floatToRawIntBits(tile),
                                where + ": scalar " + s + " tile " + tile);
                    }
                }
                for (int i = 8; i < outStride && k + 1 < tokens; i++) {
                    assertTrue(Float.isNaN(tiled[3 + k * outStride + i]), "wrote between tokens' outputs");
                }
            }
            assertTrue(Float.isNaN(tiled[0]) && Float.isNaN(tiled[1]) && Float.isNaN(tiled[2]),
                    "wrote before the first output");
        }
    }

    /** At 128 bits the float-lane kernels still run, and they are the ones that read the permuted input. */
    @Property(tries = 5)
    void narrowWidthKeepsThePermutedInput(@ForAll @IntRange(min = 1, max = 4) int groups) {
        MemorySegment t = MemorySegment.ofArray(new byte[8 * groups * 18]);
        WeightMatrix narrow = WeightMatrix.of("w", GgmlType.Q4_0, new long[] {32, 8 * groups}, t, VectorWidth.W128);
        WeightMatrix wide = WeightMatrix.of("w", GgmlType.Q4_0, new long[] {32, 8 * groups}, t, VectorWidth.W256);
        assertTrue(narrow.readsPermutedInput(4));
        assertFalse(wide.readsPermutedInput(4));
        assertTrue(wide.readsBlockSums());
    }

}
