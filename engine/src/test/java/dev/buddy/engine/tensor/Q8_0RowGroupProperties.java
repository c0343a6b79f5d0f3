package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
 * The Q8_0 row groups ({@link Q8_0RowGroups}): the sixteen-row kernel bit for bit against the scalar transcription of
 * ggml's {@code ggml_vec_dot_q8_0_q8_0} ({@link Q8_0Matrix#scalarDot}) on quants at the ends of the int8 range, where
 * the 16-bit pair sums are fullest, subnormal and zero scales, misaligned tensors and any token of a prompt; the copy
 * byte for byte against the GGUF layout; the input pairs against the quants; and whole matmuls through
 * {@link WeightMatrix}, which on a CPU with 512-bit vectors run every token through the groups.
 */
class Q8_0RowGroupProperties {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Parallel SERIAL = new Parallel(1);
    private static final Parallel POOL = new Parallel(3);

    @AfterContainer
    static void closePools() {
        SERIAL.close();
        POOL.close();
    }

    /**
     * Q8_0 blocks with random finite fp16 d (subnormals and zeros included); quants random (mode 0), all -128 (1),
     * all 127 (2), or each block all -128 or all 127 at random (3): against inputs of +-127 the largest pair sums the
     * 16-bit lanes hold ({@code 2 * 128 * 127}).
     */
    static MemorySegment q8_0Tensor(int rows, int cols, int quantMode, int misalign, Random rnd, Arena arena) {
        long bytes = (long) rows * cols / 32 * Q8_0RowGroups.BLOCK;
        MemorySegment whole = arena.allocate(bytes + misalign + 64, 64);
        MemorySegment t = whole.asSlice(misalign, bytes);
        for (long bo = 0; bo < bytes; bo += Q8_0RowGroups.BLOCK) {
            t.set(HALF, bo, TestTensors.finiteHalf(rnd));
            int fill = switch (quantMode) {
                case 1 -> -128;
                case 2 -> 127;
                case 3 -> rnd.nextBoolean() ? -128 : 127;
                default -> Integer.MIN_VALUE;
            };
            for (int j = 0; j < 32; j++) {
                t.set(ValueLayout.JAVA_BYTE, bo + 2 + j, (byte) (fill == Integer.MIN_VALUE ? rnd.nextInt(256) : fill));
            }
        }
        return t;
    }

    private static QuantizedInput input(int tokens, int cols, int inputMode, Random rnd) {
        QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_0);
        in.quantize(TestTensors.q8Inputs(tokens, cols, inputMode, rnd), 0, tokens, cols);
        in.prepareQ8Pairs();
        return in;
    }

    /** {@link Q8_0RowGroups#dot16} against the scalar kernel, bit for bit, for any group and any token of a prompt. */
    @Property(tries = 300)
    void sixteenRowKernelIsTheScalarKernel(@ForAll @IntRange(min = 1, max = 3) int groups,
            @ForAll @IntRange(min = 1, max = 40) int blocks, @ForAll @IntRange(min = 1, max = 5) int tokens,
            @ForAll @IntRange(min = 0, max = 3) int quantMode, @ForAll @IntRange(min = 0, max = 2) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 16 * groups;
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q8_0Tensor(rows, cols, quantMode, misalign, rnd, arena);
            long rowBytes = GgmlType.Q8_0.byteSize(cols);
            Q8_0Matrix scalar = (Q8_0Matrix) WeightMatrix.of("w", GgmlType.Q8_0, new long[] {cols, rows}, t,
                    VectorWidth.SCALAR);
            float[] expected = new float[rows * tokens];
            QuantizedInput in = input(tokens, cols, inputMode, rnd);
            for (int k = 0; k < tokens; k++) {
                for (int r = 0; r < rows; r++) {
                    expected[k * rows + r] = scalar.scalarDot(r, in, k);
                }
            }
            MemorySegment packed = Q8_0RowGroups.pack(t, rows, blocks);
            int token = rnd.nextInt(tokens);
            int group = rnd.nextInt(groups);
            float[] out = new float[16 + 3];
            Arrays.fill(out, Float.NaN);
            Q8_0RowGroups.dot16(packed, 16L * group * rowBytes, blocks, in.q8Pairs, token * blocks * 16, in.d,
                    token * blocks, out, 3);
            for (int l = 0; l < 16; l++) {
                int r = 16 * group + l;
                float e = expected[token * rows + r];
                assertEquals(Float.floatToRawIntBits(e), Float.floatToRawIntBits(out[3 + l]),
                        "row " + r + " of " + rows + ", token " + token + ", " + cols + " columns: scalar " + e
                                + " groups " + out[3 + l]);
            }
            assertEquals(Float.NaN, out[0], "wrote before its outputs");
            assertEquals(Float.NaN, out[2], "wrote before its outputs");
        }
    }

    /** Every byte of the copy where {@link Q8_0RowGroups#quantAt} says, every d in its row's slot. */
    @Property(tries = 100)
    void copyPlacesEveryByte(@ForAll @IntRange(min = 1, max = 3) int groups,
            @ForAll @IntRange(min = 1, max = 12) int blocks, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 16 * groups;
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q8_0Tensor(rows, cols, 0, misalign, rnd, arena);
            int rowBytes = Math.toIntExact(GgmlType.Q8_0.byteSize(cols));
            MemorySegment packed = Q8_0RowGroups.pack(t, rows, blocks);
            assertEquals(t.byteSize(), packed.byteSize(), "the copy is the original's size");
            for (int r = 0; r < rows; r++) {
                long group = (long) (r / 16) * 16 * rowBytes;
                int l = r % 16;
                for (int b = 0; b < blocks; b++) {
                    long from = (long) r * rowBytes + 34L * b;
                    long to = group + 544L * b;
                    assertEquals(t.get(HALF, from), packed.get(HALF, to + 2L * l), "d of row " + r + " block " + b);
                    for (int j = 0; j < 32; j++) {
                        // unit j/2 of row l: chunk j/2, bytes 2l and 2l+1
                        assertEquals(t.get(ValueLayout.JAVA_BYTE, from + 2 + j),
                                packed.get(ValueLayout.JAVA_BYTE, to + 32 + 32L * (j / 2) + 2L * l + j % 2),
                                "quant " + j + " of row " + r + " block " + b);
                    }
                }
            }
        }
    }

    /** The pairs the kernel broadcasts are the quants two by two, low half first, sign kept in both halves. */
    @Property(tries = 50)
    void inputPairsAreTheQuantsTwoByTwo(@ForAll @IntRange(min = 1, max = 4) int tokens,
            @ForAll @IntRange(min = 1, max = 20) int blocks, @ForAll @IntRange(min = 0, max = 2) int inputMode,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = 32 * blocks;
        QuantizedInput in = input(tokens, cols, inputMode, rnd);
        for (int i = 0; i < tokens * cols / 2; i++) {
            assertEquals(in.qs[2 * i], (short) in.q8Pairs[i], "low half of pair " + i);
            assertEquals(in.qs[2 * i + 1], (short) (in.q8Pairs[i] >> 16), "high half of pair " + i);
        }
    }

    /** An infinite or NaN d anywhere leaves the matrix unpacked (the kernel's widening needs finite halves). */
    @Property(tries = 40)
    void nonFiniteScaleLeavesTheMatrixUnpacked(@ForAll @IntRange(min = 1, max = 3) int groups,
            @ForAll @IntRange(min = 1, max = 6) int blocks, @ForAll boolean nan, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 16 * groups;
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q8_0Tensor(rows, cols, 0, 0, rnd, arena);
            long block = rnd.nextLong((long) rows * blocks);
            short bad = (short) ((nan ? 0x7E00 : 0x7C00) | (rnd.nextBoolean() ? 0x8000 : 0));
            t.set(HALF, block * 34, bad);
            assertNull(Q8_0RowGroups.pack(t, rows, blocks), "packed despite a non-finite d in block " + block);
        }
    }

    /**
     * Whole matmuls and single-token matvecs at every width this machine runs (with AVX-512, the row groups, with
     * threaded chunks and a row range that cut groups anywhere), against the scalar kernel bit for bit; row counts
     * that are not a multiple of 16 stay row-wise.
     */
    @Property(tries = 150)
    void matmulGivesTheScalarBits(@ForAll @IntRange(min = 1, max = 4) int groups, @ForAll boolean wholeGroups,
            @ForAll @IntRange(min = 1, max = 30) int blocks, @ForAll @IntRange(min = 1, max = 11) int tokens,
            @ForAll @IntRange(min = 0, max = 3) int quantMode, @ForAll @IntRange(min = 0, max = 2) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = wholeGroups ? 16 * groups : 16 * groups - 1 - rnd.nextInt(15);
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q8_0Tensor(rows, cols, quantMode, misalign, rnd, arena);
            float[] x = TestTensors.q8Inputs(tokens, cols, inputMode, rnd);
            TestTensors.assertGroupMatmulsGiveTheScalarBits(GgmlType.Q8_0, rows, cols, t, x, tokens, tokens, rnd,
                    SERIAL, threaded ? POOL : SERIAL);
        }
    }
}
