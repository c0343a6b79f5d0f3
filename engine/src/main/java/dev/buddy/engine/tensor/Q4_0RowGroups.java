package dev.buddy.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-token Q4_0 product of eight consecutive rows at once, in the order of llama.cpp's repacked
 * {@code ggml_gemv_q4_0_8x8_q8_0} (Q4_0 matrices of 8k rows): one float accumulator per row,
 * {@code acc = fma((float) blockSum, d_w * d_x, acc)} with the exact integer sum of each whole block. As in ggml, the
 * eight rows' accumulators are the eight lanes of one vector, so the scale product and the FMA are one vector
 * operation per block for all eight rows, lane for lane the scalar order.
 *
 * <p>The block sums are integer work, free to regroup, done in 16-bit lanes with wrap-around: the nibbles are
 * multiplied unbiased ({@code 0..15}) with the Q8_0 quants, and {@code 8 * sum(x)} is taken off at the end. Every
 * step is exact modulo 2^16 and the true sum {@code sum((q - 8) * x)} lies within {@code ±32 * 8 * 127 = ±32512},
 * so the final 16-bit value, sign-extended, is the exact sum. Per row and block that is one widening load, a mask,
 * a shift, two 16-bit multiplies and an add; the eight rows' 16 partial sums are then folded into one vector of
 * eight sums by a transpose-and-add tree (pairs of rows merged at 16-, 32- and 64-bit granularity), which costs
 * about four vector operations per row instead of a full horizontal reduction per row.
 *
 * <p>The kernels read the weights in a row-group layout of their own ({@link #pack}), as llama.cpp's repacked
 * {@code block_q4_0x8} does, rather than GGUF's row after row: eight rows in eight places of the file are eight
 * streams a row apart, which this machine's prefetchers follow badly, and eight fp16 scales 1-2 KB apart can only be
 * converted one at a time. Packed, a group is one sequential stream and its eight scales are one 16-byte load,
 * widened to float in vector lanes exactly as {@link Float#float16ToFloat} for every finite half: the half's bits
 * moved to a float's sign, exponent and mantissa positions read as a float 2^112 too small (exact for normal and
 * subnormal halves alike, since the product is a power of two; {@link #packLanes}). A matrix with an infinite or NaN
 * scale is not packed ({@link #pack}). The widening is written out in every kernel: as a method, C2 declines to inline
 * it into their large loop bodies (NodeCountInliningCutoff) and the call then boxes a vector per block and runs the
 * Vector API's Java fallback, which made Llama-1B Q4_0 decode 1.3-1.8x slower than before the packing. Throwaway
 * harness, one thread, four 8192x2048 Q4_0 matrices (75 MB, past the caches), the old kernel on rows spread a group
 * apart against this one on the packed copy, identical bits: 8.7-8.9 against 10.9-11.4 GB/s, 1.25-1.31x in 30
 * alternated rounds.
 *
 * <p>On CPUs with 512-bit vectors the copy takes a second layout ({@link #packLanes}): within each block the eight
 * rows' quants are interleaved so that one 32-byte chunk holds four bytes of every row, one widened chunk meets all
 * eight rows, and the eight sums need no transpose (see {@link #dot8x512}).
 */
final class Q4_0RowGroups {
    private Q4_0RowGroups() {}

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** GGUF's {@code block_q4_0}: fp16 d, then qs[16]. */
    private static final int BLOCK = 18;
    /** Bytes of the quants of one row's block. */
    private static final int QUANTS = 16;
    /** Bytes of one block of a row group: eight fp16 scales, then the eight rows' quants. */
    static final int GROUP_BLOCK = 8 * BLOCK;

    /** Rows per group: the accumulator lanes of one 256-bit float vector. */
    static final int ROWS = 8;

    static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    static final VectorSpecies<Short> HALVES = ShortVector.SPECIES_128;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    /** 16-bit lanes 1, 3, 5, ...: the second row of a pair after the first merge. */
    static final VectorMask<Short> ODD_SHORTS = VectorMask.fromLong(S, 0xAAAAL);
    /** 32-bit lanes 1, 3, 5, 7: the second pair of rows after the second merge. */
    static final VectorMask<Integer> ODD_INTS = VectorMask.fromLong(I, 0xAAL);
    /** 32-bit lanes 2, 3, 6, 7: rows 4-7 after the third merge. */
    static final VectorMask<Integer> ODD_PAIRS = VectorMask.fromLong(I, 0xCCL);
    static final VectorShuffle<Integer> SWAP_INTS = VectorShuffle.fromValues(I, 1, 0, 3, 2, 5, 4, 7, 6);
    static final VectorShuffle<Integer> SWAP_PAIRS = VectorShuffle.fromValues(I, 2, 3, 0, 1, 6, 7, 4, 5);
    static final VectorShuffle<Integer> SWAP_HALVES = VectorShuffle.fromValues(I, 4, 5, 6, 7, 0, 1, 2, 3);

    /** {@code (lo + hi * 2^16) * (1 + 2^16)} leaves {@code lo + hi} (mod 2^16) in a 32-bit lane's high half. */
    static final int PAIR_SUM = 0x10001;

    /**
     * A copy of a Q4_0 matrix of {@code rows} rows (a multiple of 8) of {@code blocks} blocks in the row-group layout
     * ({@link RowGroupLayout}): group g (rows 8g..8g+7) starts at byte {@code g * 8 * rowBytes}, and its block b,
     * {@link #GROUP_BLOCK} bytes at {@code b * GROUP_BLOCK} within the group, holds the eight rows' fp16 scales (row
     * 8g+k at {@code 2k}) and then their quants (row 8g+k's 16 bytes at {@code 16 + 16k}), unchanged. Null, with the
     * original left in place, when a scale is an infinity or a NaN (exponent 31, which no quantiser writes): the
     * kernels widen the scales with a shortcut exact only for finite halves (see {@link #packLanes}), so such a matrix
     * stays row-wise and takes the float-lane kernels, which widen every half.
     */
    static MemorySegment pack(MemorySegment data, int rows, int blocks) {
        return pack(data, rows, blocks, false);
    }

    /**
     * A copy in the lane layout of the 512-bit kernels ({@link #dot8x512}, {@link #dotTokensx512}): group and block
     * places and the eight scales as in {@link #pack(MemorySegment, int, int)}, then the block's quants as four
     * 32-byte chunks, chunk k holding byte {@code 4k + q} of row 8g+r at {@code 32k + 8q + r}. Null, as for
     * {@link #pack(MemorySegment, int, int)}, when a scale is not finite.
     *
     * <p>The shortcut: a half sign-extended to 32 bits and shifted left by 13 has its exponent and mantissa in a
     * float's and its sign in bit 31; masked to those bits ({@code 0x8FFFE000}) it reads as a float exactly 2^-112
     * times the half, normal and subnormal alike, so one multiply by 2^112 finishes it: three operations where the
     * general widening (exponent 31 made a float's infinity or quiet NaN) takes fifteen. Both layouts' kernels use
     * it (the 256-bit ones since session 16).
     */
    static MemorySegment packLanes(MemorySegment data, int rows, int blocks) {
        return pack(data, rows, blocks, true);
    }

    private static MemorySegment pack(MemorySegment data, int rows, int blocks, boolean lanes) {
        return RowGroupLayout.pack(data, rows, blocks, BLOCK, 1, lanes);
    }

    /**
     * The row group at byte {@code off} of a {@link #pack packed} matrix against one token: writes rows 8g..8g+7 to
     * {@code out[outIndex .. outIndex+7]}.
     *
     * <p>{@link #dotTokens} with one token computes the same bits, but keeps its accumulators in memory across the
     * token loop; for decode that cost a third of the speed (spread rows, 8192x2048, one thread, quiet machine,
     * throwaway harness: 3.41 against 5.09 GB/s), so the single-token kernel stays a kernel of its own.
     *
     * @param xq the token's Q8_0 quants from {@code xo}
     * @param xd the token's block scales from {@code dOff}
     * @param xsum the token's block sums of quants from {@code dOff} ({@link QuantizedInput#blockSums})
     */
    static void dot8(MemorySegment w, long off, int blocks, short[] xq, int xo, float[] xd, int[] xsum, int dOff,
            float[] out, int outIndex) {
        // row k's quants of block b at o_k + b * GROUP_BLOCK
        long o0 = off + QUANTS;
        long o1 = o0 + QUANTS;
        long o2 = o1 + QUANTS;
        long o3 = o2 + QUANTS;
        long o4 = o3 + QUANTS;
        long o5 = o4 + QUANTS;
        long o6 = o5 + QUANTS;
        long o7 = o6 + QUANTS;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bb = (long) b * GROUP_BLOCK;
            int e = xo + b * 32;
            ShortVector xlo = ShortVector.fromArray(S, xq, e);
            ShortVector xhi = ShortVector.fromArray(S, xq, e + 16);
            // per row: 16 lanes, lane j = q_j * x_j + q_{j+16} * x_{j+16} (mod 2^16, nibbles unbiased), from the
            // byte b = q_j + 16 q_{j+16} as b * x_j + (b >> 4) * (x_{j+16} - 16 x_j), which saves masking b; then
            // each pair of lanes summed into the high half of its 32-bit lane
            ShortVector xhi16 = xhi.sub(xlo.lanewise(VectorOperators.LSHL, 4));
            ShortVector s0 = (ShortVector) ByteVector.fromMemorySegment(B, w, o0 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s1 = (ShortVector) ByteVector.fromMemorySegment(B, w, o1 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s2 = (ShortVector) ByteVector.fromMemorySegment(B, w, o2 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s3 = (ShortVector) ByteVector.fromMemorySegment(B, w, o3 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s4 = (ShortVector) ByteVector.fromMemorySegment(B, w, o4 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s5 = (ShortVector) ByteVector.fromMemorySegment(B, w, o5 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s6 = (ShortVector) ByteVector.fromMemorySegment(B, w, o6 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s7 = (ShortVector) ByteVector.fromMemorySegment(B, w, o7 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector p0 = s0.mul(xlo).add(s0.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                    .mul(PAIR_SUM);
            IntVector p1 = s1.mul(xlo).add(s1.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                    .mul(PAIR_SUM);
            IntVector p2 = s2.mul(xlo).add(s2.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                    .mul(PAIR_SUM);
            IntVector p3 = s3.mul(xlo).add(s3.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                    .mul(PAIR_SUM);
            IntVector p4 = s4.mul(xlo).add(s4.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                    .mul(PAIR_SUM);
            IntVector p5 = s5.mul(xlo).add(s5.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                    .mul(PAIR_SUM);
            IntVector p6 = s6.mul(xlo).add(s6.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                    .mul(PAIR_SUM);
            IntVector p7 = s7.mul(xlo).add(s7.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                    .mul(PAIR_SUM);
            // merge 1: the even row's pair sums moved to the low halves, the odd row's kept in the high halves
            IntVector c01 = p0.lanewise(VectorOperators.LSHR, 16).reinterpretAsShorts()
                    .blend(p1.reinterpretAsShorts(), ODD_SHORTS).reinterpretAsInts();
            IntVector c23 = p2.lanewise(VectorOperators.LSHR, 16).reinterpretAsShorts()
                    .blend(p3.reinterpretAsShorts(), ODD_SHORTS).reinterpretAsInts();
            IntVector c45 = p4.lanewise(VectorOperators.LSHR, 16).reinterpretAsShorts()
                    .blend(p5.reinterpretAsShorts(), ODD_SHORTS).reinterpretAsInts();
            IntVector c67 = p6.lanewise(VectorOperators.LSHR, 16).reinterpretAsShorts()
                    .blend(p7.reinterpretAsShorts(), ODD_SHORTS).reinterpretAsInts();
            // merge 2 (32-bit lanes): even lanes rows 0/1 (4/5), odd lanes rows 2/3 (6/7); adds in 16-bit lanes
            IntVector d0123 = c01.blend(c23, ODD_INTS).reinterpretAsShorts()
                    .add(c23.blend(c01, ODD_INTS).rearrange(SWAP_INTS).reinterpretAsShorts()).reinterpretAsInts();
            IntVector d4567 = c45.blend(c67, ODD_INTS).reinterpretAsShorts()
                    .add(c67.blend(c45, ODD_INTS).rearrange(SWAP_INTS).reinterpretAsShorts()).reinterpretAsInts();
            // merge 3 (64-bit lanes): 32-bit lanes 0-3 of each half hold rows 0/1, 2/3, 4/5, 6/7
            IntVector f = d0123.blend(d4567, ODD_PAIRS).reinterpretAsShorts()
                    .add(d4567.blend(d0123, ODD_PAIRS).rearrange(SWAP_PAIRS).reinterpretAsShorts())
                    .reinterpretAsInts();
            // halves added: 16-bit lane r holds row r's sum of unbiased products, then the bias taken off
            ShortVector sums = f.reinterpretAsShorts().add(f.rearrange(SWAP_HALVES).reinterpretAsShorts())
                    .sub((short) (8 * xsum[dOff + b]));
            FloatVector blockSums = (FloatVector) ((IntVector) sums.convertShape(VectorOperators.S2I, I, 0))
                    .convertShape(VectorOperators.I2F, F, 0);
            // the eight finite fp16 scales widened exactly as Float.float16ToFloat (see packLanes)
            IntVector h = (IntVector) ShortVector.fromMemorySegment(HALVES, w, off + bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            FloatVector d = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                    .mul(0x1p112f).mul(xd[dOff + b]);
            acc = blockSums.fma(d, acc);
        }
        acc.intoArray(out, outIndex);
    }

    static final VectorSpecies<Byte> PAIR_BYTES = ByteVector.SPECIES_256;
    static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    static final VectorSpecies<Long> L512 = LongVector.SPECIES_512;
    /** 64-bit lanes of the other 256-bit half: the first fold of {@link #dot8x512}'s four quarters. */
    static final VectorShuffle<Long> SWAP_HALVES_512 = VectorShuffle.fromOp(L512, i -> i ^ 4);
    /** 64-bit lanes of the other 128-bit quarter within a half: the second fold. */
    static final VectorShuffle<Long> SWAP_QUARTERS_512 = VectorShuffle.fromOp(L512, i -> i ^ 2);
    /** Two-vector lane indices (8 and up: the second vector): quarters 0, 1 of the first and 0, 1 of the second. */
    static final LongVector FIRST_QUARTERS = LongVector.fromArray(L512, new long[] {0, 1, 2, 3, 8, 9, 10, 11}, 0);
    /** Quarters 2, 3 of the first vector and 2, 3 of the second. */
    static final LongVector LAST_QUARTERS = LongVector.fromArray(L512, new long[] {4, 5, 6, 7, 12, 13, 14, 15}, 0);
    /**
     * {@code SPREAD_LOk} takes chunk k's low-nibble inputs out of a block's {@link QuantizedInput#nibblePairs},
     * {@code SPREAD_HIk} its high-nibble ones: lane {@code 8q + r} (row r's byte {@code 4k + q} in the
     * {@link #packLanes lane layout}) gets lane {@code 4k + q}, or {@code 16 + 4k + q}. Eight fields rather than an
     * array: an array element is not a compile-time constant to C2, and a shuffle of unknown class leaves the
     * permutation to the type profile of the Vector API's shared code.
     */
    static final VectorShuffle<Short> SPREAD_LO0 = spread(0, 0);
    static final VectorShuffle<Short> SPREAD_HI0 = spread(0, 16);
    static final VectorShuffle<Short> SPREAD_LO1 = spread(1, 0);
    static final VectorShuffle<Short> SPREAD_HI1 = spread(1, 16);
    static final VectorShuffle<Short> SPREAD_LO2 = spread(2, 0);
    static final VectorShuffle<Short> SPREAD_HI2 = spread(2, 16);
    static final VectorShuffle<Short> SPREAD_LO3 = spread(3, 0);
    static final VectorShuffle<Short> SPREAD_HI3 = spread(3, 16);

    private static VectorShuffle<Short> spread(int chunk, int high) {
        return VectorShuffle.fromOp(S512, i -> high + 4 * chunk + (i >> 3));
    }

    /**
     * {@link #dot8} for CPUs whose preferred vector is 512 bits (AVX-512), on the {@link #packLanes lane layout}: a
     * block's quants are four 32-byte chunks, chunk k holding byte {@code 4k + q} of row r at {@code 8q + r}, so one
     * widened chunk meets all eight rows and the four chunks' 16-bit products add up lane by lane; the eight row sums
     * are then the four 128-bit quarters added (two 64-bit lane swaps and two adds), where the row-major layout folds
     * 8 rows x 16 partial sums with blends, swaps and a multiply per row. Each chunk's inputs are one lane permutation
     * of the block's {@link QuantizedInput#nibblePairs} ({@link #SPREAD_LO0} and the others). The eight scales take three
     * operations instead of fifteen (see {@link #packLanes}). The block sums are the same exact integers (any grouping
     * is exact modulo 2^16, see the class comment) and the scale product and the FMA are {@link #dot8}'s, so every
     * result is {@link #dot8}'s bit for bit.
     *
     * <p>Measured against the row-major 512-bit kernel it replaces (JMH {@code KernelBenchmark.decode -p format=Q4_0},
     * 8192x2048, one thread): 1.14x with the row-major scale widening, 1.32x with the finite-scale one (1,830-1,840
     * against 1,390-1,398 ops/s). Reading the eight chunk inputs from a spread copy made once per token (eight times
     * the input, 512 bytes per block) instead of permuting them ran at 0.63x: those loads, not the permutations, were
     * the bottleneck.
     *
     * @param xp the token's {@link QuantizedInput#nibblePairs}, from 0
     * @param xd the token's block scales, from 0
     * @param xsum the token's block sums of quants, from 0
     */
    static void dot8x512(MemorySegment w, long off, int blocks, short[] xp, float[] xd, int[] xsum,
            float[] out, int outIndex) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bb = off + (long) b * GROUP_BLOCK;
            // the eight fp16 scales first: C2 inlines in bytecode order, and a plain call after the vector code
            // could fall past NodeCountInliningCutoff (see the class comment)
            IntVector h = (IntVector) ShortVector.fromMemorySegment(HALVES, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            ShortVector c0 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector c1 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS + 32, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector c2 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS + 64, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector c3 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS + 96, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector p = ShortVector.fromArray(S512, xp, b * 32);
            ShortVector s01 = c0.mul(p.rearrange(SPREAD_LO0))
                    .add(c0.lanewise(VectorOperators.LSHR, 4).mul(p.rearrange(SPREAD_HI0)))
                    .add(c1.mul(p.rearrange(SPREAD_LO1)))
                    .add(c1.lanewise(VectorOperators.LSHR, 4).mul(p.rearrange(SPREAD_HI1)));
            ShortVector s23 = c2.mul(p.rearrange(SPREAD_LO2))
                    .add(c2.lanewise(VectorOperators.LSHR, 4).mul(p.rearrange(SPREAD_HI2)))
                    .add(c3.mul(p.rearrange(SPREAD_LO3)))
                    .add(c3.lanewise(VectorOperators.LSHR, 4).mul(p.rearrange(SPREAD_HI3)));
            // the quarters added: 16-bit lane r holds row r's sum of unbiased products, then the bias taken off
            LongVector f = s01.add(s23).reinterpretAsLongs();
            f = f.reinterpretAsShorts().add(f.rearrange(SWAP_HALVES_512).reinterpretAsShorts()).reinterpretAsLongs();
            ShortVector sums = f.reinterpretAsShorts().add(f.rearrange(SWAP_QUARTERS_512).reinterpretAsShorts())
                    .sub((short) (8 * xsum[b]));
            FloatVector blockSums = (FloatVector) ((IntVector) sums.convertShape(VectorOperators.S2I, I, 0))
                    .convertShape(VectorOperators.I2F, F, 0);
            // the eight finite fp16 scales widened exactly as Float.float16ToFloat (see packLanes), written out
            // rather than a method for the reason in the class comment
            FloatVector dv = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                    .mul(0x1p112f).mul(xd[b]);
            acc = blockSums.fma(dv, acc);
        }
        acc.intoArray(out, outIndex);
    }

    /**
     * {@link #dotTokens} on the {@link #packLanes lane layout} (see {@link #dot8x512}): the four widened chunks and
     * their {@code >> 4} copies stay in registers across the token loop (AVX-512 has 32), and per token the block's
     * {@link QuantizedInput#nibblePairs} are spread chunk by chunk with one lane permutation each
     * ({@link #SPREAD_LO0} and the others). The block sums are the same exact integers and the scale product and the FMA are
     * {@link #dotTokens}'s, so every (row, token) result is {@link #dot8}'s bit for bit.
     *
     * @param xp the tokens' {@link QuantizedInput#nibblePairs} from {@code xo}
     */
    static void dotTokensx512(MemorySegment w, long off, int blocks, int tokens, short[] xp, int xo, float[] xd,
            int[] xsum, int dOff, float[] acc, float[] out, int outIndex, int outStride) {
        int cols = blocks * 32;
        java.util.Arrays.fill(acc, 0, 8 * tokens, 0f);
        for (int b = 0; b < blocks; b++) {
            long bb = off + (long) b * GROUP_BLOCK;
            IntVector h = (IntVector) ShortVector.fromMemorySegment(HALVES, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            ShortVector c0 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector c1 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS + 32, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector c2 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS + 64, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector c3 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS + 96, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector t0 = c0.lanewise(VectorOperators.LSHR, 4);
            ShortVector t1 = c1.lanewise(VectorOperators.LSHR, 4);
            ShortVector t2 = c2.lanewise(VectorOperators.LSHR, 4);
            ShortVector t3 = c3.lanewise(VectorOperators.LSHR, 4);
            // the eight finite fp16 scales widened exactly as Float.float16ToFloat (see packLanes)
            FloatVector dw = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                    .mul(0x1p112f);
            for (int k = 0; k < tokens; k++) {
                int db = dOff + k * blocks + b;
                // dot8x512's block sums, lane for lane (see there)
                ShortVector p = ShortVector.fromArray(S512, xp, xo + k * cols + b * 32);
                ShortVector s01 = c0.mul(p.rearrange(SPREAD_LO0)).add(t0.mul(p.rearrange(SPREAD_HI0)))
                        .add(c1.mul(p.rearrange(SPREAD_LO1))).add(t1.mul(p.rearrange(SPREAD_HI1)));
                ShortVector s23 = c2.mul(p.rearrange(SPREAD_LO2)).add(t2.mul(p.rearrange(SPREAD_HI2)))
                        .add(c3.mul(p.rearrange(SPREAD_LO3))).add(t3.mul(p.rearrange(SPREAD_HI3)));
                LongVector f = s01.add(s23).reinterpretAsLongs();
                f = f.reinterpretAsShorts().add(f.rearrange(SWAP_HALVES_512).reinterpretAsShorts())
                        .reinterpretAsLongs();
                ShortVector sums = f.reinterpretAsShorts().add(f.rearrange(SWAP_QUARTERS_512).reinterpretAsShorts())
                        .sub((short) (8 * xsum[db]));
                FloatVector blockSums = (FloatVector) ((IntVector) sums.convertShape(VectorOperators.S2I, I, 0))
                        .convertShape(VectorOperators.I2F, F, 0);
                blockSums.fma(dw.mul(xd[db]), FloatVector.fromArray(F, acc, 8 * k)).intoArray(acc, 8 * k);
            }
        }
        for (int k = 0; k < tokens; k++) {
            System.arraycopy(acc, 8 * k, out, outIndex + k * outStride, ROWS);
        }
    }

    /**
     * {@link #dotTokensx512} for two consecutive row groups (rows {@code 8g..8g+15}, the second group
     * {@code GROUP_BLOCK * blocks} bytes after the first): each token's eight spread inputs are permuted once and
     * met by both groups' widened chunks, so the permutations, one per chunk and nibble, are paid per two groups
     * instead of per group, and the two groups' quarter sums are folded together (two two-vector lane selections
     * and one swap, where two separate folds take four swaps). Each (row, token) result is {@link #dotTokensx512}'s:
     * the same exact 16-bit block sums, scale product and FMA. Group 0's accumulators are {@code acc[0, 8 * tokens)},
     * group 1's {@code acc[8 * MAX_TOKENS, ..)}; group 1's outputs start eight rows after group 0's.
     *
     * <p>Measured on an Intel Xeon (Emerald Rapids, AVX-512) VM, session 25: a throwaway harness over one 8192x2048
     * matrix and 64 tokens (one thread, the two kernels alternated 40 times in one JVM, identical bits) 35.9 against
     * 37.0 ms (1.03x); whole Llama-1B-shaped Q4_0 file, pp512 at two threads, seven alternated pairs of {@code buddy
     * bench -p 512 -n 0 -r 2}: median 1.035x (0.80-1.18, a noisy VM).
     */
    static void dotTokens2x512(MemorySegment w, long off, int blocks, int tokens, short[] xp, int xo, float[] xd,
            int[] xsum, int dOff, float[] acc, float[] out, int outIndex, int outStride) {
        int cols = blocks * 32;
        int second = 8 * MAX_TOKENS;
        long off1 = off + (long) blocks * GROUP_BLOCK;
        java.util.Arrays.fill(acc, 0, 8 * tokens, 0f);
        java.util.Arrays.fill(acc, second, second + 8 * tokens, 0f);
        for (int b = 0; b < blocks; b++) {
            long ba = off + (long) b * GROUP_BLOCK;
            long bb = off1 + (long) b * GROUP_BLOCK;
            IntVector ha = (IntVector) ShortVector.fromMemorySegment(HALVES, w, ba, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            IntVector hb = (IntVector) ShortVector.fromMemorySegment(HALVES, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            ShortVector a0 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, ba + QUANTS, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector a1 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, ba + QUANTS + 32, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector a2 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, ba + QUANTS + 64, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector a3 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, ba + QUANTS + 96, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector b0 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector b1 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS + 32, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector b2 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS + 64, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector b3 = (ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, w, bb + QUANTS + 96, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector ta0 = a0.lanewise(VectorOperators.LSHR, 4);
            ShortVector ta1 = a1.lanewise(VectorOperators.LSHR, 4);
            ShortVector ta2 = a2.lanewise(VectorOperators.LSHR, 4);
            ShortVector ta3 = a3.lanewise(VectorOperators.LSHR, 4);
            ShortVector tb0 = b0.lanewise(VectorOperators.LSHR, 4);
            ShortVector tb1 = b1.lanewise(VectorOperators.LSHR, 4);
            ShortVector tb2 = b2.lanewise(VectorOperators.LSHR, 4);
            ShortVector tb3 = b3.lanewise(VectorOperators.LSHR, 4);
            // the eight finite fp16 scales of each group widened exactly as Float.float16ToFloat (see packLanes)
            FloatVector dwa = ha.lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                    .mul(0x1p112f);
            FloatVector dwb = hb.lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                    .mul(0x1p112f);
            for (int k = 0; k < tokens; k++) {
                int db = dOff + k * blocks + b;
                ShortVector p = ShortVector.fromArray(S512, xp, xo + k * cols + b * 32);
                // each spread input meets both groups before the next is made
                ShortVector q = p.rearrange(SPREAD_LO0);
                ShortVector sa = a0.mul(q);
                ShortVector sb = b0.mul(q);
                q = p.rearrange(SPREAD_HI0);
                sa = sa.add(ta0.mul(q));
                sb = sb.add(tb0.mul(q));
                q = p.rearrange(SPREAD_LO1);
                sa = sa.add(a1.mul(q));
                sb = sb.add(b1.mul(q));
                q = p.rearrange(SPREAD_HI1);
                sa = sa.add(ta1.mul(q));
                sb = sb.add(tb1.mul(q));
                q = p.rearrange(SPREAD_LO2);
                sa = sa.add(a2.mul(q));
                sb = sb.add(b2.mul(q));
                q = p.rearrange(SPREAD_HI2);
                sa = sa.add(ta2.mul(q));
                sb = sb.add(tb2.mul(q));
                q = p.rearrange(SPREAD_LO3);
                sa = sa.add(a3.mul(q));
                sb = sb.add(b3.mul(q));
                q = p.rearrange(SPREAD_HI3);
                sa = sa.add(ta3.mul(q));
                sb = sb.add(tb3.mul(q));
                // both groups folded at once: quarters (a0+a2, a1+a3, b0+b2, b1+b3), then each half's two
                // quarters added, leaving group 0's eight sums in 16-bit lanes 0-7 and group 1's in lanes 16-23
                LongVector la = sa.reinterpretAsLongs();
                LongVector lb = sb.reinterpretAsLongs();
                LongVector f = FIRST_QUARTERS.selectFrom(la, lb).reinterpretAsShorts()
                        .add(LAST_QUARTERS.selectFrom(la, lb).reinterpretAsShorts()).reinterpretAsLongs();
                ShortVector sums = f.reinterpretAsShorts().add(f.rearrange(SWAP_QUARTERS_512).reinterpretAsShorts())
                        .sub((short) (8 * xsum[db]));
                FloatVector dx = FloatVector.broadcast(F, xd[db]);
                FloatVector blockSums = (FloatVector) ((IntVector) sums.convertShape(VectorOperators.S2I, I, 0))
                        .convertShape(VectorOperators.I2F, F, 0);
                blockSums.fma(dwa.mul(dx), FloatVector.fromArray(F, acc, 8 * k)).intoArray(acc, 8 * k);
                blockSums = (FloatVector) ((IntVector) sums.convertShape(VectorOperators.S2I, I, 2))
                        .convertShape(VectorOperators.I2F, F, 0);
                blockSums.fma(dwb.mul(dx), FloatVector.fromArray(F, acc, second + 8 * k))
                        .intoArray(acc, second + 8 * k);
            }
        }
        for (int k = 0; k < tokens; k++) {
            System.arraycopy(acc, 8 * k, out, outIndex + k * outStride, ROWS);
            System.arraycopy(acc, second + 8 * k, out, outIndex + ROWS + k * outStride, ROWS);
        }
    }

    /** Most tokens one {@link #dotTokens} call takes: the size of the per-thread accumulator scratch. */
    static final int MAX_TOKENS = 8;

    /**
     * The row group at {@code off} (as in {@link #dot8}) against {@code tokens} consecutive tokens at once, for
     * prompts: each weight block is loaded and widened once and then meets every token of the tile, so the weight
     * unpacking and the eight scales are paid once per tile instead of once per token. Per token the integer sums,
     * the bias correction, the scale product and the FMA are {@link #dot8}'s operations in {@link #dot8}'s order, so
     * every (row, token) result is {@link #dot8}'s bit for bit. The accumulators live in {@code acc} (eight lanes per
     * token) between blocks, which keeps the token loop a loop: a vector cannot be held in an array of locals, and an
     * L1 load and store per token and block is cheaper than spilling.
     *
     * <p>AVX2 has sixteen vector registers, so register pressure decides the speed: holding both the widened bytes
     * and their {@code >> 4} copies for all eight rows (sixteen vectors) across the token loop made the tile 1.1-1.6x
     * slower than shifting again per token, and each pair of rows is merged as soon as its sums exist rather than
     * after all eight (fewer live vectors; same operations, so the same bits).
     *
     * <p>Token k's quants start at {@code xo + k * 32 * blocks}, its block scales and sums at
     * {@code dOff + k * blocks}; its eight results go to {@code out[outIndex + k * outStride ..]}.
     *
     * @param tokens 1 to {@link #MAX_TOKENS}
     * @param acc scratch of at least {@code 8 * tokens} floats, owned by the calling thread
     */
    static void dotTokens(MemorySegment w, long off, int blocks, int tokens, short[] xq, int xo, float[] xd,
            int[] xsum, int dOff, float[] acc, float[] out, int outIndex, int outStride) {
        // row k's quants of block b at o_k + b * GROUP_BLOCK
        long o0 = off + QUANTS;
        long o1 = o0 + QUANTS;
        long o2 = o1 + QUANTS;
        long o3 = o2 + QUANTS;
        long o4 = o3 + QUANTS;
        long o5 = o4 + QUANTS;
        long o6 = o5 + QUANTS;
        long o7 = o6 + QUANTS;
        int cols = blocks * 32;
        java.util.Arrays.fill(acc, 0, 8 * tokens, 0f);
        for (int b = 0; b < blocks; b++) {
            long bb = (long) b * GROUP_BLOCK;
            ShortVector s0 = (ShortVector) ByteVector.fromMemorySegment(B, w, o0 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s1 = (ShortVector) ByteVector.fromMemorySegment(B, w, o1 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s2 = (ShortVector) ByteVector.fromMemorySegment(B, w, o2 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s3 = (ShortVector) ByteVector.fromMemorySegment(B, w, o3 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s4 = (ShortVector) ByteVector.fromMemorySegment(B, w, o4 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s5 = (ShortVector) ByteVector.fromMemorySegment(B, w, o5 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s6 = (ShortVector) ByteVector.fromMemorySegment(B, w, o6 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s7 = (ShortVector) ByteVector.fromMemorySegment(B, w, o7 + bb, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            // the eight finite fp16 scales widened exactly as Float.float16ToFloat (see packLanes)
            IntVector h = (IntVector) ShortVector.fromMemorySegment(HALVES, w, off + bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            FloatVector dw = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                    .mul(0x1p112f);
            for (int k = 0; k < tokens; k++) {
                int e = xo + k * cols + b * 32;
                int db = dOff + k * blocks + b;
                // dot8's block sums, lane for lane (see there)
                ShortVector xlo = ShortVector.fromArray(S, xq, e);
                ShortVector xhi16 = ShortVector.fromArray(S, xq, e + 16).sub(xlo.lanewise(VectorOperators.LSHL, 4));
                IntVector p0 = s0.mul(xlo).add(s0.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                        .mul(PAIR_SUM);
                IntVector p1 = s1.mul(xlo).add(s1.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                        .mul(PAIR_SUM);
                IntVector c01 = p0.lanewise(VectorOperators.LSHR, 16).reinterpretAsShorts()
                        .blend(p1.reinterpretAsShorts(), ODD_SHORTS).reinterpretAsInts();
                IntVector p2 = s2.mul(xlo).add(s2.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                        .mul(PAIR_SUM);
                IntVector p3 = s3.mul(xlo).add(s3.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                        .mul(PAIR_SUM);
                IntVector c23 = p2.lanewise(VectorOperators.LSHR, 16).reinterpretAsShorts()
                        .blend(p3.reinterpretAsShorts(), ODD_SHORTS).reinterpretAsInts();
                IntVector d0123 = c01.blend(c23, ODD_INTS).reinterpretAsShorts()
                        .add(c23.blend(c01, ODD_INTS).rearrange(SWAP_INTS).reinterpretAsShorts()).reinterpretAsInts();
                IntVector p4 = s4.mul(xlo).add(s4.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                        .mul(PAIR_SUM);
                IntVector p5 = s5.mul(xlo).add(s5.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                        .mul(PAIR_SUM);
                IntVector c45 = p4.lanewise(VectorOperators.LSHR, 16).reinterpretAsShorts()
                        .blend(p5.reinterpretAsShorts(), ODD_SHORTS).reinterpretAsInts();
                IntVector p6 = s6.mul(xlo).add(s6.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                        .mul(PAIR_SUM);
                IntVector p7 = s7.mul(xlo).add(s7.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts()
                        .mul(PAIR_SUM);
                IntVector c67 = p6.lanewise(VectorOperators.LSHR, 16).reinterpretAsShorts()
                        .blend(p7.reinterpretAsShorts(), ODD_SHORTS).reinterpretAsInts();
                IntVector d4567 = c45.blend(c67, ODD_INTS).reinterpretAsShorts()
                        .add(c67.blend(c45, ODD_INTS).rearrange(SWAP_INTS).reinterpretAsShorts()).reinterpretAsInts();
                IntVector f = d0123.blend(d4567, ODD_PAIRS).reinterpretAsShorts()
                        .add(d4567.blend(d0123, ODD_PAIRS).rearrange(SWAP_PAIRS).reinterpretAsShorts())
                        .reinterpretAsInts();
                ShortVector sums = f.reinterpretAsShorts().add(f.rearrange(SWAP_HALVES).reinterpretAsShorts())
                        .sub((short) (8 * xsum[db]));
                FloatVector blockSums = (FloatVector) ((IntVector) sums.convertShape(VectorOperators.S2I, I, 0))
                        .convertShape(VectorOperators.I2F, F, 0);
                blockSums.fma(dw.mul(xd[db]), FloatVector.fromArray(F, acc, 8 * k)).intoArray(acc, 8 * k);
            }
        }
        for (int k = 0; k < tokens; k++) {
            System.arraycopy(acc, 8 * k, out, outIndex + k * outStride, ROWS);
        }
    }
}
