package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * The Q4_1 row groups ({@link Q4_1RowGroups}): the eight- and sixteen-row kernels bit for bit against the scalar
 * transcription of ggml's {@code ggml_vec_dot_q4_1_q8_1} on blocks at the ends of the 16-bit range, misaligned tensors
 * and any token of a prompt; the sixteen-row prompt tile against the single-token kernel per token; the copies
 * ({@link RowGroupLayout} with two fp16 fields per block) byte for byte against the GGUF layout; and whole matmuls
 * through {@link WeightMatrix}, which on a CPU with 512-bit vectors run every token through the groups (prompts of 16k
 * rows through the tile).
 */
class Q4_1RowGroupProperties {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Parallel SERIAL = new Parallel(1);
    private static final Parallel POOL = new Parallel(3);

    @AfterContainer
    static void closePools() {
        SERIAL.close();
        POOL.close();
    }

    /**
     * Q4_1 blocks with random fp16 d and m; nibbles random (mode 0), all 15 (1), all 0 (2), or each block all 0 or
     * all 15 at random (3): with inputs of +-127 (or -128) the largest quads the 16-bit sums hold.
     */
    static MemorySegment q4_1Tensor(int rows, int cols, int nibbleMode, int misalign, Random rnd, Arena arena) {
        long bytes = (long) rows * cols / 32 * Q4_1RowGroups.BLOCK;
        MemorySegment whole = arena.allocate(bytes + misalign + 64, 64);
        MemorySegment t = whole.asSlice(misalign, bytes);
        for (long bo = 0; bo < bytes; bo += Q4_1RowGroups.BLOCK) {
            t.set(HALF, bo, TestTensors.finiteHalf(rnd));
            t.set(HALF, bo + 2, TestTensors.finiteHalf(rnd));
            TestTensors.fillNibbles(t, bo + 4, nibbleMode, rnd);
        }
        return t;
    }

    /**
     * Input mode 3 sets every quant of the Q8_1 input to -128, which ggml's quantiser never writes but which bounds
     * the 16-bit quads ({@code 4 * 15 * 128}); the others are {@link TestTensors#q8Input}'s.
     */
    private static QuantizedInput input(int tokens, int cols, int inputMode, Random rnd) {
        float[] x = TestTensors.q8Inputs(tokens, cols, Math.min(inputMode, 2), rnd);
        QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_1);
        in.quantize(x, 0, tokens, cols);
        if (inputMode == 3) {
            Arrays.fill(in.qs, 0, tokens * cols, (short) -128);
        }
        return in;
    }

    /**
     * {@link Q4_1RowGroups#dot8} and the sixteen-row {@link Q4_1RowGroups#dot16} against the scalar kernel, bit for
     * bit, for any token of a prompt, and writing nothing outside their rows.
     */
    @Property(tries = 300)
    void groupKernelsAreTheScalarKernel(@ForAll @IntRange(min = 1, max = 4) int groups,
            @ForAll @IntRange(min = 1, max = 40) int blocks, @ForAll @IntRange(min = 1, max = 5) int tokens,
            @ForAll @IntRange(min = 0, max = 3) int nibbleMode, @ForAll @IntRange(min = 0, max = 3) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll boolean sixteen, @ForAll long seed) {
        Random rnd = new Random(seed);
        int groupRows = sixteen ? Q4_1RowGroups.ROWS16 : Q4_1RowGroups.ROWS;
        int rows = groupRows * groups;
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q4_1Tensor(rows, cols, nibbleMode, misalign, rnd, arena);
            long rowBytes = GgmlType.Q4_1.byteSize(cols);
            QuantizedInput in = input(tokens, cols, inputMode, rnd);
            int token = rnd.nextInt(tokens);
            int group = rnd.nextInt(groups);
            float[] out = new float[groupRows + 6];
            Arrays.fill(out, Float.NaN);
            long at = (long) groupRows * group * rowBytes;
            if (sixteen) {
                in.prepareQ8Pairs();
                Q4_1RowGroups.dot16(Q4_1RowGroups.pack16(t, rows, blocks), at, blocks, in.q8Pairs,
                        token * blocks * Q8_0RowGroups.PAIRS, in.d, in.s, token * blocks, out, 3);
            } else {
                Q4_1RowGroups.dot8(Q4_1RowGroups.pack(t, rows, blocks), at, blocks, in.qs, token * cols, in.d, in.s,
                        token * blocks, out, 3);
            }
            for (int k = 0; k < groupRows; k++) {
                int r = groupRows * group + k;
                float expected = LegacyQuantKernels.scalarDot(LegacyQuantKernels.Layout.Q4_1, t, r * rowBytes, blocks,
                        in, token, false);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[3 + k]),
                        "row " + r + " of " + rows + ", token " + token + ", " + cols + " columns: scalar " + expected
                                + " groups " + out[3 + k]);
            }
            assertTrue(Float.isNaN(out[0]) && Float.isNaN(out[groupRows + 3]), "wrote outside the group's rows");
        }
    }

    /**
     * The sixteen-row prompt tile ({@link Q4_1RowGroups#dotTokens16}) at any group of a misaligned tensor, with token
     * and block offsets that are not zero and any output stride, against the single-token kernel
     * ({@link Q4_1RowGroups#dot16}) per token lane for lane and both against the scalar kernel, with nibbles, scales
     * and inputs at the ends of their ranges; and the tile writes nothing outside its sixteen rows per token.
     */
    @Property(tries = 250)
    void sixteenRowTileIsSixteenRowDecodeForEveryToken(@ForAll @IntRange(min = 1, max = 3) int groups,
            @ForAll @IntRange(min = 1, max = 30) int blocks,
            @ForAll @IntRange(min = 1, max = RowGroupLayout.TILE_TOKENS) int tokens,
            @ForAll @IntRange(min = 0, max = 3) int nibbleMode, @ForAll @IntRange(min = 0, max = 3) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = Q4_1RowGroups.ROWS16 * groups;
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q4_1Tensor(rows, cols, nibbleMode, misalign, rnd, arena);
            long rowBytes = GgmlType.Q4_1.byteSize(cols);
            // one token more than the tile takes: the tile starts at token 1
            QuantizedInput in = input(tokens + 1, cols, inputMode, rnd);
            in.prepareQ8Pairs();
            MemorySegment packed = Q4_1RowGroups.pack16(t, rows, blocks);
            int firstRow = Q4_1RowGroups.ROWS16 * rnd.nextInt(groups);
            int outStride = Q4_1RowGroups.ROWS16 + rnd.nextInt(5);
            float[] tiled = new float[tokens * outStride + 3];
            Arrays.fill(tiled, Float.NaN);
            float[] scratch = new float[Q4_1RowGroups.TILE_FLOATS16 * tokens];
            Arrays.fill(scratch, Float.NaN);
            Q4_1RowGroups.dotTokens16(packed, firstRow * rowBytes, blocks, tokens, in.q8Pairs,
                    blocks * Q8_0RowGroups.PAIRS, in.d, in.s, blocks, scratch, tiled, 3, outStride);
            float[] decoded = new float[Q4_1RowGroups.ROWS16];
            for (int k = 0; k < tokens; k++) {
                int token = 1 + k;
                Q4_1RowGroups.dot16(packed, firstRow * rowBytes, blocks, in.q8Pairs,
                        token * blocks * Q8_0RowGroups.PAIRS, in.d, in.s, token * blocks, decoded, 0);
                for (int i = 0; i < Q4_1RowGroups.ROWS16; i++) {
                    int r = firstRow + i;
                    float tile = tiled[3 + k * outStride + i];
                    String where = "row " + r + " token " + k + " of " + tokens + ", " + cols + " columns";
                    assertEquals(Float.floatToRawIntBits(decoded[i]), Float.floatToRawIntBits(tile),
                            where + ": dot16 " + decoded[i] + " tile " + tile);
                    float s = LegacyQuantKernels.scalarDot(LegacyQuantKernels.Layout.Q4_1, t, r * rowBytes, blocks,
                            in, token, false);
                    assertEquals(Float.floatToRawIntBits(s), Float.floatToRawIntBits(decoded[i]),
                            where + ": scalar " + s + " dot16 " + decoded[i]);
                }
                for (int i = Q4_1RowGroups.ROWS16; i < outStride && k + 1 < tokens; i++) {
                    assertTrue(Float.isNaN(tiled[3 + k * outStride + i]), "wrote between tokens' outputs");
                }
            }
            assertTrue(Float.isNaN(tiled[0]) && Float.isNaN(tiled[1]) && Float.isNaN(tiled[2]),
                    "wrote before the first output");
        }
    }

    /** Every byte of the copy where {@link RowGroupLayout} says, in the eight-row and the sixteen-row layout. */
    @Property(tries = 100)
    void copyPlacesEveryByte(@ForAll @IntRange(min = 1, max = 4) int groups,
            @ForAll @IntRange(min = 1, max = 12) int blocks, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll boolean sixteen, @ForAll long seed) {
        Random rnd = new Random(seed);
        int groupRows = sixteen ? Q4_1RowGroups.ROWS16 : Q4_1RowGroups.ROWS;
        int rows = groupRows * groups;
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q4_1Tensor(rows, cols, 0, misalign, rnd, arena);
            int rowBytes = Math.toIntExact(GgmlType.Q4_1.byteSize(cols));
            MemorySegment packed = sixteen ? Q4_1RowGroups.pack16(t, rows, blocks) : Q4_1RowGroups.pack(t, rows,
                    blocks);
            for (int r = 0; r < rows; r++) {
                long group = (long) (r / groupRows) * groupRows * rowBytes;
                int k = r % groupRows;
                for (int b = 0; b < blocks; b++) {
                    long from = (long) r * rowBytes + 20L * b;
                    long to = group + 20L * groupRows * b;
                    assertEquals(t.get(HALF, from), packed.get(HALF, to + 2L * k), "d of row " + r + " block " + b);
                    assertEquals(t.get(HALF, from + 2), packed.get(HALF, to + 2L * groupRows + 2L * k),
                            "m of row " + r + " block " + b);
                    for (int j = 0; j < 16; j++) {
                        // eight rows: chunk j / 4, quarter j % 4; sixteen: chunk j / 2, row k's bytes at 2k
                        long at = sixteen ? to + 64 + 32L * (j / 2) + 2L * k + j % 2
                                : to + 32 + 32L * (j / 4) + 8L * (j % 4) + k;
                        assertEquals(t.get(ValueLayout.JAVA_BYTE, from + 4 + j), packed.get(ValueLayout.JAVA_BYTE, at),
                                "quant byte " + j + " of row " + r + " block " + b + (sixteen ? " (16 rows)" : ""));
                    }
                }
            }
        }
    }

    /** An infinite or NaN d or m anywhere leaves the matrix unpacked (the kernels' widening needs finite halves). */
    @Property(tries = 40)
    void nonFiniteHalfLeavesTheMatrixUnpacked(@ForAll @IntRange(min = 1, max = 3) int groups,
            @ForAll @IntRange(min = 1, max = 6) int blocks, @ForAll boolean minField, @ForAll boolean nan,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 8 * groups;
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q4_1Tensor(rows, cols, 0, 0, rnd, arena);
            long block = rnd.nextLong((long) rows * blocks);
            short bad = (short) ((nan ? 0x7E00 : 0x7C00) | (rnd.nextBoolean() ? 0x8000 : 0));
            t.set(HALF, block * 20 + (minField ? 2 : 0), bad);
            assertNull(Q4_1RowGroups.pack(t, rows, blocks), "packed despite a non-finite half in block " + block);
            if (rows % Q4_1RowGroups.ROWS16 == 0) {
                assertNull(Q4_1RowGroups.pack16(t, rows, blocks), "16 rows despite a non-finite half in " + block);
            }
        }
    }

    /**
     * Whole matmuls and single-token matvecs at every width this machine runs (with AVX-512, the row groups, with
     * threaded chunks and a row range that cut groups anywhere), against the scalar kernel bit for bit; row counts
     * that are not a multiple of 8 stay row-wise.
     */
    @Property(tries = 150)
    void matmulGivesTheScalarBits(@ForAll @IntRange(min = 1, max = 5) int groups, @ForAll boolean wholeGroups,
            @ForAll @IntRange(min = 1, max = 30) int blocks, @ForAll @IntRange(min = 1, max = 11) int tokens,
            @ForAll @IntRange(min = 0, max = 3) int nibbleMode, @ForAll @IntRange(min = 0, max = 2) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = wholeGroups ? 8 * groups : 8 * groups - 1 - rnd.nextInt(7);
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q4_1Tensor(rows, cols, nibbleMode, misalign, rnd, arena);
            float[] x = TestTensors.q8Inputs(tokens, cols, inputMode, rnd);
            TestTensors.assertGroupMatmulsGiveTheScalarBits(GgmlType.Q4_1, rows, cols, t, x, tokens, tokens, rnd,
                    SERIAL, threaded ? POOL : SERIAL);
        }
    }
}
