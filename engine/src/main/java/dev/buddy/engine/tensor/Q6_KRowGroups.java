package dev.buddy.engine.tensor;

import static dev.buddy.engine.tensor.Constants512.HALF_BITS;
import static dev.buddy.engine.tensor.Constants512.HALF_SCALE;
import static dev.buddy.engine.tensor.Constants512.I13;
import static dev.buddy.engine.tensor.Constants512.I16;
import static dev.buddy.engine.tensor.Constants512.S4;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-token Q6_K products of sixteen consecutive rows at once on CPUs with 512-bit vectors, read from a row-group
 * copy made at load ({@link #pack}), in exactly the order of llama.cpp's AVX2 {@code ggml_vec_dot_q6_K_q8_K}
 * ({@link Q6_KMatrix#scalarDot}): per row and super-block, ggml's eight 32-bit lanes hold the exact integers
 * {@code sum scale * quad}, where quad j of each 32-element plane is the dot of its elements 4j..4j+3 (centred
 * quants {@code q - 32}) with the input, converted to float and FMA-accumulated with {@code d_x * d}; the row's result
 * is {@code hsum_float_8} of the lanes.
 *
 * <p>As in {@link Q8_0RowGroups} the sixteen rows are the lanes: each of ggml's lanes j is one accumulator vector
 * (row l in lane l), so {@code hsum_float_8} is seven vector adds for all sixteen rows and no scale is handled as a
 * scalar. A plane's quads are taken in pairs (j, j+4); for each pair the copy holds four 32-lane vectors W_e (lane
 * 2l + g: element 4(j + 4g) + e of row l) in three bytes a lane, 6 bits each of W_0, W_1 and W_2 with two bits of W_3
 * on top ({@link #packLane}), so that one zero-extending widening and one mask give each of the first three and five
 * operations the fourth. Times the input quants broadcast as 32-bit pairs ({@link QuantizedInput#q6kPairs}) and added
 * in 16 bits, the raw quads (quants 0..63, at most {@code 4 * 63 * 128}) fit, and so does the centred quad after
 * subtracting {@code 32 *} the input's quad sum (at most {@code 4 * 32 * 128} in magnitude, exact in 16-bit
 * wrap-around); the two halves of each 32-bit lane, sign-extended, are quads j and j+4 of row l. Those are converted to
 * float and FMA'd with the 16 rows' scales into one float sum per lane: every partial sum is an integer of at most
 * {@code 8 * 128 * 4 * 32 * 128 = 2^24} in magnitude, exact in float, so each lane ends the super-block holding
 * ggml's integer, which the FMA with {@code d_x * d} then treats exactly as ggml's converted lane.
 *
 * <p>The copy is the size of the original: per group super-block the sixteen fp16 d (32 bytes), the sixteen rows'
 * sixteen scales (scale i of row l at {@code 32 + 16 i + l}), then eight planes of four quad pairs of three 32-byte
 * vectors ({@link #planeAt}). A matrix with an infinite or NaN d is not packed.
 */
final class Q6_KRowGroups {
    private Q6_KRowGroups() {}

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    /** Rows per group: the lanes of one 512-bit float vector. */
    static final int ROWS = 16;
    /** GGUF's {@code block_q6_K}: ql[128], qh[64], scales[16], fp16 d. */
    static final int BLOCK = 210;
    /** Bytes of one super-block of a row group. */
    static final int GROUP_BLOCK = ROWS * BLOCK;
    /** Where a group super-block's scales start. */
    static final int SCALES_AT = 2 * ROWS;
    /** Where a group super-block's quant vectors start. */
    static final int QUANTS_AT = SCALES_AT + 16 * ROWS;
    /** Ints of {@link QuantizedInput#q6kPairs} per plane: four quad pairs of four element pairs, then four sums. */
    static final int PLANE_PAIRS = 20;
    /** Ints of {@link QuantizedInput#q6kPairs} per super-block. */
    static final int PAIRS = 8 * PLANE_PAIRS;

    static final VectorSpecies<Byte> CHUNK = ByteVector.SPECIES_256;
    static final VectorSpecies<Byte> SCALE_BYTES = ByteVector.SPECIES_128;
    static final VectorSpecies<Short> HEADER = ShortVector.SPECIES_256;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;

    // dot16's masks and shift counts, vector constants for the reason Constants512 gives
    private static final ShortVector LOW6 = ShortVector.broadcast(S, (short) 0x3F);
    private static final ShortVector BITS23 = ShortVector.broadcast(S, (short) 0x0C);
    private static final ShortVector BITS45 = ShortVector.broadcast(S, (short) 0x30);
    private static final ShortVector S2 = ShortVector.broadcast(S, (short) 2);
    private static final ShortVector S6 = ShortVector.broadcast(S, (short) 6);
    /** Q6_K's offset: a 6-bit quant q stands for q - 32. */
    private static final ShortVector CENTRE = ShortVector.broadcast(S, (short) 32);

    /** Where the three 32-byte vectors of quad pair {@code p} (quads p, p+4) of plane {@code c} start. */
    static int planeAt(int c, int p) {
        return QUANTS_AT + 384 * c + 96 * p;
    }

    /** The 6-bit quant of element {@code b} (0-31) of plane {@code c} (half c/4, plane c%4) in a GGUF super-block. */
    static int quant(byte[] block, int from, int c, int b) {
        int n = c >> 2;
        int k = c & 3;
        int ql = block[from + 64 * n + b + (k & 1) * 32] & 0xFF;
        int qh = block[from + 128 + 32 * n + b] & 0xFF;
        return ((k < 2 ? ql & 0xF : ql >> 4) | (((qh >> (2 * k)) & 3) << 4));
    }

    /** Byte {@code v} (0-2) of the three that hold lane quants {@code w0..w3}: w_v, with bits 2v, 2v+1 of w3 on top. */
    static int packLane(int v, int w0, int w1, int w2, int w3) {
        int low = v == 0 ? w0 : v == 1 ? w1 : w2;
        return low | (((w3 >> (2 * v)) & 3) << 6);
    }

    /**
     * The group copy of a Q6_K matrix of {@code rows} rows (a multiple of 16) of {@code blocks} super-blocks, or null
     * when a d is not finite; the mapped original is unloaded once copied ({@link RowGroupLayout#copyGroups}).
     */
    static MemorySegment pack(MemorySegment data, int rows, int blocks) {
        int rowBytes = blocks * BLOCK;
        return RowGroupLayout.copyGroups(data, rows, rowBytes, ROWS, ROWS * rowBytes, 16, (group, out) -> {
            boolean finite = true;
            int[] w = new int[4];
            for (int sb = 0; sb < blocks; sb++) {
                int to = sb * GROUP_BLOCK;
                for (int l = 0; l < ROWS; l++) {
                    int from = l * rowBytes + sb * BLOCK;
                    out[to + 2 * l] = group[from + 208];
                    out[to + 2 * l + 1] = group[from + 209];
                    finite &= RowGroupLayout.isFinite(group[from + 209]);
                    for (int i = 0; i < 16; i++) {
                        out[to + SCALES_AT + 16 * i + l] = group[from + 192 + i];
                    }
                    for (int c = 0; c < 8; c++) {
                        for (int p = 0; p < 4; p++) {
                            for (int g = 0; g < 2; g++) {
                                for (int e = 0; e < 4; e++) {
                                    w[e] = quant(group, from, c, 4 * (p + 4 * g) + e);
                                }
                                for (int v = 0; v < 3; v++) {
                                    out[to + planeAt(c, p) + 32 * v + 2 * l + g] =
                                            (byte) packLane(v, w[0], w[1], w[2], w[3]);
                                }
                            }
                        }
                    }
                }
            }
            return finite;
        });
    }

    /**
     * Fills {@code pairs[to ..]} for {@code blocks} super-blocks of Q8_K input quants from {@code qs[from ..]}: per
     * plane c and quad pair p, element pair e is quant {@code 4p + e} (low half) and {@code 4p + 16 + e} (high half)
     * of the plane, then per quad pair 32 times the two quads' input sums in the same halves.
     */
    static void pairs(short[] qs, int from, int blocks, int[] pairs, int to) {
        for (int sb = 0; sb < blocks; sb++) {
            for (int c = 0; c < 8; c++) {
                int x = from + 256 * sb + 32 * c;
                int at = to + PAIRS * sb + PLANE_PAIRS * c;
                for (int p = 0; p < 4; p++) {
                    int lowSum = 0;
                    int highSum = 0;
                    for (int e = 0; e < 4; e++) {
                        int low = qs[x + 4 * p + e];
                        int high = qs[x + 4 * p + 16 + e];
                        pairs[at + 4 * p + e] = (low & 0xFFFF) | (high << 16);
                        lowSum += low;
                        highSum += high;
                    }
                    pairs[at + 16 + p] = ((32 * lowSum) & 0xFFFF) | ((32 * highSum) << 16);
                }
            }
        }
    }

    static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    /**
     * Two-vector short indices (32 and up: the second vector) that take quad pairs p, p+1 of rows 0-7 (the first
     * stage of the transpose in {@link #laneWeights16}): lane 4r + m is row r's quad p + m%2, half m/2.
     */
    static final ShortVector PAIRS_LOW_ROWS = transposeStage1(0);
    /** The same for rows 8-15. */
    static final ShortVector PAIRS_HIGH_ROWS = transposeStage1(8);
    /**
     * Two-vector short indices that take the stage-1 vectors of quad pairs 0-1 and 2-3 to four rows of eight quads in
     * ggml's lane order (lane 8r + j: quad j = p + 4g): rows 0-3 of the eight the stage-1 vectors hold.
     */
    static final ShortVector QUADS_FIRST_ROWS = transposeStage2(0);
    /** Rows 4-7 of the eight. */
    static final ShortVector QUADS_LAST_ROWS = transposeStage2(4);

    private static ShortVector transposeStage1(int firstRow) {
        short[] idx = new short[32];
        for (int r = 0; r < 8; r++) {
            for (int m = 0; m < 4; m++) {
                idx[4 * r + m] = (short) ((m % 2) * 32 + 2 * (firstRow + r) + m / 2);
            }
        }
        return ShortVector.fromArray(S, idx, 0);
    }

    private static ShortVector transposeStage2(int firstRow) {
        short[] idx = new short[32];
        for (int r = 0; r < 4; r++) {
            for (int j = 0; j < 8; j++) {
                int p = j % 4;
                int g = j / 4;
                idx[8 * r + j] = (short) ((p / 2) * 32 + 4 * (firstRow + r) + (p % 2) + 2 * g);
            }
        }
        return ShortVector.fromArray(S, idx, 0);
    }

    /** Per thread, one plane's transposed quants ({@link #laneWeights16}): 16 vectors of four rows' eight quads. */
    private static final ThreadLocal<short[]> PLANE = ThreadLocal.withInitial(() -> new short[16 * 32]);

    /**
     * Super-blocks {@code [sb, sb + count)} of the sixteen rows of the group at byte {@code off}, as exact integer
     * weights {@code (q - 32) * scale} in ggml's lane order ({@link KQuantMatrix#laneWeights}): row l to
     * {@code dst[at + l * rowStride ..]}, its d as float to {@code ds[dAt + l * dStride + s]}. Per plane, each element
     * e of the quads is transposed from the four quad-pair vectors (lane 2l + g) in two stages of two-vector
     * permutations into four vectors of four rows' eight quads, centred and kept in a small per-thread array; then
     * every row's eight quads per element are widened, scaled and stored. Small methods with vectors only in locals:
     * as one method the transpose was too large for C1 ("out of virtual registers"), which left it interpreted, and
     * allocating, until C2 took it.
     */
    static void laneWeights16(MemorySegment w, long off, int sb, int count, float[] dst, int at, int rowStride,
            float[] ds, int dAt, int dStride) {
        short[] plane = PLANE.get();
        for (int s = 0; s < count; s++) {
            long bb = off + (long) (sb + s) * GROUP_BLOCK;
            for (int l = 0; l < ROWS; l++) {
                ds[dAt + l * dStride + s] = Halfs.f16ToFloat(w.get(HALF, bb + 2L * l));
            }
            for (int c = 0; c < 8; c++) {
                long q = bb + QUANTS_AT + 384L * c;
                for (int e = 0; e < 3; e++) {
                    transposeLowElement(w, q, e, plane);
                }
                transposeTopElement(w, q, plane);
                storePlane(plane, w, bb + SCALES_AT + 32L * c, dst, at + 256 * s + 32 * c, rowStride);
            }
        }
    }

    /** Element {@code e} (0-2: the low six bits of a lane's byte e) of a plane's quads, transposed to {@code plane}. */
    private static void transposeLowElement(MemorySegment w, long q, int e, short[] plane) {
        // Vector API calls only of the kind this method's own call sites dispatch (see Constants512)
        ShortVector w0 = ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 32L * e, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.AND, LOW6);
        ShortVector w1 = ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 96 + 32L * e, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.AND, LOW6);
        ShortVector w2 = ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 192 + 32L * e, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.AND, LOW6);
        ShortVector w3 = ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 288 + 32L * e, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.AND, LOW6);
        ShortVector xLow = PAIRS_LOW_ROWS.selectFrom(w0, w1);
        ShortVector xHigh = PAIRS_HIGH_ROWS.selectFrom(w0, w1);
        ShortVector yLow = PAIRS_LOW_ROWS.selectFrom(w2, w3);
        ShortVector yHigh = PAIRS_HIGH_ROWS.selectFrom(w2, w3);
        int to = 128 * e;
        QUADS_FIRST_ROWS.selectFrom(xLow, yLow).lanewise(VectorOperators.SUB, CENTRE).intoArray(plane, to);
        QUADS_LAST_ROWS.selectFrom(xLow, yLow).lanewise(VectorOperators.SUB, CENTRE).intoArray(plane, to + 32);
        QUADS_FIRST_ROWS.selectFrom(xHigh, yHigh).lanewise(VectorOperators.SUB, CENTRE).intoArray(plane, to + 64);
        QUADS_LAST_ROWS.selectFrom(xHigh, yHigh).lanewise(VectorOperators.SUB, CENTRE).intoArray(plane, to + 96);
    }

    /**
     * Element 3 of a plane's quads (bit pairs on top of the lane's three bytes), transposed to {@code plane}: each quad
     * pair's element is bits 6-7 of its three bytes, in that order from the bottom. Written out four times, since a
     * helper returning the vector was not inlined and boxed it (session 38).
     */
    private static void transposeTopElement(MemorySegment w, long q, short[] plane) {
        ShortVector w0 = ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S6)
                .lanewise(VectorOperators.OR, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 32, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S4)
                        .lanewise(VectorOperators.AND, BITS23))
                .lanewise(VectorOperators.OR, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 64, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S2)
                        .lanewise(VectorOperators.AND, BITS45));
        ShortVector w1 = ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 96, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S6)
                .lanewise(VectorOperators.OR, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 128, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S4)
                        .lanewise(VectorOperators.AND, BITS23))
                .lanewise(VectorOperators.OR, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 160, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S2)
                        .lanewise(VectorOperators.AND, BITS45));
        ShortVector xLow = PAIRS_LOW_ROWS.selectFrom(w0, w1);
        ShortVector xHigh = PAIRS_HIGH_ROWS.selectFrom(w0, w1);
        w0 = ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 192, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S6)
                .lanewise(VectorOperators.OR, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 224, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S4)
                        .lanewise(VectorOperators.AND, BITS23))
                .lanewise(VectorOperators.OR, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 256, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S2)
                        .lanewise(VectorOperators.AND, BITS45));
        w1 = ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 288, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S6)
                .lanewise(VectorOperators.OR, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 320, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S4)
                        .lanewise(VectorOperators.AND, BITS23))
                .lanewise(VectorOperators.OR, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 352, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, S2)
                        .lanewise(VectorOperators.AND, BITS45));
        ShortVector yLow = PAIRS_LOW_ROWS.selectFrom(w0, w1);
        ShortVector yHigh = PAIRS_HIGH_ROWS.selectFrom(w0, w1);
        QUADS_FIRST_ROWS.selectFrom(xLow, yLow).lanewise(VectorOperators.SUB, CENTRE).intoArray(plane, 384);
        QUADS_LAST_ROWS.selectFrom(xLow, yLow).lanewise(VectorOperators.SUB, CENTRE).intoArray(plane, 416);
        QUADS_FIRST_ROWS.selectFrom(xHigh, yHigh).lanewise(VectorOperators.SUB, CENTRE).intoArray(plane, 448);
        QUADS_LAST_ROWS.selectFrom(xHigh, yHigh).lanewise(VectorOperators.SUB, CENTRE).intoArray(plane, 480);
    }

    /**
     * The transposed plane ({@code plane}: element e, rows 4b..4b+3 at {@code 128 e + 32 b}, eight quads a row) as
     * floats times each quad's scale (quads 0-3 the plane's first, 4-7 its second; {@code sc}) to
     * {@code dst[at + l * rowStride + 8 e ..]}.
     */
    private static void storePlane(short[] plane, MemorySegment w, long sc, float[] dst, int at, int rowStride) {
        for (int l = 0; l < ROWS; l++) {
            FloatVector scales = FloatVector.broadcast(F8, (float) w.get(ValueLayout.JAVA_BYTE, sc + l))
                    .blend(FloatVector.broadcast(F8, (float) w.get(ValueLayout.JAVA_BYTE, sc + 16 + l)), UPPER_HALF);
            int from = 32 * (l >> 2) + 8 * (l & 3);
            int to = at + l * rowStride;
            for (int e = 0; e < 4; e++) {
                ((FloatVector) ShortVector.fromArray(ROW_QUADS, plane, from + 128 * e)
                        .convertShape(VectorOperators.S2I, I8, 0).convertShape(VectorOperators.I2F, F8, 0))
                        .lanewise(VectorOperators.MUL, scales).intoArray(dst, to + 8 * e);
            }
        }
    }

    /** One row's eight quads of one element. */
    static final VectorSpecies<Short> ROW_QUADS = ShortVector.SPECIES_128;

    /** Float lanes 4-7 of eight: the quads that take a plane's second scale. */
    static final jdk.incubator.vector.VectorMask<Float> UPPER_HALF =
            jdk.incubator.vector.VectorMask.fromLong(F8, 0xF0L);

    /**
     * The row group at byte {@code off} of a {@link #pack packed} matrix against one token: its sixteen rows to
     * {@code out[outIndex .. outIndex+15]}, each {@link Q6_KMatrix#scalarDot}'s bits (see the class comment).
     *
     * @param xp the tokens' {@link QuantizedInput#q6kPairs}, this token's from {@code xpo}
     * @param xd the tokens' super-block scales, this token's from {@code dOff}
     */
    static void dot16(MemorySegment w, long off, int blocks, int[] xp, int xpo, float[] xd, int dOff, float[] out,
            int outIndex) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        // vectors only in locals: a vector handed to a call C2 does not inline is boxed
        for (int sb = 0; sb < blocks; sb++) {
            long bb = off + (long) sb * GROUP_BLOCK;
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = FloatVector.zero(F);
            FloatVector s2 = FloatVector.zero(F);
            FloatVector s3 = FloatVector.zero(F);
            FloatVector s4 = FloatVector.zero(F);
            FloatVector s5 = FloatVector.zero(F);
            FloatVector s6 = FloatVector.zero(F);
            FloatVector s7 = FloatVector.zero(F);
            for (int c = 0; c < 8; c++) {
                int x = xpo + PAIRS * sb + PLANE_PAIRS * c;
                // the plane's two 16-element scales of the sixteen rows: quads 0-3 take the first, 4-7 the second
                FloatVector sa = (FloatVector) ((IntVector) ByteVector.fromMemorySegment(SCALE_BYTES, w,
                        bb + SCALES_AT + 32 * c, LE).convertShape(VectorOperators.B2I, I, 0))
                        .convertShape(VectorOperators.I2F, F, 0);
                FloatVector sc = (FloatVector) ((IntVector) ByteVector.fromMemorySegment(SCALE_BYTES, w,
                        bb + SCALES_AT + 32 * c + 16, LE).convertShape(VectorOperators.B2I, I, 0))
                        .convertShape(VectorOperators.I2F, F, 0);
                long q = bb + QUANTS_AT + 384L * c;
                // quad pairs p and p+1 (quads p, p+4 and p+1, p+5) into s0, s4 and s1, s5, then the sums rotate by
                // two: after four pairs each is back in its place. Two pairs a turn: a one-pair loop (rotating by one)
                // compiled to code that parks general registers in xmm registers, four vmovq a turn, and ran 1.43-1.47x
                // slower in L2 (BENCHMARKS.md, session 40); four pairs written out exceed C2's inlining budget
                for (int p = 0; p < 4; p += 2) {
                    ShortVector v0a = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 96 * p, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector v1a = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 96 * p + 32, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector v2a = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 96 * p + 64, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    int xqa = x + 4 * p;
                    IntVector ta = (IntVector) v0a.lanewise(VectorOperators.AND, LOW6)
                            .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[xqa]).reinterpretShape(S, 0))
                            .lanewise(VectorOperators.ADD, v1a.lanewise(VectorOperators.AND, LOW6)
                                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[xqa + 1])
                                            .reinterpretShape(S, 0)))
                            .lanewise(VectorOperators.ADD, v2a.lanewise(VectorOperators.AND, LOW6)
                                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[xqa + 2])
                                            .reinterpretShape(S, 0)))
                            .lanewise(VectorOperators.ADD, v0a.lanewise(VectorOperators.LSHR, S6)
                                    .lanewise(VectorOperators.OR, v1a.lanewise(VectorOperators.LSHR, S4)
                                            .lanewise(VectorOperators.AND, BITS23))
                                    .lanewise(VectorOperators.OR, v2a.lanewise(VectorOperators.LSHR, S2)
                                            .lanewise(VectorOperators.AND, BITS45))
                                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[xqa + 3])
                                            .reinterpretShape(S, 0)))
                            .lanewise(VectorOperators.SUB,
                                    IntVector.broadcast(I, xp[x + 16 + p]).reinterpretShape(S, 0))
                            .reinterpretShape(I, 0);
                    FloatVector loa = ((FloatVector) ta.lanewise(VectorOperators.LSHL, I16)
                            .lanewise(VectorOperators.ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                            .lanewise(VectorOperators.FMA, sa, s0);
                    FloatVector hia = ((FloatVector) ta.lanewise(VectorOperators.ASHR, I16)
                            .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, sc, s4);
                    ShortVector v0b = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 96 * (p + 1), LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector v1b = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 96 * (p + 1) + 32, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector v2b = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, q + 96 * (p + 1) + 64, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    int xqb = x + 4 * (p + 1);
                    IntVector tb = (IntVector) v0b.lanewise(VectorOperators.AND, LOW6)
                            .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[xqb]).reinterpretShape(S, 0))
                            .lanewise(VectorOperators.ADD, v1b.lanewise(VectorOperators.AND, LOW6)
                                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[xqb + 1])
                                            .reinterpretShape(S, 0)))
                            .lanewise(VectorOperators.ADD, v2b.lanewise(VectorOperators.AND, LOW6)
                                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[xqb + 2])
                                            .reinterpretShape(S, 0)))
                            .lanewise(VectorOperators.ADD, v0b.lanewise(VectorOperators.LSHR, S6)
                                    .lanewise(VectorOperators.OR, v1b.lanewise(VectorOperators.LSHR, S4)
                                            .lanewise(VectorOperators.AND, BITS23))
                                    .lanewise(VectorOperators.OR, v2b.lanewise(VectorOperators.LSHR, S2)
                                            .lanewise(VectorOperators.AND, BITS45))
                                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[xqb + 3])
                                            .reinterpretShape(S, 0)))
                            .lanewise(VectorOperators.SUB,
                                    IntVector.broadcast(I, xp[x + 16 + p + 1]).reinterpretShape(S, 0))
                            .reinterpretShape(I, 0);
                    FloatVector lob = ((FloatVector) tb.lanewise(VectorOperators.LSHL, I16)
                            .lanewise(VectorOperators.ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                            .lanewise(VectorOperators.FMA, sa, s1);
                    FloatVector hib = ((FloatVector) tb.lanewise(VectorOperators.ASHR, I16)
                            .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, sc, s5);
                    s0 = s2;
                    s1 = s3;
                    s2 = loa;
                    s3 = lob;
                    s4 = s6;
                    s5 = s7;
                    s6 = hia;
                    s7 = hib;
                }
            }
            // the sixteen d widened exactly as Float.float16ToFloat for finite halves, times d_x: ggml's d
            FloatVector d = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(HEADER, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, I13)
                    .lanewise(VectorOperators.AND, HALF_BITS).reinterpretShape(F, 0))
                    .lanewise(VectorOperators.MUL, HALF_SCALE)
                    .lanewise(VectorOperators.MUL, FloatVector.broadcast(F, xd[dOff + sb]));
            a0 = s0.lanewise(VectorOperators.FMA, d, a0);
            a1 = s1.lanewise(VectorOperators.FMA, d, a1);
            a2 = s2.lanewise(VectorOperators.FMA, d, a2);
            a3 = s3.lanewise(VectorOperators.FMA, d, a3);
            a4 = s4.lanewise(VectorOperators.FMA, d, a4);
            a5 = s5.lanewise(VectorOperators.FMA, d, a5);
            a6 = s6.lanewise(VectorOperators.FMA, d, a6);
            a7 = s7.lanewise(VectorOperators.FMA, d, a7);
        }
        // hsum_float_8 per row: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))
        FloatVector s04 = a0.lanewise(VectorOperators.ADD, a4);
        FloatVector s26 = a2.lanewise(VectorOperators.ADD, a6);
        FloatVector s15 = a1.lanewise(VectorOperators.ADD, a5);
        FloatVector s37 = a3.lanewise(VectorOperators.ADD, a7);
        s04.lanewise(VectorOperators.ADD, s26).lanewise(VectorOperators.ADD, s15.lanewise(VectorOperators.ADD, s37))
                .intoArray(out, outIndex);
    }
}
