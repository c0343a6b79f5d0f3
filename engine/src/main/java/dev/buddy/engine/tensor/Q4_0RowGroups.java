package dev.buddy.engine.tensor;

import static dev.buddy.engine.tensor.Constants512.HALF_BITS;
import static dev.buddy.engine.tensor.Constants512.HALF_SCALE;
import static dev.buddy.engine.tensor.Constants512.I13;
import static dev.buddy.engine.tensor.Constants512.I16;
import static dev.buddy.engine.tensor.Constants512.S4;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.FMA;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.MUL;
import static jdk.incubator.vector.VectorOperators.SUB;

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
 * subnormal halves alike, since the product is a power of two; {@link #pack}). A matrix with an infinite or NaN
 * scale is not packed ({@link #pack}). The widening is written out in every kernel: as a method, C2 declines to inline
 * it into their large loop bodies (NodeCountInliningCutoff) and the call then boxes a vector per block and runs the
 * Vector API's Java fallback, which made Llama-1B Q4_0 decode 1.3-1.8x slower than before the packing. Throwaway
 * harness, one thread, four 8192x2048 Q4_0 matrices (75 MB, past the caches), the old kernel on rows spread a group
 * apart against this one on the packed copy, identical bits: 8.7-8.9 against 10.9-11.4 GB/s, 1.25-1.31x in 30
 * alternated rounds.
 *
 * <p>On CPUs with 512-bit vectors, matrices of 16k rows are copied into sixteen-row groups instead ({@link #pack16}):
 * the sixteen rows are the lanes of one 512-bit vector and each 32-byte chunk holds two quant bytes of every row, so a
 * widened chunk meets a broadcast pair of input quants with no lane permutation and the sixteen block sums need no
 * fold (see {@link #dot16}). Measured against the eight-row lane layout they replace (session 29; throwaway harness,
 * one thread, identical bits, medians of 9-15 alternated rounds on the Intel Xeon VM): decode 1.34x on four 8192x2048
 * matrices, 1.22x on four 2048x8192, 64-token prompts 1.73x on 8192x2048.
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

    /**
     * A copy of a Q4_0 matrix of {@code rows} rows (a multiple of 8) of {@code blocks} blocks in the row-group layout
     * ({@link RowGroupLayout}): group g (rows 8g..8g+7) starts at byte {@code g * 8 * rowBytes}, and its block b,
     * {@link #GROUP_BLOCK} bytes at {@code b * GROUP_BLOCK} within the group, holds the eight rows' fp16 scales (row
     * 8g+k at {@code 2k}) and then their quants (row 8g+k's 16 bytes at {@code 16 + 16k}), unchanged. Null, with the
     * original left in place, when a scale is an infinity or a NaN (exponent 31, which no quantiser writes): the
     * kernels widen the scales with a shortcut exact only for finite halves, so such a matrix stays row-wise and takes
     * the float-lane kernels, which widen every half.
     *
     * <p>The shortcut: a half sign-extended to 32 bits and shifted left by 13 has its exponent and mantissa in a
     * float's and its sign in bit 31; masked to those bits ({@code 0x8FFFE000}) it reads as a float exactly 2^-112
     * times the half, normal and subnormal alike, so one multiply by 2^112 finishes it: three operations where the
     * general widening (exponent 31 made a float's infinity or quiet NaN) takes fifteen. Every row-group kernel of
     * every format uses it.
     */
    static MemorySegment pack(MemorySegment data, int rows, int blocks) {
        return RowGroupLayout.pack(data, rows, blocks, BLOCK, 1, false);
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
            IntVector p0 = s0.mul(xlo).add(s0.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
            p0 = p0.lanewise(VectorOperators.ADD, p0.lanewise(VectorOperators.LSHL, Constants256.I16));
            IntVector p1 = s1.mul(xlo).add(s1.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
            p1 = p1.lanewise(VectorOperators.ADD, p1.lanewise(VectorOperators.LSHL, Constants256.I16));
            IntVector p2 = s2.mul(xlo).add(s2.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
            p2 = p2.lanewise(VectorOperators.ADD, p2.lanewise(VectorOperators.LSHL, Constants256.I16));
            IntVector p3 = s3.mul(xlo).add(s3.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
            p3 = p3.lanewise(VectorOperators.ADD, p3.lanewise(VectorOperators.LSHL, Constants256.I16));
            IntVector p4 = s4.mul(xlo).add(s4.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
            p4 = p4.lanewise(VectorOperators.ADD, p4.lanewise(VectorOperators.LSHL, Constants256.I16));
            IntVector p5 = s5.mul(xlo).add(s5.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
            p5 = p5.lanewise(VectorOperators.ADD, p5.lanewise(VectorOperators.LSHL, Constants256.I16));
            IntVector p6 = s6.mul(xlo).add(s6.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
            p6 = p6.lanewise(VectorOperators.ADD, p6.lanewise(VectorOperators.LSHL, Constants256.I16));
            IntVector p7 = s7.mul(xlo).add(s7.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
            p7 = p7.lanewise(VectorOperators.ADD, p7.lanewise(VectorOperators.LSHL, Constants256.I16));
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
            // the eight finite fp16 scales widened exactly as Float.float16ToFloat (see pack)
            IntVector h = (IntVector) ShortVector.fromMemorySegment(HALVES, w, off + bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            FloatVector d = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                    .mul(0x1p112f).mul(xd[dOff + b]);
            acc = blockSums.fma(d, acc);
        }
        acc.intoArray(out, outIndex);
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
            // the eight finite fp16 scales widened exactly as Float.float16ToFloat (see pack)
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
                IntVector p0 = s0.mul(xlo).add(s0.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
                p0 = p0.lanewise(VectorOperators.ADD, p0.lanewise(VectorOperators.LSHL, Constants256.I16));
                IntVector p1 = s1.mul(xlo).add(s1.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
                p1 = p1.lanewise(VectorOperators.ADD, p1.lanewise(VectorOperators.LSHL, Constants256.I16));
                IntVector c01 = p0.lanewise(VectorOperators.LSHR, 16).reinterpretAsShorts()
                        .blend(p1.reinterpretAsShorts(), ODD_SHORTS).reinterpretAsInts();
                IntVector p2 = s2.mul(xlo).add(s2.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
                p2 = p2.lanewise(VectorOperators.ADD, p2.lanewise(VectorOperators.LSHL, Constants256.I16));
                IntVector p3 = s3.mul(xlo).add(s3.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
                p3 = p3.lanewise(VectorOperators.ADD, p3.lanewise(VectorOperators.LSHL, Constants256.I16));
                IntVector c23 = p2.lanewise(VectorOperators.LSHR, 16).reinterpretAsShorts()
                        .blend(p3.reinterpretAsShorts(), ODD_SHORTS).reinterpretAsInts();
                IntVector d0123 = c01.blend(c23, ODD_INTS).reinterpretAsShorts()
                        .add(c23.blend(c01, ODD_INTS).rearrange(SWAP_INTS).reinterpretAsShorts()).reinterpretAsInts();
                IntVector p4 = s4.mul(xlo).add(s4.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
                p4 = p4.lanewise(VectorOperators.ADD, p4.lanewise(VectorOperators.LSHL, Constants256.I16));
                IntVector p5 = s5.mul(xlo).add(s5.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
                p5 = p5.lanewise(VectorOperators.ADD, p5.lanewise(VectorOperators.LSHL, Constants256.I16));
                IntVector c45 = p4.lanewise(VectorOperators.LSHR, 16).reinterpretAsShorts()
                        .blend(p5.reinterpretAsShorts(), ODD_SHORTS).reinterpretAsInts();
                IntVector p6 = s6.mul(xlo).add(s6.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
                p6 = p6.lanewise(VectorOperators.ADD, p6.lanewise(VectorOperators.LSHL, Constants256.I16));
                IntVector p7 = s7.mul(xlo).add(s7.lanewise(VectorOperators.LSHR, 4).mul(xhi16)).reinterpretAsInts();
                p7 = p7.lanewise(VectorOperators.ADD, p7.lanewise(VectorOperators.LSHL, Constants256.I16));
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

    /** Rows per group of the 512-bit kernels ({@link #dot16}): the lanes of one 512-bit float vector. */
    static final int ROWS16 = RowGroupLayout.PAIR_ROWS;
    /** Bytes of one block of a sixteen-row group: sixteen d, then eight chunks of 32 bytes. */
    static final int GROUP_BLOCK16 = ROWS16 * BLOCK;
    /** Where a sixteen-row group block's chunks start. */
    static final int QUANTS16_AT = 2 * ROWS16;
    /** Input pairs per block ({@link #pairs}): eight for the low nibbles, eight for the high ones. */
    static final int PAIRS = 16;

    static final VectorSpecies<Byte> CHUNK = ByteVector.SPECIES_256;
    static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;

    /** Where quant byte {@code j} of group row {@code l}'s block sits within its sixteen-row group block. */
    static int quantAt16(int l, int j) {
        return RowGroupLayout.pairQuantAt(1, l, j);
    }

    /**
     * The sixteen-row group copy of a Q4_0 matrix of {@code rows} rows (a multiple of 16) of {@code blocks} blocks
     * that {@link #dot16} and {@link #dotTokens16} read ({@link RowGroupLayout#packPairs16}: chunk u holds quant bytes
     * {@code 2u} and {@code 2u + 1} of every row), or null when a d is not finite (see {@link #pack}).
     */
    static MemorySegment pack16(MemorySegment data, int rows, int blocks) {
        return RowGroupLayout.packPairs16(data, rows, blocks, BLOCK, 1);
    }

    /**
     * Fills {@code pairs[to ..]} with the {@link #PAIRS} 32-bit input pairs per block of {@code blocks} blocks of Q8_0
     * quants from {@code qs[from ..]} that chunk u of a sixteen-row group meets: pair u is quants {@code 2u} (low
     * half) and {@code 2u + 1} (high half), for the low nibbles; pair {@code 8 + u} is {@code x_{16+2u} - 16 x_{2u}}
     * and {@code x_{17+2u} - 16 x_{2u+1}} (16-bit wrap-around), for the high ones. A widened byte
     * {@code q_lo + 16 q_hi} times {@code x_j}, plus {@code q_hi} times {@code x_{j+16} - 16 x_j}, is
     * {@code q_lo x_j + q_hi x_{j+16}}: the kernels never mask the low nibble.
     */
    static void pairs(short[] qs, int from, int blocks, int[] pairs, int to) {
        for (int b = 0; b < blocks; b++) {
            int e = from + 32 * b;
            int o = to + PAIRS * b;
            for (int u = 0; u < 8; u++) {
                int lo0 = qs[e + 2 * u];
                int lo1 = qs[e + 2 * u + 1];
                pairs[o + u] = (lo0 & 0xFFFF) | (lo1 << 16);
                pairs[o + 8 + u] = ((qs[e + 16 + 2 * u] - 16 * lo0) & 0xFFFF) | ((qs[e + 17 + 2 * u] - 16 * lo1) << 16);
            }
        }
    }

    /**
     * The sixteen-row group at byte {@code off} of a {@link #pack16} copy against one token: rows to
     * {@code out[outIndex .. outIndex+15]}, each {@link #dot8}'s bits, for CPUs with 512-bit vectors.
     *
     * <p>The rows are the sixteen 32-bit lanes. Chunk u widened to 32 16-bit lanes meets, in every 32-bit lane, the
     * token's input pair u (its low nibbles, one broadcast) and pair {@code 8 + u} (its high ones, after a shift), so
     * no lane is ever permuted. The eight chunks' products added in 16 bits leave in lane l row l's unbiased products
     * of its even elements in the low half and of its odd ones in the high half: each half is sixteen products of a
     * nibble (0-15) and a quant (at most 127 in magnitude), at most 30,480, exact. The halves are then added into the
     * high half ({@code u + (u << 16)}), the bias {@code 8 * sum(x)} taken off there, and the result sign-extended
     * down: exact, because the true block sum lies within {@code ±32 * 8 * 127}. One conversion and one FMA with
     * {@code d_w * d_x} per block, as in ggml's repacked gemv. About 60 vector operations per sixteen rows and block,
     * against about 45 per eight rows in the eight-row lane-layout kernel it replaced (session 29), which spread the
     * input to its chunks with eight lane permutations per block.
     *
     * @param xp the tokens' input pairs ({@link #pairs}), this token's from {@code xpo}
     * @param xd the tokens' block scales, this token's from {@code dOff}
     * @param xsum the tokens' block sums of quants, this token's from {@code dOff}
     */
    static void dot16(MemorySegment w, long off, int blocks, int[] xp, int xpo, float[] xd, int[] xsum, int dOff,
            float[] out, int outIndex) {
        FloatVector acc = FloatVector.zero(F512);
        // One loop body written out, vectors only in locals: a vector handed to a call C2 does not inline is boxed.
        for (int b = 0; b < blocks; b++) {
            long bb = off + (long) b * GROUP_BLOCK16;
            int p = xpo + PAIRS * b;
            // the sixteen finite fp16 d widened exactly as Float.float16ToFloat (see pack), times d_x
            FloatVector d = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(HALVES16, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I512, 0)).lanewise(LSHL, I13).lanewise(AND, HALF_BITS)
                    .reinterpretShape(F512, 0)).lanewise(MUL, HALF_SCALE).lanewise(MUL, FloatVector.broadcast(F512,
                    xd[dOff + b]));
            long c = bb + QUANTS16_AT;
            // two independent chains of 16-bit sums (chunks 0-3 and 4-7): integer sums, free to regroup
            ShortVector q = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector sa = q.lanewise(MUL, IntVector.broadcast(I512, xp[p]).reinterpretShape(S512, 0))
                    .lanewise(ADD, q.lanewise(LSHR, S4).lanewise(MUL, IntVector.broadcast(I512, xp[p + 8])
                            .reinterpretShape(S512, 0)));
            q = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 128, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector sb = q.lanewise(MUL, IntVector.broadcast(I512, xp[p + 4]).reinterpretShape(S512, 0))
                    .lanewise(ADD, q.lanewise(LSHR, S4).lanewise(MUL, IntVector.broadcast(I512, xp[p + 12])
                            .reinterpretShape(S512, 0)));
            q = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 32, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            sa = sa.lanewise(ADD, q.lanewise(MUL, IntVector.broadcast(I512, xp[p + 1]).reinterpretShape(S512, 0)))
                    .lanewise(ADD, q.lanewise(LSHR, S4).lanewise(MUL, IntVector.broadcast(I512, xp[p + 9])
                            .reinterpretShape(S512, 0)));
            q = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 160, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            sb = sb.lanewise(ADD, q.lanewise(MUL, IntVector.broadcast(I512, xp[p + 5]).reinterpretShape(S512, 0)))
                    .lanewise(ADD, q.lanewise(LSHR, S4).lanewise(MUL, IntVector.broadcast(I512, xp[p + 13])
                            .reinterpretShape(S512, 0)));
            q = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 64, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            sa = sa.lanewise(ADD, q.lanewise(MUL, IntVector.broadcast(I512, xp[p + 2]).reinterpretShape(S512, 0)))
                    .lanewise(ADD, q.lanewise(LSHR, S4).lanewise(MUL, IntVector.broadcast(I512, xp[p + 10])
                            .reinterpretShape(S512, 0)));
            q = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 192, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            sb = sb.lanewise(ADD, q.lanewise(MUL, IntVector.broadcast(I512, xp[p + 6]).reinterpretShape(S512, 0)))
                    .lanewise(ADD, q.lanewise(LSHR, S4).lanewise(MUL, IntVector.broadcast(I512, xp[p + 14])
                            .reinterpretShape(S512, 0)));
            q = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 96, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            sa = sa.lanewise(ADD, q.lanewise(MUL, IntVector.broadcast(I512, xp[p + 3]).reinterpretShape(S512, 0)))
                    .lanewise(ADD, q.lanewise(LSHR, S4).lanewise(MUL, IntVector.broadcast(I512, xp[p + 11])
                            .reinterpretShape(S512, 0)));
            q = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 224, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            sb = sb.lanewise(ADD, q.lanewise(MUL, IntVector.broadcast(I512, xp[p + 7]).reinterpretShape(S512, 0)))
                    .lanewise(ADD, q.lanewise(LSHR, S4).lanewise(MUL, IntVector.broadcast(I512, xp[p + 15])
                            .reinterpretShape(S512, 0)));
            IntVector u = (IntVector) sa.lanewise(ADD, sb).reinterpretShape(I512, 0);
            // the halves added in the high half, 8 * sum(x) taken off there, the exact sum sign-extended down
            IntVector sums = u.lanewise(ADD, u.lanewise(LSHL, I16))
                    .lanewise(SUB, IntVector.broadcast(I512, xsum[dOff + b] << 19)).lanewise(ASHR, I16);
            acc = ((FloatVector) sums.convertShape(VectorOperators.I2F, F512, 0)).lanewise(FMA, d, acc);
        }
        acc.intoArray(out, outIndex);
    }

    /** The sixteen fp16 d of a sixteen-row group block. */
    static final VectorSpecies<Short> HALVES16 = ShortVector.SPECIES_256;

    /**
     * {@link #dot16} against {@code tokens} consecutive tokens, for prompts: each block's eight widened chunks and
     * their {@code >> 4} copies are made once and stay in registers (AVX-512 has 32) across the token loop, which per
     * token is then sixteen broadcast multiplies and adds, the fold, one conversion and one FMA. The accumulators
     * live in {@code acc} (sixteen lanes per token) between blocks. Per token the operations are {@link #dot16}'s on
     * the same exact integers, so every (row, token) result is {@link #dot16}'s bit for bit.
     *
     * <p>Token k's input pairs start at {@code xpo + k * PAIRS * blocks}, its block scales and sums at
     * {@code dOff + k * blocks}; its sixteen results go to {@code out[outIndex + k * outStride ..]}.
     *
     * @param tokens 1 to {@link #MAX_TOKENS}
     * @param acc scratch of at least {@code 16 * tokens} floats, owned by the calling thread
     */
    static void dotTokens16(MemorySegment w, long off, int blocks, int tokens, int[] xp, int xpo, float[] xd,
            int[] xsum, int dOff, float[] acc, float[] out, int outIndex, int outStride) {
        java.util.Arrays.fill(acc, 0, ROWS16 * tokens, 0f);
        int tokenPairs = PAIRS * blocks;
        for (int b = 0; b < blocks; b++) {
            long bb = off + (long) b * GROUP_BLOCK16;
            long c = bb + QUANTS16_AT;
            FloatVector dw = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(HALVES16, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I512, 0)).lanewise(LSHL, I13).lanewise(AND, HALF_BITS)
                    .reinterpretShape(F512, 0)).lanewise(MUL, HALF_SCALE);
            ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 32, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector q2 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 64, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector q3 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 96, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector q4 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 128, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector q5 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 160, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector q6 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 192, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector q7 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 224, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector t0 = q0.lanewise(LSHR, S4);
            ShortVector t1 = q1.lanewise(LSHR, S4);
            ShortVector t2 = q2.lanewise(LSHR, S4);
            ShortVector t3 = q3.lanewise(LSHR, S4);
            ShortVector t4 = q4.lanewise(LSHR, S4);
            ShortVector t5 = q5.lanewise(LSHR, S4);
            ShortVector t6 = q6.lanewise(LSHR, S4);
            ShortVector t7 = q7.lanewise(LSHR, S4);
            for (int k = 0; k < tokens; k++) {
                int p = xpo + k * tokenPairs + PAIRS * b;
                int db = dOff + k * blocks + b;
                ShortVector sa = q0.lanewise(MUL, IntVector.broadcast(I512, xp[p]).reinterpretShape(S512, 0))
                        .lanewise(ADD, t0.lanewise(MUL, IntVector.broadcast(I512, xp[p + 8]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, q1.lanewise(MUL, IntVector.broadcast(I512, xp[p + 1]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, t1.lanewise(MUL, IntVector.broadcast(I512, xp[p + 9]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, q2.lanewise(MUL, IntVector.broadcast(I512, xp[p + 2]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, t2.lanewise(MUL, IntVector.broadcast(I512, xp[p + 10])
                                .reinterpretShape(S512, 0)))
                        .lanewise(ADD, q3.lanewise(MUL, IntVector.broadcast(I512, xp[p + 3]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, t3.lanewise(MUL, IntVector.broadcast(I512, xp[p + 11])
                                .reinterpretShape(S512, 0)));
                ShortVector sb = q4.lanewise(MUL, IntVector.broadcast(I512, xp[p + 4]).reinterpretShape(S512, 0))
                        .lanewise(ADD, t4.lanewise(MUL, IntVector.broadcast(I512, xp[p + 12])
                                .reinterpretShape(S512, 0)))
                        .lanewise(ADD, q5.lanewise(MUL, IntVector.broadcast(I512, xp[p + 5]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, t5.lanewise(MUL, IntVector.broadcast(I512, xp[p + 13])
                                .reinterpretShape(S512, 0)))
                        .lanewise(ADD, q6.lanewise(MUL, IntVector.broadcast(I512, xp[p + 6]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, t6.lanewise(MUL, IntVector.broadcast(I512, xp[p + 14])
                                .reinterpretShape(S512, 0)))
                        .lanewise(ADD, q7.lanewise(MUL, IntVector.broadcast(I512, xp[p + 7]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, t7.lanewise(MUL, IntVector.broadcast(I512, xp[p + 15])
                                .reinterpretShape(S512, 0)));
                IntVector u = (IntVector) sa.lanewise(ADD, sb).reinterpretShape(I512, 0);
                IntVector sums = u.lanewise(ADD, u.lanewise(LSHL, I16))
                        .lanewise(SUB, IntVector.broadcast(I512, xsum[db] << 19)).lanewise(ASHR, I16);
                ((FloatVector) sums.convertShape(VectorOperators.I2F, F512, 0))
                        .lanewise(FMA, dw.lanewise(MUL, FloatVector.broadcast(F512, xd[db])),
                                FloatVector.fromArray(F512, acc, ROWS16 * k))
                        .intoArray(acc, ROWS16 * k);
            }
        }
        for (int k = 0; k < tokens; k++) {
            System.arraycopy(acc, ROWS16 * k, out, outIndex + k * outStride, ROWS16);
        }
    }
}
