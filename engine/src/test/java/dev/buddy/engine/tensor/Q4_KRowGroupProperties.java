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
 * The Q4_K row groups ({@link Q4_KRowGroups}): the eight-row kernel bit for bit against the scalar transcription of
 * ggml's {@code ggml_vec_dot_q4_K_q8_K} at the ends of the 16-bit range, on misaligned tensors and for any token; the
 * copy field by field against the GGUF layout; the prompt tile against the kernel and the scalar transcription; and
 * whole matmuls through {@link WeightMatrix}, which on a CPU with 512-bit vectors run through the groups.
 */
class Q4_KRowGroupProperties {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int BLOCK = 144;
    private static final Parallel SERIAL = new Parallel(1);
    private static final Parallel POOL = new Parallel(3);

    @AfterContainer
    static void closePools() {
        SERIAL.close();
        POOL.close();
    }

    /**
     * Q4_K super-blocks with random bytes and finite fp16 d and dmin (now and then subnormal or zero); mode 1 sets
     * every quant nibble and 6-bit scale and min to its largest value (15, 63), mode 2 does so for a random half of
     * the super-blocks and zeroes the quants of the rest: with inputs of -128 the largest sums the 16-bit lanes hold.
     */
    static MemorySegment q4_KTensor(int rows, int cols, int mode, int misalign, Random rnd, Arena arena) {
        MemorySegment t = TestTensors.randomTensor(GgmlType.Q4_K, rows, cols, misalign, rnd, arena);
        for (long bo = 0; bo < t.byteSize(); bo += BLOCK) {
            t.set(HALF, bo, TestTensors.finiteHalf(rnd));
            t.set(HALF, bo + 2, TestTensors.finiteHalf(rnd));
            boolean full = mode == 1 || (mode == 2 && rnd.nextBoolean());
            if (full) {
                t.asSlice(bo + 4, 140).fill((byte) 0xFF);
            } else if (mode == 2) {
                t.asSlice(bo + 16, 128).fill((byte) 0);
            }
        }
        return t;
    }

    /**
     * A Q8_K input of {@code tokens} tokens; mode 3 sets every quant to -128 (and the 16-quant sums to match), which
     * ggml's quantiser never writes but which bounds the 16-bit sums ({@code 4 * 15 * 128}).
     */
    private static QuantizedInput input(int tokens, int cols, int inputMode, Random rnd) {
        float[] x = TestTensors.q8Inputs(tokens, cols, Math.min(inputMode, 2), rnd);
        QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_K);
        in.quantize(x, 0, tokens, cols);
        if (inputMode == 3) {
            Arrays.fill(in.qs, 0, tokens * cols, (short) -128);
            Arrays.fill(in.bsums, 0, tokens * cols / 16, -16 * 128);
        }
        in.prepareQ4KGroups();
        return in;
    }

    private static Q4_KMatrix matrix(MemorySegment t, int rows, int cols, VectorWidth width) {
        return (Q4_KMatrix) WeightMatrix.of("w", GgmlType.Q4_K, new long[] {cols, rows}, t, width);
    }

    /** {@link Q4_KRowGroups#dot8} against the scalar kernel, bit for bit, for any token of a short prompt. */
    @Property(tries = 250)
    void eightRowKernelIsTheScalarKernel(@ForAll @IntRange(min = 1, max = 3) int groups,
            @ForAll @IntRange(min = 1, max = 8) int blocks, @ForAll @IntRange(min = 1, max = 3) int tokens,
            @ForAll @IntRange(min = 0, max = 2) int mode, @ForAll @IntRange(min = 0, max = 3) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 8 * groups;
        int cols = 256 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q4_KTensor(rows, cols, mode, misalign, rnd, arena);
            Q4_KMatrix scalar = matrix(t, rows, cols, VectorWidth.SCALAR);
            MemorySegment packed = Q4_KRowGroups.pack(t, rows, blocks);
            QuantizedInput in = input(tokens, cols, inputMode, rnd);
            int token = rnd.nextInt(tokens);
            int group = rnd.nextInt(groups);
            float[] out = new float[8 + 3];
            Arrays.fill(out, Float.NaN);
            Q4_KRowGroups.dot8(packed, (long) group * blocks * Q4_KRowGroups.GROUP_BLOCK, blocks, in.q4kSpread,
                    token * blocks * Q4_KRowGroups.SPREAD, in.d, token * blocks, in.q4kMinSums,
                    token * blocks * Q4_KRowGroups.MIN_SUMS, out, 3);
            for (int k = 0; k < 8; k++) {
                int r = 8 * group + k;
                float expected = scalar.scalarDot(r, in, token);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[3 + k]),
                        "row " + r + " of " + rows + ", token " + token + ", " + cols + " columns: scalar " + expected
                                + " groups " + out[3 + k]);
            }
            assertEquals(Float.NaN, out[0]);
            assertEquals(Float.NaN, out[2]);
        }
    }

    /** d, dmin, every 6-bit scale and min, and every quant byte of the copy where the layout says. */
    @Property(tries = 60)
    void copyPlacesEveryField(@ForAll @IntRange(min = 1, max = 3) int groups,
            @ForAll @IntRange(min = 1, max = 4) int blocks, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 8 * groups;
        int cols = 256 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q4_KTensor(rows, cols, 0, misalign, rnd, arena);
            MemorySegment packed = Q4_KRowGroups.pack(t, rows, blocks);
            byte[] file = t.toArray(ValueLayout.JAVA_BYTE);
            for (int r = 0; r < rows; r++) {
                int k = r % 8;
                for (int b = 0; b < blocks; b++) {
                    int from = (r * blocks + b) * BLOCK;
                    long bb = ((long) (r / 8) * blocks + b) * Q4_KRowGroups.GROUP_BLOCK;
                    assertEquals(t.get(HALF, from), packed.get(HALF, bb + 2L * k), "d of row " + r + " block " + b);
                    assertEquals(t.get(HALF, from + 2), packed.get(HALF, bb + 16 + 2L * k), "dmin of row " + r);
                    for (int c = 0; c < 8; c++) {
                        // get_scale_min_k4, written out from ggml-quants.c
                        int s;
                        int m;
                        if (c < 4) {
                            s = file[from + 4 + c] & 63;
                            m = file[from + 8 + c] & 63;
                        } else {
                            s = (file[from + 12 + c - 4] & 0xF) | (((file[from + 4 + c - 4] & 0xFF) >> 6) << 4);
                            m = ((file[from + 12 + c - 4] & 0xFF) >> 4) | (((file[from + 8 + c - 4] & 0xFF) >> 6) << 4);
                        }
                        assertEquals(s, Q4_KRowGroups.scaleOrMin(packed, bb, 0, c, k), "scale " + c + " of row " + r);
                        assertEquals(m, Q4_KRowGroups.scaleOrMin(packed, bb, 1, c, k), "min " + c + " of row " + r);
                    }
                    for (int i = 0; i < 128; i++) {
                        assertEquals(file[from + 16 + i] & 0xFF,
                                Q4_KRowGroups.quant(packed, bb, k, i / 32, (i % 32) / 4, i % 4),
                                "quant byte " + i + " of row " + r + " block " + b);
                    }
                }
            }
        }
    }

    /** An infinite or NaN d or dmin anywhere leaves the matrix unpacked (the kernel's widening needs finite halves). */
    @Property(tries = 30)
    void nonFiniteHalfLeavesTheMatrixUnpacked(@ForAll @IntRange(min = 1, max = 3) int groups,
            @ForAll @IntRange(min = 1, max = 3) int blocks, @ForAll boolean minField, @ForAll boolean nan,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 8 * groups;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q4_KTensor(rows, 256 * blocks, 0, 0, rnd, arena);
            long block = rnd.nextLong((long) rows * blocks);
            short bad = (short) ((nan ? 0x7E00 : 0x7C00) | (rnd.nextBoolean() ? 0x8000 : 0));
            t.set(HALF, block * BLOCK + (minField ? 2 : 0), bad);
            assertNull(Q4_KRowGroups.pack(t, rows, blocks), "packed despite a non-finite half in block " + block);
        }
    }

    /**
     * The prompt tile ({@link Q4_KRowGroups#dotTokens8}) at any group of a misaligned tensor, with token and
     * super-block offsets that are not zero and any output stride, against the single-token kernel
     * ({@link Q4_KRowGroups#dot8}) per token lane for lane and against the scalar kernel, at the ends of the 16-bit
     * range; and it writes nothing outside its eight rows per token.
     */
    @Property(tries = 150)
    void tileIsTheEightRowKernelForEveryToken(@ForAll @IntRange(min = 1, max = 3) int groups,
            @ForAll @IntRange(min = 1, max = 5) int blocks,
            @ForAll @IntRange(min = 1, max = Q4_KRowGroups.MAX_TOKENS) int tokens,
            @ForAll @IntRange(min = 0, max = 2) int mode, @ForAll @IntRange(min = 0, max = 3) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 8 * groups;
        int cols = 256 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q4_KTensor(rows, cols, mode, misalign, rnd, arena);
            Q4_KMatrix scalar = matrix(t, rows, cols, VectorWidth.SCALAR);
            MemorySegment packed = Q4_KRowGroups.pack(t, rows, blocks);
            // a leading token the tile skips, so that every offset is past zero
            QuantizedInput in = input(tokens + 1, cols, inputMode, rnd);
            long group = (long) rnd.nextInt(groups) * blocks * Q4_KRowGroups.GROUP_BLOCK;
            int outStride = 8 + rnd.nextInt(5);
            float[] tiled = new float[tokens * outStride + 3];
            Arrays.fill(tiled, Float.NaN);
            Q4_KRowGroups.dotTokens8(packed, group, blocks, tokens, in.q4kSpread, blocks * Q4_KRowGroups.SPREAD, in.d,
                    blocks, in.q4kMinSums, blocks * Q4_KRowGroups.MIN_SUMS,
                    new float[Q4_KRowGroups.TILE_FLOATS * tokens], tiled, 3, outStride);
            float[] decoded = new float[8];
            int firstRow = (int) (group / ((long) blocks * Q4_KRowGroups.GROUP_BLOCK)) * 8;
            for (int k = 0; k < tokens; k++) {
                int token = k + 1;
                Q4_KRowGroups.dot8(packed, group, blocks, in.q4kSpread, token * blocks * Q4_KRowGroups.SPREAD, in.d,
                        token * blocks, in.q4kMinSums, token * blocks * Q4_KRowGroups.MIN_SUMS, decoded, 0);
                for (int i = 0; i < 8; i++) {
                    float tile = tiled[3 + k * outStride + i];
                    float expected = scalar.scalarDot(firstRow + i, in, token);
                    String where = "row " + (firstRow + i) + " token " + k + " of " + tokens + ", " + cols + " columns";
                    assertEquals(Float.floatToRawIntBits(decoded[i]), Float.floatToRawIntBits(tile),
                            where + ": dot8 " + decoded[i] + " tile " + tile);
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(tile),
                            where + ": scalar " + expected + " tile " + tile);
                }
                for (int i = 8; i < outStride && k + 1 < tokens; i++) {
                    assertTrue(Float.isNaN(tiled[3 + k * outStride + i]), "wrote between tokens' outputs");
                }
            }
            assertTrue(Float.isNaN(tiled[0]) && Float.isNaN(tiled[2]), "wrote before the first output");
        }
    }

    /**
     * Whole matmuls (one token through the groups' kernel, more through the prompt tile) at every width this machine
     * runs, threaded, and a row range that cuts groups, against the scalar kernel bit for bit; row counts that are
     * not a multiple of 8 stay in the file layout.
     */
    @Property(tries = 60)
    void matmulGivesTheScalarBits(@ForAll @IntRange(min = 1, max = 4) int groups, @ForAll boolean wholeGroups,
            @ForAll @IntRange(min = 1, max = 6) int blocks, @ForAll @IntRange(min = 1, max = 9) int tokens,
            @ForAll @IntRange(min = 0, max = 2) int mode, @ForAll @IntRange(min = 0, max = 2) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = wholeGroups ? 8 * groups : 8 * groups - 1 - rnd.nextInt(7);
        int cols = 256 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q4_KTensor(rows, cols, mode, misalign, rnd, arena);
            float[] x = TestTensors.q8Inputs(tokens, cols, inputMode, rnd);
            TestTensors.assertGroupMatmulsGiveTheScalarBits(GgmlType.Q4_K, rows, cols, t, x, tokens, tokens, rnd,
                    SERIAL, threaded ? POOL : SERIAL);
        }
    }
}
