package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * The multi-token Q4_0 prompt tiles ({@link Q4_0RowGroups#dotTokens}, and at 512 bits the sixteen-row {@link
 * Q4_0RowGroups#dotTokens16}), bit for bit against the scalar kernel in the repacked gemm's order and against the
 * single-token kernels ({@link Q4_0RowGroups#dot8}, {@link Q4_0RowGroups#dot16}), on
 * blocks that push the 16-bit sums to their limits, misaligned tensors, token counts that leave tails, and row ranges
 * split across threads anywhere (so a chunk starts or ends inside a group); and the row-group copy the two read ({@link
 * Q4_0RowGroups#pack}, {@link Q4_0RowGroups#scales}) against the GGUF layout and {@link Float#float16ToFloat}.
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
            float[] x = TestTensors.q8Inputs(tokens, cols, inputMode, rnd);
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
            QuantizedInput in = promptInput(tokens, cols, inputMode, rnd);
            boolean quantiserRange = inputMode != 3;
            long rowBytes = GgmlType.Q4_0.byteSize(cols);
            MemorySegment packed = Q4_0RowGroups.pack(t, rows, blocks);
            int firstRow = 8 * rnd.nextInt(groups);
            int outStride = 8 + rnd.nextInt(5);
            float[] tiled = new float[tokens * outStride + 3];
            Arrays.fill(tiled, Float.NaN);
            Q4_0RowGroups.dotTokens(packed, firstRow * rowBytes, blocks, tokens, in.qs, cols, in.d, in.blockSums,
                    blocks, new float[8 * tokens], tiled, 3, outStride);
            float[] decoded = new float[8];
            for (int k = 0; k < tokens; k++) {
                int token = 1 + k;
                Q4_0RowGroups.dot8(packed, firstRow * rowBytes, blocks, in.qs, token * cols, in.d, in.blockSums,
                        token * blocks, decoded, 0);
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

    /**
     * Q8_0 input of {@code tokens} tokens after a leading one that the tiles skip (so token and block offsets are not
     * zero), with block sums; input mode 3 overwrites the quants with -128 and 127, which ggml's quantiser never makes.
     */
    private static QuantizedInput promptInput(int tokens, int cols, int inputMode, Random rnd) {
        int allTokens = tokens + 1;
        float[] x = TestTensors.q8Inputs(allTokens, cols, Math.min(inputMode, 2), rnd);
        QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_0);
        in.quantize(x, 0, allTokens, cols);
        if (inputMode == 3) {
            for (int i = 0; i < allTokens * cols; i++) {
                in.qs[i] = (short) (rnd.nextBoolean() ? -128 : 127);
            }
        }
        in.prepareBlockSums();
        return in;
    }

    /**
     * The sixteen-row groups of the 512-bit kernels: the prompt tile ({@link Q4_0RowGroups#dotTokens16}) at any group
     * of a misaligned tensor, token and block offsets that are not zero and any output stride, against the
     * single-token kernel ({@link Q4_0RowGroups#dot16}) per token lane for lane, and both against the scalar kernel
     * wherever the input quants stay within the quantiser's range (input mode 3 writes -128 quants, where the 16-bit
     * sums may wrap and the two kernels must still agree); and the tile writes nothing outside its sixteen rows per
     * token.
     */
    @Property(tries = 250)
    void sixteenRowTileIsSixteenRowDecodeForEveryToken(@ForAll @IntRange(min = 1, max = 3) int groups,
            @ForAll @IntRange(min = 1, max = 20) int blocks,
            @ForAll @IntRange(min = 1, max = Q4_0RowGroups.MAX_TOKENS) int tokens,
            @ForAll @IntRange(min = 0, max = 3) int nibbleMode, @ForAll @IntRange(min = 0, max = 3) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 16 * groups;
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.q4_0Tensor(rows, cols, nibbleMode, misalign, rnd, arena);
            WeightMatrix scalar = WeightMatrix.of("w", GgmlType.Q4_0, new long[] {cols, rows}, t, VectorWidth.SCALAR);
            QuantizedInput in = promptInput(tokens, cols, inputMode, rnd);
            int[] pairs = new int[(tokens + 1) * blocks * Q4_0RowGroups.PAIRS];
            Q4_0RowGroups.pairs(in.qs, 0, (tokens + 1) * blocks, pairs, 0);
            boolean quantiserRange = inputMode != 3;
            long rowBytes = GgmlType.Q4_0.byteSize(cols);
            MemorySegment packed = Q4_0RowGroups.pack16(t, rows, blocks);
            int firstRow = 16 * rnd.nextInt(groups);
            int outStride = 16 + rnd.nextInt(5);
            float[] tiled = new float[tokens * outStride + 3];
            Arrays.fill(tiled, Float.NaN);
            Q4_0RowGroups.dotTokens16(packed, firstRow * rowBytes, blocks, tokens, pairs,
                    blocks * Q4_0RowGroups.PAIRS, in.d, in.blockSums, blocks, new float[16 * tokens], tiled, 3,
                    outStride);
            float[] decoded = new float[16];
            for (int k = 0; k < tokens; k++) {
                int token = 1 + k;
                Q4_0RowGroups.dot16(packed, firstRow * rowBytes, blocks, pairs, token * blocks * Q4_0RowGroups.PAIRS,
                        in.d, in.blockSums, token * blocks, decoded, 0);
                for (int i = 0; i < 16; i++) {
                    float tile = tiled[3 + k * outStride + i];
                    String where = "row " + (firstRow + i) + " token " + k + " of " + tokens + ", " + cols
                            + " columns";
                    assertEquals(Float.floatToRawIntBits(decoded[i]), Float.floatToRawIntBits(tile),
                            where + ": dot16 " + decoded[i] + " tile " + tile);
                    if (quantiserRange) {
                        float s = scalar.scalarDot(firstRow + i, in, token);
                        assertEquals(Float.floatToRawIntBits(s), Float.floatToRawIntBits(decoded[i]),
                                where + ": scalar " + s + " dot16 " + decoded[i]);
                    }
                }
                for (int i = 16; i < outStride && k + 1 < tokens; i++) {
                    assertTrue(Float.isNaN(tiled[3 + k * outStride + i]), "wrote between tokens' outputs");
                }
            }
            assertTrue(Float.isNaN(tiled[0]) && Float.isNaN(tiled[1]) && Float.isNaN(tiled[2]),
                    "wrote before the first output");
        }
    }

    /** The input pairs of the sixteen-row kernels hold what {@link Q4_0RowGroups#pairs} says, quant by quant. */
    @Property(tries = 50)
    void inputPairsHoldTheQuantsAndTheirHighNibbleForms(@ForAll @IntRange(min = 1, max = 6) int blocks,
            @ForAll @IntRange(min = 0, max = 3) int inputMode, @ForAll long seed) {
        Random rnd = new Random(seed);
        QuantizedInput in = promptInput(1, 32 * blocks, inputMode, rnd);
        int[] pairs = new int[2 * blocks * Q4_0RowGroups.PAIRS];
        Q4_0RowGroups.pairs(in.qs, 0, 2 * blocks, pairs, 0);
        for (int b = 0; b < 2 * blocks; b++) {
            for (int j = 0; j < 16; j++) {
                int pair = pairs[b * Q4_0RowGroups.PAIRS + j / 2];
                int highPair = pairs[b * Q4_0RowGroups.PAIRS + 8 + j / 2];
                short lo = in.qs[32 * b + j];
                short hi = in.qs[32 * b + 16 + j];
                assertEquals(lo, (short) (j % 2 == 0 ? pair : pair >> 16), "quant " + j + " of block " + b);
                assertEquals((short) (hi - 16 * lo), (short) (j % 2 == 0 ? highPair : highPair >> 16),
                        "high-nibble input " + j + " of block " + b);
            }
        }
    }

    /**
     * Every byte of the packed copy sits where {@link Q4_0RowGroups#pack} (or, for the 512-bit kernels,
     * {@link Q4_0RowGroups#pack16}) says, taken from its place in the file.
     */
    @Property(tries = 50)
    void packedCopyHoldsEveryScaleAndQuantInPlace(@ForAll @IntRange(min = 1, max = 6) int groups,
            @ForAll @IntRange(min = 1, max = 12) int blocks, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll boolean sixteen, @ForAll long seed) {
        Random rnd = new Random(seed);
        int groupRows = sixteen ? 16 : 8;
        int rows = groupRows * groups;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.q4_0Tensor(rows, 32 * blocks, 0, misalign, rnd, arena);
            MemorySegment packed = sixteen ? Q4_0RowGroups.pack16(t, rows, blocks) : Q4_0RowGroups.pack(t, rows,
                    blocks);
            long rowBytes = 18L * blocks;
            assertEquals(rows * rowBytes, packed.byteSize());
            for (int r = 0; r < rows; r++) {
                int l = r % groupRows;
                for (int b = 0; b < blocks; b++) {
                    long from = r * rowBytes + 18L * b;
                    long block = (long) (r / groupRows) * groupRows * rowBytes + (long) b * 18 * groupRows;
                    for (int i = 0; i < 2; i++) {
                        assertEquals(t.get(ValueLayout.JAVA_BYTE, from + i),
                                packed.get(ValueLayout.JAVA_BYTE, block + 2 * l + i), "scale of row " + r);
                    }
                    for (int j = 0; j < 16; j++) {
                        // sixteen rows: chunk j / 2 after the 32 bytes of scales, row l's two bytes at 2l
                        long at = sixteen ? block + 32 + 32 * (j / 2) + 2 * l + j % 2 : block + 16 + 16 * l + j;
                        assertEquals(t.get(ValueLayout.JAVA_BYTE, from + 2 + j), packed.get(ValueLayout.JAVA_BYTE, at),
                                "quant byte " + j + " of row " + r + ", block " + b + (sixteen ? " (16 rows)" : ""));
                    }
                }
            }
        }
    }

    /**
     * All four row-group kernels ({@link Q4_0RowGroups#dot8}, {@link Q4_0RowGroups#dotTokens} and the sixteen-row
     * {@link Q4_0RowGroups#dot16}, {@link Q4_0RowGroups#dotTokens16}) widen every finite fp16 scale (63,488 halves:
     * zeros of both signs, subnormals, normals) as {@link Float#float16ToFloat} does: one block whose integer sum is 1
     * (nibble 9 against a single input quant of 1, scale 1) leaves each row's scale itself as its result. Infinities
     * and NaNs are never packed (see {@link #nonFiniteScaleKeepsTheScalarBits}).
     */
    @Property(tries = 1)
    void kernelsWidenEveryFiniteScaleExactly() {
        MemorySegment rowMajor = MemorySegment.ofArray(new byte[Q4_0RowGroups.GROUP_BLOCK]);
        MemorySegment sixteen = MemorySegment.ofArray(new byte[Q4_0RowGroups.GROUP_BLOCK16]);
        short[] xq = new short[2 * 32];
        xq[0] = 1;
        xq[32] = 1;
        int[] xp = new int[2 * Q4_0RowGroups.PAIRS];
        Q4_0RowGroups.pairs(xq, 0, 2, xp, 0);
        float[] xd = {1f, 1f};
        int[] xsum = {1, 1};
        for (int k = 0; k < 8; k++) {
            rowMajor.set(ValueLayout.JAVA_BYTE, 16 + 16 * k, (byte) 9);
        }
        for (int l = 0; l < 16; l++) {
            sixteen.set(ValueLayout.JAVA_BYTE, Q4_0RowGroups.quantAt16(l, 0), (byte) 9);
        }
        float[][] results = new float[4][32];
        int checked = 0;
        for (int h = 0; h < 1 << 16; h += 16) {
            if ((h & 0x7c00) == 0x7c00) {
                continue;
            }
            for (int l = 0; l < 16; l++) {
                sixteen.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * l, (short) (h + l));
            }
            for (int half = 0; half < 2; half++) {
                for (int k = 0; k < 8; k++) {
                    rowMajor.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * k, (short) (h + 8 * half + k));
                }
                Q4_0RowGroups.dot8(rowMajor, 0, 1, xq, 0, xd, xsum, 0, results[0], 8 * half);
                Q4_0RowGroups.dotTokens(rowMajor, 0, 1, 2, xq, 0, xd, xsum, 0, new float[16], results[1], 8 * half,
                        16);
            }
            Q4_0RowGroups.dot16(sixteen, 0, 1, xp, 0, xd, xsum, 0, results[2], 0);
            Q4_0RowGroups.dotTokens16(sixteen, 0, 1, 2, xp, 0, xd, xsum, 0, new float[32], results[3], 0, 16);
            for (int l = 0; l < 16; l++) {
                // the kernels' one step, acc = fma(sum, d_w * d_x, 0), turns a -0 scale into +0 and nothing else
                float expected = Math.fma(1f, Float.float16ToFloat((short) (h + l)), 0f);
                float[] actual = {results[0][l], results[1][l], results[1][16 + l], results[2][l], results[3][l],
                        results[3][16 + l]};
                for (int i = 0; i < actual.length; i++) {
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual[i]),
                            String.format("half 0x%04x: %s, result %d %s", h + l, expected, i, actual[i]));
                }
                checked++;
            }
        }
        assertEquals(63_488, checked);
    }

    /**
     * A Q4_0 matrix with an infinite or NaN scale (which no quantiser writes) is packed in neither layout, and
     * still gives the scalar kernel's bits at every wide width, infinities and NaNs where the scalar kernel has them.
     */
    @Property(tries = 30)
    void nonFiniteScaleKeepsTheScalarBits(@ForAll("wideWidths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 3) int groups, @ForAll @IntRange(min = 1, max = 6) int blocks,
            @ForAll @IntRange(min = 1, max = 5) int tokens, @ForAll boolean nan, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 8 * groups;
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.q4_0Tensor(rows, cols, 0, 0, rnd, arena);
            long block = 18L * rnd.nextInt(rows * blocks);
            t.set(ValueLayout.JAVA_SHORT_UNALIGNED, block, (short) (nan ? 0x7e01 : 0xfc00));
            if (rows % 16 == 0) {
                assertNull(Q4_0RowGroups.pack16(t, rows, blocks), "sixteen-row groups with a non-finite scale");
            }
            assertNull(Q4_0RowGroups.pack(t, rows, blocks), "row groups for a matrix with a non-finite scale");
            long[] dims = {cols, rows};
            WeightMatrix simd = WeightMatrix.of("w", GgmlType.Q4_0, dims, t, width);
            WeightMatrix scalar = WeightMatrix.of("w", GgmlType.Q4_0, dims, t, VectorWidth.SCALAR);
            float[] x = TestTensors.q8Inputs(tokens, cols, 0, rnd);
            float[] expected = new float[tokens * rows];
            float[] actual = new float[tokens * rows];
            scalar.matmul(x, tokens, expected, SERIAL);
            simd.matmul(x, tokens, actual, SERIAL);
            for (int i = 0; i < expected.length; i++) {
                if (Float.isNaN(expected[i])) {
                    assertTrue(Float.isNaN(actual[i]), "output " + i + ": NaN expected, got " + actual[i]);
                } else {
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                            "output " + i + ": scalar " + expected[i] + ", " + width + " " + actual[i]);
                }
            }
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
