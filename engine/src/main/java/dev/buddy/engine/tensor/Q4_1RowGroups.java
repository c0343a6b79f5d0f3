package dev.buddy.engine.tensor;

import static dev.buddy.engine.tensor.Constants512.HALF_BITS;
import static dev.buddy.engine.tensor.Constants512.HALF_SCALE;
import static dev.buddy.engine.tensor.Constants512.I13;
import static dev.buddy.engine.tensor.Constants512.I16;
import static dev.buddy.engine.tensor.Constants512.NIBBLE;
import static dev.buddy.engine.tensor.Constants512.S4;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-token Q4_1 products of eight consecutive rows at once on CPUs with 512-bit vectors, read from a row-group
 * copy in the lane layout ({@link RowGroupLayout}, {@link #pack}), in exactly the order of llama.cpp's
 * {@code ggml_vec_dot_q4_1_q8_1} (which ggml does not repack, unlike Q4_0): per row and block, ggml's eight 32-bit
 * lanes hold the exact integer sums of elements 4j..4j+3 ("quads"), converted to float and FMA-accumulated with
 * {@code d_w * d_x}; {@code m_w * s_x} is FMA-accumulated on the side, and the row's result is {@code hsum_float_8} of
 * the lanes plus that sum. {@link LegacyQuantKernels#scalarDot} is the scalar transcription.
 *
 * <p>Here the eight rows are the lanes instead. A block's quants are four 32-byte chunks, chunk c holding byte
 * {@code 4c + q} of row r at {@code 8q + r}; byte j of a row holds element j in its low nibble and element j+16 in
 * its high one, so chunk c, widened to 32 16-bit lanes, meets quad c with its low nibbles and quad c+4 with its high
 * ones, for all eight rows. Each nibble plane is multiplied by the token's quants spread to match (one lane
 * permutation each, {@link #SPREAD_LO0} and the others), the two planes' 128-bit quarters are interleaved
 * (two two-vector permutations) and added in two steps, and lanes 0-15 then hold quad c of rows 0-7 and quad c+4 of
 * rows 0-7: one conversion to float and one FMA feed both. Four accumulators, one per chunk, hold ggml's lanes c and
 * c+4 of every row; {@code hsum_float_8} ({@code ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))}) is then three
 * vector adds for all eight rows. Sixteen-bit sums are exact: a quad is at most {@code 4 * 15 * 128 = 7680} in
 * magnitude. The eight d and eight m are one 32-byte load, widened with {@link Q4_0RowGroups#pack}'s shortcut for
 * finite halves (a matrix with an infinite or NaN d or m is not packed).
 *
 * <p>Per row and block that is about nine vector operations, against about thirteen and five scalar ones in the
 * two-row 256-bit kernel ({@link LegacyQuantKernels.V256#dotQ4_1Pair}) that it replaces on such CPUs. Since session
 * 29 matrices of 16k rows take sixteen-row groups instead ({@link #pack16}, {@link #dot16}: no lane permutation,
 * about 7.5 operations per row and block; 1.12-1.27x in a kernel harness), and this eight-row form serves the rest.
 */
final class Q4_1RowGroups {
    private Q4_1RowGroups() {}

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** GGUF's {@code block_q4_1}: fp16 d, fp16 m, then qs[16]. */
    static final int BLOCK = 20;
    /** Bytes of one block of a row group: eight d, eight m, then the eight rows' quants in four chunks. */
    static final int GROUP_BLOCK = RowGroupLayout.ROWS * BLOCK;
    /** Where a group block's quants start. */
    private static final int QUANTS_AT = 32;
    static final int ROWS = RowGroupLayout.ROWS;

    static final VectorSpecies<Byte> CHUNK = ByteVector.SPECIES_256;
    static final VectorSpecies<Short> HEADER = ShortVector.SPECIES_256;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final VectorSpecies<Long> L = LongVector.SPECIES_512;
    /**
     * Two-vector 64-bit lane indices (8 and up: the second vector): quarter 0 of the first, quarter 0 of the second,
     * quarter 1 of the first, quarter 1 of the second.
     */
    static final LongVector LOW_QUARTERS = LongVector.fromArray(L, new long[] {0, 1, 8, 9, 2, 3, 10, 11}, 0);
    /** Quarters 2 and 3 of the two vectors, interleaved the same way. */
    static final LongVector HIGH_QUARTERS = LongVector.fromArray(L, new long[] {4, 5, 12, 13, 6, 7, 14, 15}, 0);
    /**
     * {@code SPREAD_LOk} takes chunk k's low-nibble inputs out of a block's 32 input quants, {@code SPREAD_HIk} its
     * high-nibble ones: lane {@code 8q + r} (row r's byte {@code 4k + q} in the lane layout) gets lane {@code 4k + q},
     * or {@code 16 + 4k + q}. Eight fields rather than an array: an array element is not a compile-time constant to
     * C2, and a shuffle of unknown class leaves the permutation to the type profile of the Vector API's shared code.
     */
    static final VectorShuffle<Short> SPREAD_LO0 = spread(0, 0);
    static final VectorShuffle<Short> SPREAD_HI0 = spread(0, 16);
    static final VectorShuffle<Short> SPREAD_LO1 = spread(1, 0);
    static final VectorShuffle<Short> SPREAD_HI1 = spread(1, 16);
    static final VectorShuffle<Short> SPREAD_LO2 = spread(2, 0);
    static final VectorShuffle<Short> SPREAD_HI2 = spread(2, 16);
    static final VectorShuffle<Short> SPREAD_LO3 = spread(3, 0);
    static final VectorShuffle<Short> SPREAD_HI3 = spread(3, 16);

    /** 64-bit lanes of the other 256-bit half: the fold of a chunk's two quad planes. */
    static final VectorShuffle<Long> SWAP_HALVES = VectorShuffle.fromOp(L, i -> i ^ 4);

    private static VectorShuffle<Short> spread(int chunk, int high) {
        return VectorShuffle.fromOp(S, i -> high + 4 * chunk + (i >> 3));
    }

    /** Float lanes 0-7 (the eight d) in both halves. */
    static final VectorShuffle<Float> LOW_TWICE = VectorShuffle.fromOp(F, i -> i & 7);
    /** Float lanes of the other half. */
    static final VectorShuffle<Float> SWAP_FLOAT_HALVES = VectorShuffle.fromOp(F, i -> i ^ 8);

    /**
     * The lane-layout copy of a Q4_1 matrix of {@code rows} rows (a multiple of 8) of {@code blocks} blocks, or null
     * when a d or m is not finite ({@link RowGroupLayout#pack}).
     */
    static MemorySegment pack(MemorySegment data, int rows, int blocks) {
        return RowGroupLayout.pack(data, rows, blocks, BLOCK, 2, true);
    }

    /**
     * The row group at byte {@code off} of a {@link #pack packed} matrix against one token: rows 8g..8g+7 to
     * {@code out[outIndex .. outIndex+7]}, each {@link LegacyQuantKernels#scalarDot}'s bits (see the class comment).
     *
     * @param xq the tokens' Q8_1 quants, this token's from {@code xo}
     * @param xd the tokens' block scales, this token's from {@code dOff}
     * @param xs the tokens' block sums {@code d * sum(q)} (Q8_1's s), this token's from {@code dOff}
     */
    static void dot8(MemorySegment w, long off, int blocks, short[] xq, int xo, float[] xd, float[] xs, int dOff,
            float[] out, int outIndex) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        FloatVector mins = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bb = off + (long) b * GROUP_BLOCK;
            float dx = xd[dOff + b];
            float sx = xs[dOff + b];
            // lanes 0-7 the eight d, 8-15 the eight m, widened exactly as Float.float16ToFloat for finite halves
            FloatVector dm = ((IntVector) ShortVector.fromMemorySegment(HEADER, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000)
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector d = dm.rearrange(LOW_TWICE).mul(dx);
            // lanes 8-15: fma(m_w, s_x, mins) per row, ggml's summs; lanes 0-7 are never read
            mins = dm.fma(FloatVector.broadcast(F, sx), mins);
            ShortVector x = ShortVector.fromArray(S, xq, xo + b * 32);
            ShortVector c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, bb + QUANTS_AT, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            LongVector lo = c.and((short) 0x0F).mul(x.rearrange(SPREAD_LO0)).reinterpretAsLongs();
            LongVector hi = c.lanewise(VectorOperators.LSHR, 4).mul(x.rearrange(SPREAD_HI0))
                    .reinterpretAsLongs();
            LongVector u = LOW_QUARTERS.selectFrom(lo, hi).reinterpretAsShorts()
                    .add(HIGH_QUARTERS.selectFrom(lo, hi).reinterpretAsShorts()).reinterpretAsLongs();
            ShortVector quads = u.reinterpretAsShorts().add(u.rearrange(SWAP_HALVES).reinterpretAsShorts());
            acc0 = ((FloatVector) ((IntVector) quads.convertShape(VectorOperators.S2I, I, 0))
                    .convertShape(VectorOperators.I2F, F, 0)).fma(d, acc0);
            c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, bb + QUANTS_AT + 32, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            lo = c.and((short) 0x0F).mul(x.rearrange(SPREAD_LO1)).reinterpretAsLongs();
            hi = c.lanewise(VectorOperators.LSHR, 4).mul(x.rearrange(SPREAD_HI1)).reinterpretAsLongs();
            u = LOW_QUARTERS.selectFrom(lo, hi).reinterpretAsShorts()
                    .add(HIGH_QUARTERS.selectFrom(lo, hi).reinterpretAsShorts()).reinterpretAsLongs();
            quads = u.reinterpretAsShorts().add(u.rearrange(SWAP_HALVES).reinterpretAsShorts());
            acc1 = ((FloatVector) ((IntVector) quads.convertShape(VectorOperators.S2I, I, 0))
                    .convertShape(VectorOperators.I2F, F, 0)).fma(d, acc1);
            c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, bb + QUANTS_AT + 64, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            lo = c.and((short) 0x0F).mul(x.rearrange(SPREAD_LO2)).reinterpretAsLongs();
            hi = c.lanewise(VectorOperators.LSHR, 4).mul(x.rearrange(SPREAD_HI2)).reinterpretAsLongs();
            u = LOW_QUARTERS.selectFrom(lo, hi).reinterpretAsShorts()
                    .add(HIGH_QUARTERS.selectFrom(lo, hi).reinterpretAsShorts()).reinterpretAsLongs();
            quads = u.reinterpretAsShorts().add(u.rearrange(SWAP_HALVES).reinterpretAsShorts());
            acc2 = ((FloatVector) ((IntVector) quads.convertShape(VectorOperators.S2I, I, 0))
                    .convertShape(VectorOperators.I2F, F, 0)).fma(d, acc2);
            c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, bb + QUANTS_AT + 96, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            lo = c.and((short) 0x0F).mul(x.rearrange(SPREAD_LO3)).reinterpretAsLongs();
            hi = c.lanewise(VectorOperators.LSHR, 4).mul(x.rearrange(SPREAD_HI3)).reinterpretAsLongs();
            u = LOW_QUARTERS.selectFrom(lo, hi).reinterpretAsShorts()
                    .add(HIGH_QUARTERS.selectFrom(lo, hi).reinterpretAsShorts()).reinterpretAsLongs();
            quads = u.reinterpretAsShorts().add(u.rearrange(SWAP_HALVES).reinterpretAsShorts());
            acc3 = ((FloatVector) ((IntVector) quads.convertShape(VectorOperators.S2I, I, 0))
                    .convertShape(VectorOperators.I2F, F, 0)).fma(d, acc3);
        }
        // accumulator c holds ggml's lane c of each row in lanes 0-7 and its lane c+4 in lanes 8-15
        FloatVector p0 = acc0.add(acc0.rearrange(SWAP_FLOAT_HALVES));
        FloatVector p1 = acc1.add(acc1.rearrange(SWAP_FLOAT_HALVES));
        FloatVector p2 = acc2.add(acc2.rearrange(SWAP_FLOAT_HALVES));
        FloatVector p3 = acc3.add(acc3.rearrange(SWAP_FLOAT_HALVES));
        FloatVector sums = p0.add(p2).add(p1.add(p3)).add(mins.rearrange(SWAP_FLOAT_HALVES));
        ((FloatVector) sums.reinterpretShape(F8, 0)).intoArray(out, outIndex);
    }

    /** Rows per group of the sixteen-row kernel ({@link #dot16}): the lanes of one 512-bit float vector. */
    static final int ROWS16 = RowGroupLayout.PAIR_ROWS;
    /** Bytes of one block of a sixteen-row group: sixteen d, sixteen m, then eight chunks of 32 bytes. */
    static final int GROUP_BLOCK16 = ROWS16 * BLOCK;
    /** Where a sixteen-row group block's chunks start. */
    static final int QUANTS16_AT = 4 * ROWS16;

    /** Where quant byte {@code j} of group row {@code l}'s block sits within its sixteen-row group block. */
    static int quantAt16(int l, int j) {
        return RowGroupLayout.pairQuantAt(2, l, j);
    }

    /**
     * The sixteen-row group copy of a Q4_1 matrix of {@code rows} rows (a multiple of 16) of {@code blocks} blocks
     * that {@link #dot16} reads ({@link RowGroupLayout#packPairs16}: the sixteen d, the sixteen m, then chunk u holding
     * quant bytes {@code 2u} and {@code 2u + 1} of every row), or null when a d or m is not finite.
     */
    static MemorySegment pack16(MemorySegment data, int rows, int blocks) {
        return RowGroupLayout.packPairs16(data, rows, blocks, BLOCK, 2);
    }

    /**
     * The sixteen-row group at byte {@code off} of a {@link #pack16} copy against one token: rows to
     * {@code out[outIndex .. outIndex+15]}, each {@link LegacyQuantKernels#scalarDot}'s bits, for CPUs with 512-bit
     * vectors.
     *
     * <p>As in {@link Q8_0RowGroups#dot16}, the rows are the sixteen lanes and each of ggml's eight lanes j is one
     * accumulator vector, so {@code hsum_float_8} is seven vector adds for all sixteen rows. Chunks 2j and 2j+1 (bytes
     * 4j..4j+3 of every row) widened to 16-bit lanes give quad j with their low nibbles and quad j+4 with their high
     * ones: each nibble plane times the token's matching quant pairs (one 32-bit broadcast each, the pairs of
     * {@link QuantizedInput#q8Pairs}), the two chunks' products added in 16 bits (at most {@code 2 * 2 * 15 * 128}),
     * and the two halves of each 32-bit lane sign-extended and added are the quad of that row. The sixteen d and
     * sixteen m are two 32-byte loads widened with {@link Q4_0RowGroups#pack}'s shortcut for finite halves. About 120
     * vector operations per sixteen rows and block, against about nine per row in {@link #dot8}.
     *
     * <p>Session 36 tried {@link #dotTokens16}'s fold here (one shift fewer per quad): 1.04-1.09x in a kernel harness
     * but no change that whole-model decode on SmolLM2 could resolve, so this kernel keeps the form it was measured
     * in.
     *
     * @param xp the tokens' quant pairs ({@link QuantizedInput#q8Pairs}), this token's from {@code xpo}
     * @param xd the tokens' block scales, this token's from {@code dOff}
     * @param xs the tokens' block sums {@code d * sum(q)} (Q8_1's s), this token's from {@code dOff}
     */
    static void dot16(MemorySegment w, long off, int blocks, int[] xp, int xpo, float[] xd, float[] xs, int dOff,
            float[] out, int outIndex) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        FloatVector mins = FloatVector.zero(F);
        // One loop body written out, vectors only in locals: a vector handed to a call C2 does not inline is boxed.
        for (int b = 0; b < blocks; b++) {
            long bb = off + (long) b * GROUP_BLOCK16;
            int p = xpo + Q8_0RowGroups.PAIRS * b;
            // the sixteen d and m widened exactly as Float.float16ToFloat for finite halves; d times d_x
            FloatVector d = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(HEADER, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, I13)
                    .lanewise(VectorOperators.AND, HALF_BITS).reinterpretShape(F, 0))
                    .lanewise(VectorOperators.MUL, HALF_SCALE)
                    .lanewise(VectorOperators.MUL, FloatVector.broadcast(F, xd[dOff + b]));
            // fma(m_w, s_x, summs) per row, ggml's min term
            mins = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(HEADER, w, bb + 2 * ROWS16, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, I13)
                    .lanewise(VectorOperators.AND, HALF_BITS).reinterpretShape(F, 0))
                    .lanewise(VectorOperators.MUL, HALF_SCALE)
                    .lanewise(VectorOperators.FMA, FloatVector.broadcast(F, xs[dOff + b]), mins);
            long c = bb + QUANTS16_AT;
            ShortVector x0;
            ShortVector x1;
            ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 0, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 32, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            x0 = (ShortVector) IntVector.broadcast(I, xp[p + 0]).reinterpretShape(S, 0);
            x1 = (ShortVector) IntVector.broadcast(I, xp[p + 1]).reinterpretShape(S, 0);
            IntVector u = (IntVector) q0.lanewise(VectorOperators.AND, NIBBLE).lanewise(VectorOperators.MUL, x0)
                    .lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.AND, NIBBLE)
                            .lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
            a0 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a0);
            x0 = (ShortVector) IntVector.broadcast(I, xp[p + 8]).reinterpretShape(S, 0);
            x1 = (ShortVector) IntVector.broadcast(I, xp[p + 9]).reinterpretShape(S, 0);
            u = (IntVector) q0.lanewise(VectorOperators.LSHR, S4).lanewise(VectorOperators.MUL, x0)
                    .lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.LSHR, S4)
                            .lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
            a4 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a4);
            q0 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 64, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            q1 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 96, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            x0 = (ShortVector) IntVector.broadcast(I, xp[p + 2]).reinterpretShape(S, 0);
            x1 = (ShortVector) IntVector.broadcast(I, xp[p + 3]).reinterpretShape(S, 0);
            u = (IntVector) q0.lanewise(VectorOperators.AND, NIBBLE).lanewise(VectorOperators.MUL, x0)
                    .lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.AND, NIBBLE)
                            .lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
            a1 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a1);
            x0 = (ShortVector) IntVector.broadcast(I, xp[p + 10]).reinterpretShape(S, 0);
            x1 = (ShortVector) IntVector.broadcast(I, xp[p + 11]).reinterpretShape(S, 0);
            u = (IntVector) q0.lanewise(VectorOperators.LSHR, S4).lanewise(VectorOperators.MUL, x0)
                    .lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.LSHR, S4)
                            .lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
            a5 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a5);
            q0 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 128, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            q1 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 160, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            x0 = (ShortVector) IntVector.broadcast(I, xp[p + 4]).reinterpretShape(S, 0);
            x1 = (ShortVector) IntVector.broadcast(I, xp[p + 5]).reinterpretShape(S, 0);
            u = (IntVector) q0.lanewise(VectorOperators.AND, NIBBLE).lanewise(VectorOperators.MUL, x0)
                    .lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.AND, NIBBLE)
                            .lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
            a2 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a2);
            x0 = (ShortVector) IntVector.broadcast(I, xp[p + 12]).reinterpretShape(S, 0);
            x1 = (ShortVector) IntVector.broadcast(I, xp[p + 13]).reinterpretShape(S, 0);
            u = (IntVector) q0.lanewise(VectorOperators.LSHR, S4).lanewise(VectorOperators.MUL, x0)
                    .lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.LSHR, S4)
                            .lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
            a6 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a6);
            q0 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 192, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            q1 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 224, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            x0 = (ShortVector) IntVector.broadcast(I, xp[p + 6]).reinterpretShape(S, 0);
            x1 = (ShortVector) IntVector.broadcast(I, xp[p + 7]).reinterpretShape(S, 0);
            u = (IntVector) q0.lanewise(VectorOperators.AND, NIBBLE).lanewise(VectorOperators.MUL, x0)
                    .lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.AND, NIBBLE)
                            .lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
            a3 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a3);
            x0 = (ShortVector) IntVector.broadcast(I, xp[p + 14]).reinterpretShape(S, 0);
            x1 = (ShortVector) IntVector.broadcast(I, xp[p + 15]).reinterpretShape(S, 0);
            u = (IntVector) q0.lanewise(VectorOperators.LSHR, S4).lanewise(VectorOperators.MUL, x0)
                    .lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.LSHR, S4)
                            .lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
            a7 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a7);
        }
        // hsum_float_8 per row, ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)), plus summs
        FloatVector s04 = a0.lanewise(VectorOperators.ADD, a4);
        FloatVector s26 = a2.lanewise(VectorOperators.ADD, a6);
        FloatVector s15 = a1.lanewise(VectorOperators.ADD, a5);
        FloatVector s37 = a3.lanewise(VectorOperators.ADD, a7);
        s04.lanewise(VectorOperators.ADD, s26).lanewise(VectorOperators.ADD, s15.lanewise(VectorOperators.ADD, s37))
                .lanewise(VectorOperators.ADD, mins).intoArray(out, outIndex);
    }

    /** Floats of {@link #dotTokens16}'s scratch per token: ggml's eight lanes and the min sums, sixteen rows each. */
    static final int TILE_FLOATS16 = 9 * ROWS16;

    /**
     * {@link #dot16} against {@code tokens} consecutive tokens, for prompts: each block's eight chunks are widened
     * and split into their sixteen nibble planes once, and those stay in registers (AVX-512 has 32) across the token
     * loop, which per token is then sixteen broadcast multiplies, eight adds, the eight folds, conversions and FMAs,
     * and the min FMA. The fold adds a lane's two 16-bit halves in its high half ({@code u + (u << 16)}, whose high
     * half is their sum modulo 2^16) and shifts that down arithmetically, one shift fewer than {@link #dot16}'s
     * sign-extension of each half (shifts, 16-bit multiplies and conversions share one port on AVX-512 cores), and
     * exact all the same: a quad, at most {@code 4 * 15 * 128 = 7680} in magnitude, fits 16 bits. A token's nine
     * accumulators (ggml's eight lanes and the min sums, sixteen rows each) live in {@code acc} between blocks. Per
     * token the sums and their order are {@link #dot16}'s on the same exact integers, so every (row, token) result is
     * {@link #dot16}'s bit for bit. Measured (session 36, kernel harness, one thread, 64 tokens, thread CPU time,
     * medians of 15-21 alternated rounds, identical outputs): 1.31-1.49x {@link #dot16} token by token on 1536x576,
     * 1.53-1.61x on 576x1536; a fold that masks the high half and scales by 2^-16 after the conversion (one shift fewer
     * still, one more multiply) was 1.13x slower than this one. One token through the tile runs at 0.88x
     * {@link #dot16}, so single tokens keep {@link #dot16}.
     *
     * <p>Token k's quant pairs start at {@code xpo + k * PAIRS * blocks}, its block scales and sums at
     * {@code dOff + k * blocks}; its sixteen results go to {@code out[outIndex + k * outStride ..]}.
     *
     * @param tokens 1 to {@link RowGroupLayout#TILE_TOKENS}
     * @param acc scratch of at least {@code TILE_FLOATS16 * tokens} floats, owned by the calling thread
     */
    static void dotTokens16(MemorySegment w, long off, int blocks, int tokens, int[] xp, int xpo, float[] xd,
            float[] xs, int dOff, float[] acc, float[] out, int outIndex, int outStride) {
        java.util.Arrays.fill(acc, 0, TILE_FLOATS16 * tokens, 0f);
        int tokenPairs = Q8_0RowGroups.PAIRS * blocks;
        for (int b = 0; b < blocks; b++) {
            long bb = off + (long) b * GROUP_BLOCK16;
            FloatVector dw = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(HEADER, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, I13)
                    .lanewise(VectorOperators.AND, HALF_BITS).reinterpretShape(F, 0))
                    .lanewise(VectorOperators.MUL, HALF_SCALE);
            FloatVector mw = ((FloatVector) ((IntVector) ShortVector
                    .fromMemorySegment(HEADER, w, bb + 2 * ROWS16, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, I13)
                    .lanewise(VectorOperators.AND, HALF_BITS).reinterpretShape(F, 0))
                    .lanewise(VectorOperators.MUL, HALF_SCALE);
            long c = bb + QUANTS16_AT;
            ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 0, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 32, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q2 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 64, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q3 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 96, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q4 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 128, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q5 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 160, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q6 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 192, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q7 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 224, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector h0 = q0.lanewise(VectorOperators.LSHR, S4);
            ShortVector h1 = q1.lanewise(VectorOperators.LSHR, S4);
            ShortVector h2 = q2.lanewise(VectorOperators.LSHR, S4);
            ShortVector h3 = q3.lanewise(VectorOperators.LSHR, S4);
            ShortVector h4 = q4.lanewise(VectorOperators.LSHR, S4);
            ShortVector h5 = q5.lanewise(VectorOperators.LSHR, S4);
            ShortVector h6 = q6.lanewise(VectorOperators.LSHR, S4);
            ShortVector h7 = q7.lanewise(VectorOperators.LSHR, S4);
            q0 = q0.lanewise(VectorOperators.AND, NIBBLE);
            q1 = q1.lanewise(VectorOperators.AND, NIBBLE);
            q2 = q2.lanewise(VectorOperators.AND, NIBBLE);
            q3 = q3.lanewise(VectorOperators.AND, NIBBLE);
            q4 = q4.lanewise(VectorOperators.AND, NIBBLE);
            q5 = q5.lanewise(VectorOperators.AND, NIBBLE);
            q6 = q6.lanewise(VectorOperators.AND, NIBBLE);
            q7 = q7.lanewise(VectorOperators.AND, NIBBLE);
            for (int k = 0; k < tokens; k++) {
                int p = xpo + k * tokenPairs + Q8_0RowGroups.PAIRS * b;
                int db = dOff + k * blocks + b;
                int a = TILE_FLOATS16 * k;
                FloatVector d = dw.lanewise(VectorOperators.MUL, FloatVector.broadcast(F, xd[db]));
                mw.lanewise(VectorOperators.FMA, FloatVector.broadcast(F, xs[db]),
                        FloatVector.fromArray(F, acc, a + 8 * ROWS16)).intoArray(acc, a + 8 * ROWS16);
                IntVector u;
                ShortVector x0;
                ShortVector x1;
                x0 = (ShortVector) IntVector.broadcast(I, xp[p + 0]).reinterpretShape(S, 0);
                x1 = (ShortVector) IntVector.broadcast(I, xp[p + 1]).reinterpretShape(S, 0);
                u = (IntVector) q0.lanewise(VectorOperators.MUL, x0)
                        .lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
                ((FloatVector) u.lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.LSHL, I16))
                        .lanewise(VectorOperators.ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA, d, FloatVector.fromArray(F, acc, a))
                        .intoArray(acc, a);
                x0 = (ShortVector) IntVector.broadcast(I, xp[p + 2]).reinterpretShape(S, 0);
                x1 = (ShortVector) IntVector.broadcast(I, xp[p + 3]).reinterpretShape(S, 0);
                u = (IntVector) q2.lanewise(VectorOperators.MUL, x0)
                        .lanewise(VectorOperators.ADD, q3.lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
                ((FloatVector) u.lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.LSHL, I16))
                        .lanewise(VectorOperators.ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA, d, FloatVector.fromArray(F, acc, a + ROWS16))
                        .intoArray(acc, a + ROWS16);
                x0 = (ShortVector) IntVector.broadcast(I, xp[p + 4]).reinterpretShape(S, 0);
                x1 = (ShortVector) IntVector.broadcast(I, xp[p + 5]).reinterpretShape(S, 0);
                u = (IntVector) q4.lanewise(VectorOperators.MUL, x0)
                        .lanewise(VectorOperators.ADD, q5.lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
                ((FloatVector) u.lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.LSHL, I16))
                        .lanewise(VectorOperators.ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA, d, FloatVector.fromArray(F, acc, a + 2 * ROWS16))
                        .intoArray(acc, a + 2 * ROWS16);
                x0 = (ShortVector) IntVector.broadcast(I, xp[p + 6]).reinterpretShape(S, 0);
                x1 = (ShortVector) IntVector.broadcast(I, xp[p + 7]).reinterpretShape(S, 0);
                u = (IntVector) q6.lanewise(VectorOperators.MUL, x0)
                        .lanewise(VectorOperators.ADD, q7.lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
                ((FloatVector) u.lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.LSHL, I16))
                        .lanewise(VectorOperators.ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA, d, FloatVector.fromArray(F, acc, a + 3 * ROWS16))
                        .intoArray(acc, a + 3 * ROWS16);
                x0 = (ShortVector) IntVector.broadcast(I, xp[p + 8]).reinterpretShape(S, 0);
                x1 = (ShortVector) IntVector.broadcast(I, xp[p + 9]).reinterpretShape(S, 0);
                u = (IntVector) h0.lanewise(VectorOperators.MUL, x0)
                        .lanewise(VectorOperators.ADD, h1.lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
                ((FloatVector) u.lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.LSHL, I16))
                        .lanewise(VectorOperators.ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA, d, FloatVector.fromArray(F, acc, a + 4 * ROWS16))
                        .intoArray(acc, a + 4 * ROWS16);
                x0 = (ShortVector) IntVector.broadcast(I, xp[p + 10]).reinterpretShape(S, 0);
                x1 = (ShortVector) IntVector.broadcast(I, xp[p + 11]).reinterpretShape(S, 0);
                u = (IntVector) h2.lanewise(VectorOperators.MUL, x0)
                        .lanewise(VectorOperators.ADD, h3.lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
                ((FloatVector) u.lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.LSHL, I16))
                        .lanewise(VectorOperators.ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA, d, FloatVector.fromArray(F, acc, a + 5 * ROWS16))
                        .intoArray(acc, a + 5 * ROWS16);
                x0 = (ShortVector) IntVector.broadcast(I, xp[p + 12]).reinterpretShape(S, 0);
                x1 = (ShortVector) IntVector.broadcast(I, xp[p + 13]).reinterpretShape(S, 0);
                u = (IntVector) h4.lanewise(VectorOperators.MUL, x0)
                        .lanewise(VectorOperators.ADD, h5.lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
                ((FloatVector) u.lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.LSHL, I16))
                        .lanewise(VectorOperators.ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA, d, FloatVector.fromArray(F, acc, a + 6 * ROWS16))
                        .intoArray(acc, a + 6 * ROWS16);
                x0 = (ShortVector) IntVector.broadcast(I, xp[p + 14]).reinterpretShape(S, 0);
                x1 = (ShortVector) IntVector.broadcast(I, xp[p + 15]).reinterpretShape(S, 0);
                u = (IntVector) h6.lanewise(VectorOperators.MUL, x0)
                        .lanewise(VectorOperators.ADD, h7.lanewise(VectorOperators.MUL, x1)).reinterpretShape(I, 0);
                ((FloatVector) u.lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.LSHL, I16))
                        .lanewise(VectorOperators.ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(VectorOperators.FMA, d, FloatVector.fromArray(F, acc, a + 7 * ROWS16))
                        .intoArray(acc, a + 7 * ROWS16);
            }
        }
        for (int k = 0; k < tokens; k++) {
            int a = TILE_FLOATS16 * k;
            FloatVector a0 = FloatVector.fromArray(F, acc, a);
            FloatVector a1 = FloatVector.fromArray(F, acc, a + ROWS16);
            FloatVector a2 = FloatVector.fromArray(F, acc, a + 2 * ROWS16);
            FloatVector a3 = FloatVector.fromArray(F, acc, a + 3 * ROWS16);
            FloatVector a4 = FloatVector.fromArray(F, acc, a + 4 * ROWS16);
            FloatVector a5 = FloatVector.fromArray(F, acc, a + 5 * ROWS16);
            FloatVector a6 = FloatVector.fromArray(F, acc, a + 6 * ROWS16);
            FloatVector a7 = FloatVector.fromArray(F, acc, a + 7 * ROWS16);
            // dot16's sum: hsum_float_8 per row, then summs
            FloatVector s04 = a0.lanewise(VectorOperators.ADD, a4);
            FloatVector s26 = a2.lanewise(VectorOperators.ADD, a6);
            FloatVector s15 = a1.lanewise(VectorOperators.ADD, a5);
            FloatVector s37 = a3.lanewise(VectorOperators.ADD, a7);
            s04.lanewise(VectorOperators.ADD, s26).lanewise(VectorOperators.ADD, s15.lanewise(VectorOperators.ADD, s37))
                    .lanewise(VectorOperators.ADD, FloatVector.fromArray(F, acc, a + 8 * ROWS16))
                    .intoArray(out, outIndex + k * outStride);
        }
    }
}
