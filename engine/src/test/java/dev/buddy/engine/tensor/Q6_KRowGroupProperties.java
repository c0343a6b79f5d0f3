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
 * The Q6_K row groups ({@link Q6_KRowGroups}): the sixteen-row kernel bit for bit against the scalar transcription of
 * ggml's AVX2 {@code ggml_vec_dot_q6_K_q8_K} ({@link Q6_KMatrix#scalarDot}) on super-blocks at the ends of the ranges
 * (quants 0 and 63 with every scale -128, against inputs of -128, where the 16-bit quads and the float lane sums are
 * fullest), subnormal and zero d, misaligned tensors and any token of a prompt; the copy against the GGUF layout;
 * the input pairs against the quants; and whole matmuls through {@link WeightMatrix}, which on a CPU with 512-bit
 * vectors run every token through the groups.
 */
class Q6_KRowGroupProperties {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Parallel SERIAL = new Parallel(1);
    private static final Parallel POOL = new Parallel(3);

    @AfterContainer
    static void closePools() {
        SERIAL.close();
        POOL.close();
    }

    /** {@link KQuantPromptGemmProperties#q6kTensor}'s super-blocks with any finite d (subnormals and zeros too). */
    static MemorySegment q6_KTensor(int rows, int cols, int mode, int misalign, Random rnd, Arena arena) {
        MemorySegment t = KQuantPromptGemmProperties.q6kTensor(rows, cols, mode, misalign, rnd, arena);
        for (long bo = 0; bo < t.byteSize(); bo += Q6_KRowGroups.BLOCK) {
            t.set(HALF, bo + 208, TestTensors.finiteHalf(rnd));
        }
        return t;
    }

    /** A Q8_K input; mode 3 sets every quant to -128, the end of the range ggml's quantiser writes. */
    private static QuantizedInput input(int tokens, int cols, int inputMode, Random rnd) {
        QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_K);
        in.quantize(KQuantDecodeKernelProperties.input(tokens * cols, Math.min(inputMode, 2), rnd), 0, tokens, cols);
        if (inputMode == 3) {
            Arrays.fill(in.qs, 0, tokens * cols, (short) -128);
        }
        in.prepareQ6KPairs();
        return in;
    }

    /** {@link Q6_KRowGroups#dot16} against the scalar kernel, bit for bit, for any group and any token of a prompt. */
    @Property(tries = 200)
    void sixteenRowKernelIsTheScalarKernel(@ForAll @IntRange(min = 1, max = 3) int groups,
            @ForAll @IntRange(min = 1, max = 5) int blocks, @ForAll @IntRange(min = 1, max = 4) int tokens,
            @ForAll @IntRange(min = 0, max = 3) int mode, @ForAll @IntRange(min = 0, max = 3) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 16 * groups;
        int cols = 256 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q6_KTensor(rows, cols, mode, misalign, rnd, arena);
            long rowBytes = GgmlType.Q6_K.byteSize(cols);
            Q6_KMatrix scalar = (Q6_KMatrix) WeightMatrix.of("w", GgmlType.Q6_K, new long[] {cols, rows}, t,
                    VectorWidth.SCALAR);
            QuantizedInput in = input(tokens, cols, inputMode, rnd);
            int token = rnd.nextInt(tokens);
            int group = rnd.nextInt(groups);
            float[] expected = new float[16];
            for (int l = 0; l < 16; l++) {
                expected[l] = scalar.scalarDot(16 * group + l, in, token);
            }
            MemorySegment packed = Q6_KRowGroups.pack(t, rows, blocks);
            float[] out = new float[16 + 3];
            Arrays.fill(out, Float.NaN);
            Q6_KRowGroups.dot16(packed, 16L * group * rowBytes, blocks, in.q6kPairs,
                    token * blocks * Q6_KRowGroups.PAIRS, in.d, token * blocks, out, 3);
            for (int l = 0; l < 16; l++) {
                assertEquals(Float.floatToRawIntBits(expected[l]), Float.floatToRawIntBits(out[3 + l]),
                        "row " + (16 * group + l) + " of " + rows + ", token " + token + ", " + cols
                                + " columns, mode " + mode + ", input mode " + inputMode + ": scalar " + expected[l]
                                + " groups " + out[3 + l]);
            }
            assertEquals(Float.NaN, out[2], "wrote before its outputs");
        }
    }

    /** Every d, scale and 6-bit quant of the copy where {@link Q6_KRowGroups} says. */
    @Property(tries = 60)
    void copyPlacesEveryQuant(@ForAll @IntRange(min = 1, max = 2) int groups,
            @ForAll @IntRange(min = 1, max = 3) int blocks, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 16 * groups;
        int cols = 256 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q6_KTensor(rows, cols, 0, misalign, rnd, arena);
            int rowBytes = Math.toIntExact(GgmlType.Q6_K.byteSize(cols));
            MemorySegment packed = Q6_KRowGroups.pack(t, rows, blocks);
            assertEquals(t.byteSize(), packed.byteSize(), "the copy is the original's size");
            byte[] file = t.toArray(ValueLayout.JAVA_BYTE);
            for (int r = 0; r < rows; r++) {
                int l = r % 16;
                for (int sb = 0; sb < blocks; sb++) {
                    int from = r * rowBytes + 210 * sb;
                    long to = (long) (r / 16) * 16 * rowBytes + 3360L * sb;
                    assertEquals(t.get(HALF, from + 208), packed.get(HALF, to + 2L * l), "d of row " + r);
                    for (int i = 0; i < 16; i++) {
                        assertEquals(file[from + 192 + i], packed.get(ValueLayout.JAVA_BYTE, to + 32 + 16L * i + l),
                                "scale " + i + " of row " + r);
                    }
                    for (int c = 0; c < 8; c++) {
                        for (int b = 0; b < 32; b++) {
                            // element b of plane c: quad j = b / 4 is pair j % 4, half j / 4; e = b % 4
                            int p = (b / 4) % 4;
                            int g = b / 16;
                            int e = b % 4;
                            long lane = to + 288 + 384L * c + 96L * p + 2L * l + g;
                            int v0 = packed.get(ValueLayout.JAVA_BYTE, lane) & 0xFF;
                            int v1 = packed.get(ValueLayout.JAVA_BYTE, lane + 32) & 0xFF;
                            int v2 = packed.get(ValueLayout.JAVA_BYTE, lane + 64) & 0xFF;
                            int q = e < 3 ? new int[] {v0, v1, v2}[e] & 0x3F
                                    : (v0 >> 6) | ((v1 >> 6) << 2) | ((v2 >> 6) << 4);
                            int n = c / 4;
                            int k = c % 4;
                            int ql = file[from + 64 * n + b + (k & 1) * 32] & 0xFF;
                            int qh = file[from + 128 + 32 * n + b] & 0xFF;
                            int expected = (k < 2 ? ql & 0xF : ql >> 4) | (((qh >> (2 * k)) & 3) << 4);
                            assertEquals(expected, q, "quant " + b + " of plane " + c + " of row " + r);
                        }
                    }
                }
            }
        }
    }

    /** The input pairs: quants 4p+e and 4p+16+e of each plane, then 32 times the two quads' sums, in 16-bit halves. */
    @Property(tries = 40)
    void inputPairsMeetTheirQuads(@ForAll @IntRange(min = 1, max = 3) int tokens,
            @ForAll @IntRange(min = 1, max = 3) int blocks, @ForAll @IntRange(min = 0, max = 3) int inputMode,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = 256 * blocks;
        QuantizedInput in = input(tokens, cols, inputMode, rnd);
        for (int sb = 0; sb < tokens * blocks; sb++) {
            for (int c = 0; c < 8; c++) {
                int x = 256 * sb + 32 * c;
                int at = Q6_KRowGroups.PAIRS * sb + Q6_KRowGroups.PLANE_PAIRS * c;
                for (int p = 0; p < 4; p++) {
                    int low = 0;
                    int high = 0;
                    for (int e = 0; e < 4; e++) {
                        assertEquals(in.qs[x + 4 * p + e], (short) in.q6kPairs[at + 4 * p + e], "low quant");
                        assertEquals(in.qs[x + 4 * p + 16 + e], (short) (in.q6kPairs[at + 4 * p + e] >> 16),
                                "high quant");
                        low += in.qs[x + 4 * p + e];
                        high += in.qs[x + 4 * p + 16 + e];
                    }
                    assertEquals((short) (32 * low), (short) in.q6kPairs[at + 16 + p], "low centring sum");
                    assertEquals((short) (32 * high), (short) (in.q6kPairs[at + 16 + p] >> 16), "high centring sum");
                }
            }
        }
    }

    /** An infinite or NaN d anywhere leaves the matrix unpacked (the kernel's widening needs finite halves). */
    @Property(tries = 30)
    void nonFiniteScaleLeavesTheMatrixUnpacked(@ForAll @IntRange(min = 1, max = 2) int groups,
            @ForAll @IntRange(min = 1, max = 3) int blocks, @ForAll boolean nan, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 16 * groups;
        int cols = 256 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q6_KTensor(rows, cols, 0, 0, rnd, arena);
            long block = rnd.nextLong((long) rows * blocks);
            short bad = (short) ((nan ? 0x7E00 : 0x7C00) | (rnd.nextBoolean() ? 0x8000 : 0));
            t.set(HALF, block * 210 + 208, bad);
            assertNull(Q6_KRowGroups.pack(t, rows, blocks), "packed despite a non-finite d in block " + block);
        }
    }

    /**
     * Whole matmuls and single-token matvecs at every width this machine runs (with AVX-512, the row groups, with
     * threaded chunks and a row range that cut groups anywhere), against the scalar kernel bit for bit; row counts
     * that are not a multiple of 16 stay in the file layout.
     */
    @Property(tries = 60)
    void matmulGivesTheScalarBits(@ForAll @IntRange(min = 1, max = 3) int groups, @ForAll boolean wholeGroups,
            @ForAll @IntRange(min = 1, max = 4) int blocks, @ForAll @IntRange(min = 1, max = 9) int tokens,
            @ForAll @IntRange(min = 0, max = 3) int mode, @ForAll @IntRange(min = 0, max = 2) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = wholeGroups ? 16 * groups : 16 * groups - 1 - rnd.nextInt(15);
        int cols = 256 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = q6_KTensor(rows, cols, mode, misalign, rnd, arena);
            float[] x = KQuantDecodeKernelProperties.input(tokens * cols, inputMode, rnd);
            TestTensors.assertGroupMatmulsGiveTheScalarBits(GgmlType.Q6_K, rows, cols, t, x, tokens, tokens, rnd,
                    SERIAL, threaded ? POOL : SERIAL);
        }
    }
}
