package dev.buddy.engine.tensor;

import static dev.buddy.engine.tensor.Constants256.I16;
import static dev.buddy.engine.tensor.Constants256.I4;
import static dev.buddy.engine.tensor.Constants256.I8;
import static dev.buddy.engine.tensor.Constants256.INT_LOW_BYTE;
import static dev.buddy.engine.tensor.Constants256.INT_NIBBLE;
import static dev.buddy.engine.tensor.Constants256.L32;
import static dev.buddy.engine.tensor.Constants256.LOW_NIBBLES;
import static dev.buddy.engine.tensor.Constants256.NIBBLE;
import static dev.buddy.engine.tensor.Constants256.S12;
import static dev.buddy.engine.tensor.Constants256.S4;
import static dev.buddy.engine.tensor.Constants256.S8;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_K weights: super-blocks of 256 elements ({@code block_q4_K}: fp16 d, fp16 dmin, scales[12] packing eight 6-bit
 * scales and eight 6-bit mins, qs[128]; 144 bytes). Each 64-element chunk j uses qs[32j..32j+32): low nibbles are
 * sub-block 2j, high nibbles sub-block 2j+1; element value {@code d*scale*q - dmin*min}.
 *
 * <p>Every width computes exactly what llama.cpp b4916's AVX2 {@code ggml_vec_dot_q4_K_q8_K} computes (see
 * {@link #scalarDot}), for decode and for every token of a prefill batch (llama.cpp has no tinyBLAS path for K-quants
 * on x86, so its prompt runs the same vec_dot per row and token).
 *
 * <p>SIMD choice, measured on the shared 2-core AVX2 Zen 3 machine (8192x2048, one thread, best of several hundred
 * calls under load 11-20; a throwaway timing loop): single-token kernels in 16-bit integer lanes (2.4-2.5 ms per
 * matvec, against 2.8 ms for main's non-exact kernel) beat the same lanes computed in float from
 * {@link QuantizedInput#lanes} (4.5 ms). Prompts of 4 or more tokens at 256/512 bits run {@link KQuantPromptGemm}
 * (float lanes over weights dequantised once to exact integers): 64 tokens in 86-92 ms against 146 ms for the
 * previous 4-token tile (JMH {@code KernelBenchmark.prefill}, one thread); on CPUs with 512-bit vectors the row
 * groups' prompt tile replaces it ({@link #simdRows}).
 * Shift counts must be constants: counts that varied with a loop variable made the kernels 1.5-5x slower.
 *
 * <p>Decode, second round (same matrix and machine, the old and new kernel alternated in one JVM, medians of 300
 * matvecs): the single-token kernel with its min term in vector lanes and fused into the same pass, every helper
 * written out, runs 1.33x faster than the previous one with its scalar min term on one L3-resident matrix (3.59
 * against 4.77 ms under load) and 1.19x faster cycling through eight (75 MB, streamed from memory: 4.49 against
 * 5.34 ms). Rejected: four or two adjacent rows per pass sharing the activation loads ran 1.6x slower per row than
 * one row per pass, even with no calls left in the loop (adjacent rows are close streams the prefetchers follow
 * badly, as {@link Q4_0RowGroups} found); with the rows spread half a matrix apart, two rows per pass came out only
 * about 5% ahead of one (1.68-1.71 against 1.75-1.83 ms, L3-resident), four rows level.
 */
final class Q4_KMatrix extends KQuantMatrix implements RowPairs.Kernel, RowGroupLayout.TileKernel {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 144;

    /**
     * The weights in {@link Q4_KRowGroups}' layout, which its eight-row single-token kernel and prompt tile read and
     * from which {@link #row} takes them too; null unless the CPU has 512-bit
     * vectors at this width ({@link VectorWidth#native512}), the row count is a multiple of 8 and every d and dmin is
     * finite. The scalar kernel keeps reading {@link #data}.
     */
    private final MemorySegment groups;

    Q4_KMatrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q4_K, rows, cols, data, width);
        this.groups = width.native512() && rows % Q4_KRowGroups.ROWS == 0
                ? Q4_KRowGroups.pack(data, rows, cols / 256) : null;
    }

    /** Byte offset of the group holding row r in {@link #groups}. */
    private long groupOffset(int r) {
        return (long) (r / Q4_KRowGroups.ROWS) * (cols / 256) * Q4_KRowGroups.GROUP_BLOCK;
    }

    // The 12 scale bytes unpacked four at a time into ints holding one 6-bit value per byte, as ggml's utmp trick.

    /** Scales 0-3, one per byte. */
    static int scales0to3(MemorySegment w, long bo) {
        return w.get(INT, bo + 4) & 0x3f3f3f3f;
    }

    /** Scales 4-7: low nibbles of bytes 8-11, top two bits from bytes 0-3. */
    static int scales4to7(MemorySegment w, long bo) {
        return (w.get(INT, bo + 12) & 0x0f0f0f0f) | (((w.get(INT, bo + 4) >>> 6) & 0x03030303) << 4);
    }

    /** Mins 0-3, one per byte. */
    static int mins0to3(MemorySegment w, long bo) {
        return w.get(INT, bo + 8) & 0x3f3f3f3f;
    }

    /** Mins 4-7: high nibbles of bytes 8-11, top two bits from bytes 4-7. */
    static int mins4to7(MemorySegment w, long bo) {
        return ((w.get(INT, bo + 12) >>> 4) & 0x0f0f0f0f) | (((w.get(INT, bo + 8) >>> 6) & 0x03030303) << 4);
    }

    /**
     * The eight mins of super-blocks {@code [sb, sb + count)} of the row at {@code off} into {@code mins[at + 8s ..]}
     * and their dmin into {@code dmins[dAt + s]}, for Q4_K and Q5_K blocks ({@code blockBytes} 144 or 176: both
     * start with d, dmin and the 12 scale bytes).
     */
    static void mins(MemorySegment w, long off, int blockBytes, int sb, int count, int[] mins, int at, float[] dmins,
            int dAt) {
        for (int s = 0; s < count; s++) {
            long bo = off + (long) (sb + s) * blockBytes;
            int mn03 = mins0to3(w, bo);
            int mn47 = mins4to7(w, bo);
            for (int j = 0; j < 8; j++) {
                mins[at + 8 * s + j] = pick(mn03, mn47, j);
            }
            dmins[dAt + s] = Halfs.f16ToFloat(w.get(HALF, bo + 2));
        }
    }

    /** Byte {@code j % 4} of the packed value {@code j < 4 ? low : high}. */
    static int pick(int low, int high, int j) {
        return ((j < 4 ? low : high) >>> (8 * (j & 3))) & 0xFF;
    }

    /** {@code sum_j min_j * (bsum_{2j} + bsum_{2j+1})}: the min term of one super-block, in integers. */
    static int minSum(int mins03, int mins47, int[] bsums, int bo) {
        int sum = 0;
        for (int j = 0; j < 8; j++) {
            sum += pick(mins03, mins47, j) * (bsums[bo + 2 * j] + bsums[bo + 2 * j + 1]);
        }
        return sum;
    }

    /** {@code dequantize_row_q4_K}; from the row groups where they exist. */
    @Override
    public void row(int r, float[] dst, int dstOffset) {
        if (groups != null) {
            int k = r % Q4_KRowGroups.ROWS;
            for (int sb = 0; sb < cols / 256; sb++) {
                long bb = groupOffset(r) + (long) sb * Q4_KRowGroups.GROUP_BLOCK;
                float d = Q4_KRowGroups.half(groups, bb, 0, k);
                float min = Q4_KRowGroups.half(groups, bb, 1, k);
                for (int p = 0; p < 4; p++) {
                    float d1 = d * Q4_KRowGroups.scaleOrMin(groups, bb, 0, 2 * p, k);
                    float m1 = min * Q4_KRowGroups.scaleOrMin(groups, bb, 1, 2 * p, k);
                    float d2 = d * Q4_KRowGroups.scaleOrMin(groups, bb, 0, 2 * p + 1, k);
                    float m2 = min * Q4_KRowGroups.scaleOrMin(groups, bb, 1, 2 * p + 1, k);
                    int y = dstOffset + sb * 256 + 64 * p;
                    for (int l = 0; l < 32; l++) {
                        int q = Q4_KRowGroups.quant(groups, bb, k, p, l >> 2, l & 3);
                        dst[y + l] = d1 * (q & 0xF) - m1;
                        dst[y + 32 + l] = d2 * (q >> 4) - m2;
                    }
                }
            }
            return;
        }
        long off = rowOffset(r);
        for (int sb = 0; sb < cols / 256; sb++) {
            long bo = off + (long) sb * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo));
            float min = Halfs.f16ToFloat(data.get(HALF, bo + 2));
            int sc03 = scales0to3(data, bo);
            int sc47 = scales4to7(data, bo);
            int mn03 = mins0to3(data, bo);
            int mn47 = mins4to7(data, bo);
            int y = dstOffset + sb * 256;
            for (int j = 0; j < 4; j++) {
                float d1 = d * pick(sc03, sc47, 2 * j);
                float m1 = min * pick(mn03, mn47, 2 * j);
                float d2 = d * pick(sc03, sc47, 2 * j + 1);
                float m2 = min * pick(mn03, mn47, 2 * j + 1);
                long q = bo + 16 + 32L * j;
                for (int l = 0; l < 32; l++) {
                    dst[y + l] = d1 * (data.get(BYTE, q + l) & 0xF) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    dst[y + 32 + l] = d2 * ((data.get(BYTE, q + l) >> 4) & 0xF) - m2;
                }
                y += 64;
            }
        }
    }

    /**
     * ggml's min term of super-blocks {@code [0, blocks)} for one token, as the AVX2 kernel forms it: four float
     * lanes, lane k accumulating {@code fma(-d_x * dmin, m_{2k} * bsum32_{2k} + m_{2k+1} * bsum32_{2k+1}, lane)}
     * ({@code hadd} of the per-16 sums, then {@code madd} with the mins), reduced as {@code (l0 + l2) + (l1 + l3)}.
     */
    static float minTerm(MemorySegment w, long off, int blocks, QuantizedInput in, int token) {
        int[] bs = in.bsums;
        float m0 = 0f, m1 = 0f, m2 = 0f, m3 = 0f;
        for (int sb = 0; sb < blocks; sb++) {
            long bo = off + (long) sb * BLOCK;
            int db = token * blocks + sb;
            float dmin = -in.d[db] * Halfs.f16ToFloat(w.get(HALF, bo + 2));
            int mn03 = mins0to3(w, bo);
            int mn47 = mins4to7(w, bo);
            int b16 = db * 16;
            m0 = Math.fma(dmin, minPair(mn03, mn47, bs, b16, 0), m0);
            m1 = Math.fma(dmin, minPair(mn03, mn47, bs, b16, 1), m1);
            m2 = Math.fma(dmin, minPair(mn03, mn47, bs, b16, 2), m2);
            m3 = Math.fma(dmin, minPair(mn03, mn47, bs, b16, 3), m3);
        }
        return (m0 + m2) + (m1 + m3);
    }

    /** ggml's reduction of its four min lanes: {@code movehl} then {@code movehdup}, i.e. (m0 + m2) + (m1 + m3). */
    static float minLanes(float m0, float m1, float m2, float m3) {
        return (m0 + m2) + (m1 + m3);
    }

    /** 32-bit lane k of ggml's {@code madd(mins, hadd(bsums))}: sub-blocks 2k and 2k+1. */
    static int minPair(int mn03, int mn47, int[] bs, int b16, int k) {
        return pick(mn03, mn47, 2 * k) * (bs[b16 + 4 * k] + bs[b16 + 4 * k + 1])
                + pick(mn03, mn47, 2 * k + 1) * (bs[b16 + 4 * k + 2] + bs[b16 + 4 * k + 3]);
    }

    /**
     * The scalar transcription of ggml's AVX2 {@code ggml_vec_dot_q4_K_q8_K} (b4916): per super-block, 32-bit lane
     * j of 8 holds the exact integer {@code sum_c scale_c * (q . x)} over bytes 4j..4j+3 of each of the eight
     * 32-element sub-blocks ({@code maddubs} then {@code madd} with the scale), converted to float and accumulated
     * as {@code fma(d_x * d, lane, acc_j)}; the lanes are reduced as {@code hsum_float_8} and the min term added.
     */
    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        long off = rowOffset(r);
        int blocks = cols / 256;
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
        for (int sb = 0; sb < blocks; sb++) {
            long bo = off + (long) sb * BLOCK;
            int db = token * blocks + sb;
            float d = in.d[db] * Halfs.f16ToFloat(data.get(HALF, bo));
            int sc03 = scales0to3(data, bo);
            int sc47 = scales4to7(data, bo);
            int e = db * 256;
            a0 = Math.fma(d, lane(bo, sc03, sc47, in.qs, e, 0), a0);
            a1 = Math.fma(d, lane(bo, sc03, sc47, in.qs, e, 1), a1);
            a2 = Math.fma(d, lane(bo, sc03, sc47, in.qs, e, 2), a2);
            a3 = Math.fma(d, lane(bo, sc03, sc47, in.qs, e, 3), a3);
            a4 = Math.fma(d, lane(bo, sc03, sc47, in.qs, e, 4), a4);
            a5 = Math.fma(d, lane(bo, sc03, sc47, in.qs, e, 5), a5);
            a6 = Math.fma(d, lane(bo, sc03, sc47, in.qs, e, 6), a6);
            a7 = Math.fma(d, lane(bo, sc03, sc47, in.qs, e, 7), a7);
        }
        return Q8_0Matrix.hsum8(a0, a1, a2, a3, a4, a5, a6, a7) + minTerm(data, off, blocks, in, token);
    }

    /** Integer lane {@code j} of one super-block (see {@link #scalarDot}). */
    private int lane(long bo, int sc03, int sc47, short[] xq, int e, int j) {
        int sum = 0;
        for (int c = 0; c < 4; c++) {
            long q = bo + 16 + 32L * c;
            int lo = 0;
            int hi = 0;
            for (int b = 4 * j; b < 4 * j + 4; b++) {
                int v = data.get(BYTE, q + b);
                lo += (v & 0xF) * xq[e + 64 * c + b];
                hi += ((v >> 4) & 0xF) * xq[e + 64 * c + 32 + b];
            }
            sum += pick(sc03, sc47, 2 * c) * lo + pick(sc03, sc47, 2 * c + 1) * hi;
        }
        return sum;
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        int blocks = cols / 256;
        return switch (width) {
            case W128 -> V128.dot(data, rowOffset(r), blocks, in, token) + minTerm(data, rowOffset(r), blocks, in,
                    token);
            case W256, W512 -> V256.dot(data, rowOffset(r), blocks, in, token);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    /** Reached only without {@link #groups}: grouped matrices run their prompts through the tile. */
    @Override
    void laneWeights(int r, int sb, int count, float[] dst, int off, float[] ds, int dOff) {
        V256.laneWeights(data, rowOffset(r), sb, count, dst, off, ds, dOff);
    }

    /**
     * With {@link #groups}, a single token runs eight rows at a time ({@link Q4_KRowGroups#dot8}) and prompts in
     * tiles of up to eight tokens over the same groups ({@link Q4_KRowGroups#dotTokens8}, 1.27-1.33x faster than
     * {@link KQuantPromptGemm} over weights unpacked from the groups, session 29); without, {@link KQuantMatrix}'s
     * paths. All give every (row, token) the scalar kernel's bits.
     */
    @Override
    void simdRows(QuantizedInput in, int rowFrom, int rowTo, float[] out, int outOffset) {
        if (groups == null) {
            super.simdRows(in, rowFrom, rowTo, out, outOffset);
        } else {
            RowGroupLayout.groupTiles(this, in, rowFrom, rowTo, Q4_KRowGroups.ROWS, groupOffset(Q4_KRowGroups.ROWS),
                    out, outOffset, rows);
        }
    }

    /** {@link Q4_KRowGroups#dot8} on {@link #groups} (the driver: {@link RowGroupLayout#groupRows}). */
    @Override
    public void dot8(QuantizedInput in, int token, long groupOffset, float[] out, int at) {
        int blocks = cols / 256;
        Q4_KRowGroups.dot8(groups, groupOffset, blocks, in.q4kSpread, token * blocks * Q4_KRowGroups.SPREAD, in.d,
                token * blocks, in.q4kMinSums, token * blocks * Q4_KRowGroups.MIN_SUMS, out, at);
    }

    /** {@link Q4_KRowGroups#dotTokens8} on {@link #groups} (the driver: {@link RowGroupLayout#groupTiles}). */
    @Override
    public void dotTokens(QuantizedInput in, int token, int tokens, long groupOffset, float[] scratch, float[] out,
            int at, int stride) {
        int blocks = cols / 256;
        Q4_KRowGroups.dotTokens8(groups, groupOffset, blocks, tokens, in.q4kSpread,
                token * blocks * Q4_KRowGroups.SPREAD, in.d, token * blocks, in.q4kMinSums,
                token * blocks * Q4_KRowGroups.MIN_SUMS, scratch, out, at, stride);
    }

    @Override
    boolean readsQ4KGroups(int tokens) {
        return groups != null;
    }

    @Override
    int minLaneCount() {
        return 4;
    }

    /** {@link V256#dot2}: the two-row single-token kernel that {@link RowPairs} drives at 256 bits and up. */
    @Override
    public void dotPair(int r, long stride, QuantizedInput in, int token, float[] out, int out0, int out1) {
        V256.dot2(data, rowOffset(r), stride, cols / 256, in, token, out, out0, out1);
    }


    /** The 256-bit kernels take the min term's 32-quant sums from {@link QuantizedInput#blockSums}. */
    @Override
    boolean readsBlockSums() {
        return width == VectorWidth.W256 || width == VectorWidth.W512;
    }

    /**
     * Two ways to ggml's integer lanes. Single token: 16-bit lanes (see {@link V256#dot}). Prompts: in float lanes
     * ({@link #laneWeights} for {@link KQuantPromptGemm}); a 32-byte run of quants read as eight 32-bit lanes puts
     * bytes 4j..4j+3 in lane j, exactly ggml's grouping, so byte k of every lane is one shift and mask away, and
     * {@link QuantizedInput#lanes} holds the matching activation of byte k of every lane as one float vector. Every
     * product and partial sum is an integer below 2^24 (at most 32 * 15 * 63 * 127 per lane and super-block), so
     * float FMAs compute ggml's integer lanes exactly, in any order. The 128-bit kernel uses the float form too (two
     * 4-lane halves).
     */
    // One method per kernel, vectors only in locals (a vector passed to a call C2 does not inline gets boxed), and
    // only Vector API methods these call sites dispatch, with vector constants (Constants256 and Constants512 say why).
    private static final class V256 {
        static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

        /** Lanes 4-7: mins 4-7 come from the second packed int. */
        static final VectorMask<Integer> UPPER = VectorMask.fromLong(I, 0xF0L);
        /** Byte {@code j % 4} of a packed int to lane j. */
        static final IntVector BYTE_SHIFTS = IntVector.fromArray(I, new int[] {0, 8, 16, 24, 0, 8, 16, 24}, 0);
        static final VectorSpecies<Long> L = LongVector.SPECIES_256;

        /**
         * Single token, in integer lanes, min term included. A 32-byte quant run read as sixteen 16-bit lanes holds
         * bytes 2i and 2i+1 in lane i, i.e. nibbles {@code n0 = lo(2i), n1 = hi(2i), n2 = lo(2i+1), n3 = hi(2i+1)};
         * with {@link QuantizedInput#pairs} (even elements {@code x_e}, odd {@code x_o}):
         * <ul>
         *   <li>low sub-block: {@code t = s & 0x0F0F = n0 + 256 n2}, and {@code t * x_e + (t >>> 8) * (x_o - 256
         *       x_e) = n0 x_e + n2 x_o} modulo 2^16, one mask fewer than masking both nibbles;</li>
         *   <li>high sub-block: {@code ((s >>> 4) & 0xF) * x_e + (s >>> 12) * x_o};</li>
         *   <li>a pair sum (at most 2 * 15 * 128 in magnitude) and the sum of two neighbouring ones (7680) fit 16
         *       bits, so adding the 32-bit lane shifted left by 16 (the product with {@code 0x10001}, without the
         *       slow 32-bit multiply) puts ggml's 4-byte sum in the high half and an arithmetic shift sign-extends
         *       it: ggml's {@code maddubs}+{@code madd} 32-bit lane j;</li>
         *   <li>scaled by the sub-block's 6-bit scale in 32-bit lanes (at most 8 * 63 * 7680 per super-block) and
         *       summed over the super-block in a vector carried round the sub-block loop as a float vector's bits
         *       ({@link Constants256}).</li>
         * </ul>
         * The min lanes are vector work too (see {@link #minTerm}). Every helper is written out in the loop: with
         * calls to the small unpacking methods (which C2 stopped inlining in larger kernels) the vectors were
         * spilled around each call. Measured (8192x2048, one thread, best of 60 matvecs in one JVM, old and new
         * alternated, the machine loaded): 1.81-1.87 ms against 2.33-2.43 ms for the previous kernel with its
         * scalar min term.
         */
        static float dot(MemorySegment w, long off, int blocks, QuantizedInput in, int token) {
            short[] xp = in.pairs;
            float[] xd = in.d;
            int[] xs = in.blockSums;
            FloatVector acc = FloatVector.zero(F);
            FloatVector min = FloatVector.zero(F);
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                int db = token * blocks + sb;
                int packed4 = w.get(INT, bo + 4);
                int packed8 = w.get(INT, bo + 8);
                int packed12 = w.get(INT, bo + 12);
                // scales0to3, scales4to7 (and below mins0to3, mins4to7) written out
                int scales03 = packed4 & 0x3f3f3f3f;
                int scales47 = (packed12 & 0x0f0f0f0f) | (((packed4 >>> 6) & 0x03030303) << 4);
                // ggml's integer lanes, carried round the loop as a float vector's bits (Constants256 says why)
                FloatVector isum = FloatVector.zero(F);
                for (int c = 0; c < 4; c++) {
                    int x = db * 256 + 64 * c;
                    ShortVector xe0 = ShortVector.fromArray(S, xp, x);
                    ShortVector xo0 = ShortVector.fromArray(S, xp, x + 16)
                            .lanewise(VectorOperators.SUB, xe0.lanewise(VectorOperators.LSHL, S8));
                    ShortVector xe1 = ShortVector.fromArray(S, xp, x + 32);
                    ShortVector xo1 = ShortVector.fromArray(S, xp, x + 48);
                    ShortVector s = ShortVector.fromMemorySegment(S, w, bo + 16 + 32L * c, LE);
                    ShortVector t = s.lanewise(VectorOperators.AND, LOW_NIBBLES);
                    IntVector lo = (IntVector) t.lanewise(VectorOperators.MUL, xe0)
                            .lanewise(VectorOperators.ADD, t.lanewise(VectorOperators.LSHR, S8)
                                    .lanewise(VectorOperators.MUL, xo0))
                            .reinterpretShape(I, 0);
                    lo = lo.lanewise(VectorOperators.ADD, lo.lanewise(VectorOperators.LSHL, I16))
                            .lanewise(VectorOperators.ASHR, I16);
                    IntVector hi = (IntVector) s.lanewise(VectorOperators.LSHR, S4)
                            .lanewise(VectorOperators.AND, NIBBLE).lanewise(VectorOperators.MUL, xe1)
                            .lanewise(VectorOperators.ADD, s.lanewise(VectorOperators.LSHR, S12)
                                    .lanewise(VectorOperators.MUL, xo1))
                            .reinterpretShape(I, 0);
                    hi = hi.lanewise(VectorOperators.ADD, hi.lanewise(VectorOperators.LSHL, I16))
                            .lanewise(VectorOperators.ASHR, I16);
                    // scales 2c and 2c+1: bytes 2(c&1) and 2(c&1)+1 of scales03 (c < 2) or scales47
                    int pair = (c < 2 ? scales03 : scales47) >>> (16 * (c & 1));
                    isum = (FloatVector) ((IntVector) isum.reinterpretShape(I, 0))
                            .lanewise(VectorOperators.ADD,
                                    lo.lanewise(VectorOperators.MUL, IntVector.broadcast(I, pair & 0xFF)))
                            .lanewise(VectorOperators.ADD,
                                    hi.lanewise(VectorOperators.MUL, IntVector.broadcast(I, (pair >>> 8) & 0xFF)))
                            .reinterpretShape(F, 0);
                }
                float dx = xd[db];
                acc = ((FloatVector) isum.reinterpretShape(I, 0).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA,
                                FloatVector.broadcast(F, dx * Float.float16ToFloat(w.get(HALF, bo))), acc);
                LongVector products = (LongVector) IntVector.broadcast(I, packed8 & 0x3f3f3f3f)
                        .blend(IntVector.broadcast(I,
                                ((packed12 >>> 4) & 0x0f0f0f0f) | (((packed8 >>> 6) & 0x03030303) << 4)), UPPER)
                        .lanewise(VectorOperators.LSHR, BYTE_SHIFTS).lanewise(VectorOperators.AND, INT_LOW_BYTE)
                        .lanewise(VectorOperators.MUL, IntVector.fromArray(I, xs, db * 8)).reinterpretShape(L, 0);
                min = ((FloatVector) products
                        .lanewise(VectorOperators.ADD, products.lanewise(VectorOperators.LSHR, L32))
                        .reinterpretShape(I, 0).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA,
                                FloatVector.broadcast(F, -dx * Float.float16ToFloat(w.get(HALF, bo + 2))), min);
            }
            return Q8_0Matrix.hsum8(acc.lane(0), acc.lane(1), acc.lane(2), acc.lane(3), acc.lane(4), acc.lane(5),
                    acc.lane(6), acc.lane(7)) + minLanes(min.lane(0), min.lane(2), min.lane(4), min.lane(6));
        }

        /**
         * {@link #dot} for two rows at once (row 0 at {@code off}, row 1 {@code stride} bytes further), sharing the
         * input's loads and its {@code x_o - 256 x_e}; each row's lanes and sums are {@link #dot}'s, so are its bits.
         */
        static void dot2(MemorySegment w, long off, long stride, int blocks, QuantizedInput in, int token, float[] out,
                int out0, int out1) {
            short[] xp = in.pairs;
            float[] xd = in.d;
            int[] xs = in.blockSums;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector min0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            FloatVector min1 = FloatVector.zero(F);
            long off1 = off + stride;
            for (int sb = 0; sb < blocks; sb++) {
                long bb = (long) sb * BLOCK;
                int db = token * blocks + sb;
                float dx = xd[db];
                long bo0 = off + bb;
                long bo1 = off1 + bb;
                int packed4a = w.get(INT, bo0 + 4);
                int packed8a = w.get(INT, bo0 + 8);
                int packed12a = w.get(INT, bo0 + 12);
                int scales03a = packed4a & 0x3f3f3f3f;
                int scales47a = (packed12a & 0x0f0f0f0f) | (((packed4a >>> 6) & 0x03030303) << 4);
                int packed4b = w.get(INT, bo1 + 4);
                int packed8b = w.get(INT, bo1 + 8);
                int packed12b = w.get(INT, bo1 + 12);
                int scales03b = packed4b & 0x3f3f3f3f;
                int scales47b = (packed12b & 0x0f0f0f0f) | (((packed4b >>> 6) & 0x03030303) << 4);
                // ggml's integer lanes, carried round the loop as a float vector's bits (Constants256 says why)
                FloatVector isum0 = FloatVector.zero(F);
                FloatVector isum1 = FloatVector.zero(F);
                for (int c = 0; c < 4; c++) {
                    int x = db * 256 + 64 * c;
                    ShortVector xe0 = ShortVector.fromArray(S, xp, x);
                    ShortVector xo0 = ShortVector.fromArray(S, xp, x + 16)
                            .lanewise(VectorOperators.SUB, xe0.lanewise(VectorOperators.LSHL, S8));
                    ShortVector xe1 = ShortVector.fromArray(S, xp, x + 32);
                    ShortVector xo1 = ShortVector.fromArray(S, xp, x + 48);
                    int shift = 16 * (c & 1);
                    ShortVector s = ShortVector.fromMemorySegment(S, w, bo0 + 16 + 32L * c, LE);
                    ShortVector t = s.lanewise(VectorOperators.AND, LOW_NIBBLES);
                    IntVector lo = (IntVector) t.lanewise(VectorOperators.MUL, xe0)
                            .lanewise(VectorOperators.ADD, t.lanewise(VectorOperators.LSHR, S8)
                                    .lanewise(VectorOperators.MUL, xo0))
                            .reinterpretShape(I, 0);
                    lo = lo.lanewise(VectorOperators.ADD, lo.lanewise(VectorOperators.LSHL, I16))
                            .lanewise(VectorOperators.ASHR, I16);
                    IntVector hi = (IntVector) s.lanewise(VectorOperators.LSHR, S4)
                            .lanewise(VectorOperators.AND, NIBBLE).lanewise(VectorOperators.MUL, xe1)
                            .lanewise(VectorOperators.ADD, s.lanewise(VectorOperators.LSHR, S12)
                                    .lanewise(VectorOperators.MUL, xo1))
                            .reinterpretShape(I, 0);
                    hi = hi.lanewise(VectorOperators.ADD, hi.lanewise(VectorOperators.LSHL, I16))
                            .lanewise(VectorOperators.ASHR, I16);
                    int pair = (c < 2 ? scales03a : scales47a) >>> shift;
                    isum0 = (FloatVector) ((IntVector) isum0.reinterpretShape(I, 0))
                            .lanewise(VectorOperators.ADD,
                                    lo.lanewise(VectorOperators.MUL, IntVector.broadcast(I, pair & 0xFF)))
                            .lanewise(VectorOperators.ADD,
                                    hi.lanewise(VectorOperators.MUL, IntVector.broadcast(I, (pair >>> 8) & 0xFF)))
                            .reinterpretShape(F, 0);
                    s = ShortVector.fromMemorySegment(S, w, bo1 + 16 + 32L * c, LE);
                    t = s.lanewise(VectorOperators.AND, LOW_NIBBLES);
                    lo = (IntVector) t.lanewise(VectorOperators.MUL, xe0)
                            .lanewise(VectorOperators.ADD, t.lanewise(VectorOperators.LSHR, S8)
                                    .lanewise(VectorOperators.MUL, xo0))
                            .reinterpretShape(I, 0);
                    lo = lo.lanewise(VectorOperators.ADD, lo.lanewise(VectorOperators.LSHL, I16))
                            .lanewise(VectorOperators.ASHR, I16);
                    hi = (IntVector) s.lanewise(VectorOperators.LSHR, S4)
                            .lanewise(VectorOperators.AND, NIBBLE).lanewise(VectorOperators.MUL, xe1)
                            .lanewise(VectorOperators.ADD, s.lanewise(VectorOperators.LSHR, S12)
                                    .lanewise(VectorOperators.MUL, xo1))
                            .reinterpretShape(I, 0);
                    hi = hi.lanewise(VectorOperators.ADD, hi.lanewise(VectorOperators.LSHL, I16))
                            .lanewise(VectorOperators.ASHR, I16);
                    pair = (c < 2 ? scales03b : scales47b) >>> shift;
                    isum1 = (FloatVector) ((IntVector) isum1.reinterpretShape(I, 0))
                            .lanewise(VectorOperators.ADD,
                                    lo.lanewise(VectorOperators.MUL, IntVector.broadcast(I, pair & 0xFF)))
                            .lanewise(VectorOperators.ADD,
                                    hi.lanewise(VectorOperators.MUL, IntVector.broadcast(I, (pair >>> 8) & 0xFF)))
                            .reinterpretShape(F, 0);
                }
                IntVector sums = IntVector.fromArray(I, xs, db * 8);
                acc0 = ((FloatVector) isum0.reinterpretShape(I, 0).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA,
                                FloatVector.broadcast(F, dx * Float.float16ToFloat(w.get(HALF, bo0))), acc0);
                LongVector products = (LongVector) IntVector.broadcast(I, packed8a & 0x3f3f3f3f)
                        .blend(IntVector.broadcast(I,
                                ((packed12a >>> 4) & 0x0f0f0f0f) | (((packed8a >>> 6) & 0x03030303) << 4)), UPPER)
                        .lanewise(VectorOperators.LSHR, BYTE_SHIFTS).lanewise(VectorOperators.AND, INT_LOW_BYTE)
                        .lanewise(VectorOperators.MUL, sums).reinterpretShape(L, 0);
                min0 = ((FloatVector) products
                        .lanewise(VectorOperators.ADD, products.lanewise(VectorOperators.LSHR, L32))
                        .reinterpretShape(I, 0).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA,
                                FloatVector.broadcast(F, -dx * Float.float16ToFloat(w.get(HALF, bo0 + 2))), min0);
                acc1 = ((FloatVector) isum1.reinterpretShape(I, 0).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA,
                                FloatVector.broadcast(F, dx * Float.float16ToFloat(w.get(HALF, bo1))), acc1);
                products = (LongVector) IntVector.broadcast(I, packed8b & 0x3f3f3f3f)
                        .blend(IntVector.broadcast(I,
                                ((packed12b >>> 4) & 0x0f0f0f0f) | (((packed8b >>> 6) & 0x03030303) << 4)), UPPER)
                        .lanewise(VectorOperators.LSHR, BYTE_SHIFTS).lanewise(VectorOperators.AND, INT_LOW_BYTE)
                        .lanewise(VectorOperators.MUL, sums).reinterpretShape(L, 0);
                min1 = ((FloatVector) products
                        .lanewise(VectorOperators.ADD, products.lanewise(VectorOperators.LSHR, L32))
                        .reinterpretShape(I, 0).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA,
                                FloatVector.broadcast(F, -dx * Float.float16ToFloat(w.get(HALF, bo1 + 2))), min1);
            }
            out[out0] = Q8_0Matrix.hsum8(acc0.lane(0), acc0.lane(1), acc0.lane(2), acc0.lane(3), acc0.lane(4),
                    acc0.lane(5), acc0.lane(6), acc0.lane(7))
                    + minLanes(min0.lane(0), min0.lane(2), min0.lane(4), min0.lane(6));
            out[out1] = Q8_0Matrix.hsum8(acc1.lane(0), acc1.lane(1), acc1.lane(2), acc1.lane(3), acc1.lane(4),
                    acc1.lane(5), acc1.lane(6), acc1.lane(7))
                    + minLanes(min1.lane(0), min1.lane(2), min1.lane(4), min1.lane(6));
        }

        /**
         * Super-blocks {@code [sb, sb + count)} as exact integer weights {@code q * scale} in lane order (see
         * {@link KQuantMatrix#laneWeights}): a 32-byte quant run read as eight 32-bit lanes puts bytes
         * 4j..4j+3 in lane j, so byte k of every lane is a running shift by the constant 8 away.
         */
        static void laneWeights(MemorySegment w, long off, int sb, int count, float[] dst, int at, float[] ds,
                int dAt) {
            for (int s = 0; s < count; s++) {
                long bo = off + (long) (sb + s) * BLOCK;
                int sc03 = scales0to3(w, bo);
                int sc47 = scales4to7(w, bo);
                ds[dAt + s] = Halfs.f16ToFloat(w.get(HALF, bo));
                for (int c = 0; c < 4; c++) {
                    IntVector v = IntVector.fromMemorySegment(I, w, bo + 16 + 32L * c, LE);
                    FloatVector scaleLo = FloatVector.broadcast(F, pick(sc03, sc47, 2 * c));
                    FloatVector scaleHi = FloatVector.broadcast(F, pick(sc03, sc47, 2 * c + 1));
                    int y = at + 256 * s + 64 * c;
                    // byte k of every lane, the run shifted right by 8 per turn; carried round the loop as a float
                    // vector's bits, since an IntVector loop variable boxes under the slow-mode trigger (Constants256)
                    FloatVector bits = (FloatVector) v.reinterpretShape(F, 0);
                    for (int k = 0; k < 4; k++) {
                        IntVector u = (IntVector) bits.reinterpretShape(I, 0);
                        ((FloatVector) u.lanewise(VectorOperators.AND, INT_NIBBLE)
                                .convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(VectorOperators.MUL, scaleLo).intoArray(dst, y + 8 * k);
                        ((FloatVector) u.lanewise(VectorOperators.LSHR, I4).lanewise(VectorOperators.AND, INT_NIBBLE)
                                .convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(VectorOperators.MUL, scaleHi).intoArray(dst, y + 32 + 8 * k);
                        bits = (FloatVector) u.lanewise(VectorOperators.LSHR, I8).reinterpretShape(F, 0);
                    }
                }
            }
        }
    }

    /** 128-bit lanes: ggml's lanes 0-3 and 4-7 as two accumulators, from bytes 0-15 and 16-31 of each quant run. */
    private static final class V128 {
        static final VectorSpecies<Integer> I = IntVector.SPECIES_128;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_128;

        static float dot(MemorySegment w, long off, int blocks, QuantizedInput in, int token) {
            float[] xl = in.lanes;
            FloatVector accA = FloatVector.zero(F);
            FloatVector accB = FloatVector.zero(F);
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                int db = token * blocks + sb;
                int sc03 = scales0to3(w, bo);
                int sc47 = scales4to7(w, bo);
                FloatVector sumA = FloatVector.zero(F);
                FloatVector sumB = FloatVector.zero(F);
                for (int c = 0; c < 4; c++) {
                    IntVector va = IntVector.fromMemorySegment(I, w, bo + 16 + 32L * c, LE);
                    IntVector vb = IntVector.fromMemorySegment(I, w, bo + 32 + 32L * c, LE);
                    for (int h = 0; h < 2; h++) {
                        float scale = pick(sc03, sc47, 2 * c + h);
                        int x = db * 256 + 64 * c + 32 * h;
                        FloatVector a = FloatVector.zero(F);
                        FloatVector b = FloatVector.zero(F);
                        for (int k = 0; k < 4; k++) {
                            int shift = 8 * k + 4 * h;
                            a = ((FloatVector) va.lanewise(VectorOperators.LSHR, shift).and(0xF)
                                    .convertShape(VectorOperators.I2F, F, 0))
                                    .fma(FloatVector.fromArray(F, xl, x + 8 * k), a);
                            b = ((FloatVector) vb.lanewise(VectorOperators.LSHR, shift).and(0xF)
                                    .convertShape(VectorOperators.I2F, F, 0))
                                    .fma(FloatVector.fromArray(F, xl, x + 8 * k + 4), b);
                        }
                        sumA = a.fma(FloatVector.broadcast(F, scale), sumA);
                        sumB = b.fma(FloatVector.broadcast(F, scale), sumB);
                    }
                }
                FloatVector d = FloatVector.broadcast(F, in.d[db] * Halfs.f16ToFloat(w.get(HALF, bo)));
                accA = sumA.fma(d, accA);
                accB = sumB.fma(d, accB);
            }
            return Q8_0Matrix.hsum8(accA.lane(0), accA.lane(1), accA.lane(2), accA.lane(3), accB.lane(0),
                    accB.lane(1), accB.lane(2), accB.lane(3));
        }
    }
}
