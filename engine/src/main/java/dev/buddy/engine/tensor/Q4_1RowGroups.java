package dev.buddy.engine.tensor;

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
     * {@link QuantizedInput#q8Pairs}), the two chunks' products added in 16 bits (at most {@code 2 * 2 * 15 * 127}),
     * and the two halves of each 32-bit lane sign-extended and added are the quad of that row. The sixteen d and
     * sixteen m are two 32-byte loads widened with {@link Q4_0RowGroups#pack}'s shortcut for finite halves. About 120
     * vector operations per sixteen rows and block, against about nine per row in {@link #dot8}.
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
            FloatVector d = ((IntVector) ShortVector.fromMemorySegment(HEADER, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000)
                    .reinterpretAsFloats().mul(0x1p112f).mul(xd[dOff + b]);
            // fma(m_w, s_x, summs) per row, ggml's min term
            mins = ((IntVector) ShortVector.fromMemorySegment(HEADER, w, bb + 2 * ROWS16, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000)
                    .reinterpretAsFloats().mul(0x1p112f).fma(FloatVector.broadcast(F, xs[dOff + b]), mins);
            long c = bb + QUANTS16_AT;
            ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 0, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 32, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector u = q0.and((short) 0x0F).mul(IntVector.broadcast(I, xp[p + 0]).reinterpretAsShorts())
                    .add(q1.and((short) 0x0F).mul(IntVector.broadcast(I, xp[p + 1]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            a0 = ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(u.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(d, a0);
            u = q0.lanewise(VectorOperators.LSHR, 4).mul(IntVector.broadcast(I, xp[p + 8]).reinterpretAsShorts())
                    .add(q1.lanewise(VectorOperators.LSHR, 4).mul(IntVector.broadcast(I, xp[p + 9])
                            .reinterpretAsShorts())).reinterpretAsInts();
            a4 = ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(u.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(d, a4);
            q0 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 64, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            q1 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 96, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            u = q0.and((short) 0x0F).mul(IntVector.broadcast(I, xp[p + 2]).reinterpretAsShorts())
                    .add(q1.and((short) 0x0F).mul(IntVector.broadcast(I, xp[p + 3]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            a1 = ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(u.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(d, a1);
            u = q0.lanewise(VectorOperators.LSHR, 4).mul(IntVector.broadcast(I, xp[p + 10]).reinterpretAsShorts())
                    .add(q1.lanewise(VectorOperators.LSHR, 4).mul(IntVector.broadcast(I, xp[p + 11])
                            .reinterpretAsShorts())).reinterpretAsInts();
            a5 = ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(u.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(d, a5);
            q0 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 128, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            q1 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 160, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            u = q0.and((short) 0x0F).mul(IntVector.broadcast(I, xp[p + 4]).reinterpretAsShorts())
                    .add(q1.and((short) 0x0F).mul(IntVector.broadcast(I, xp[p + 5]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            a2 = ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(u.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(d, a2);
            u = q0.lanewise(VectorOperators.LSHR, 4).mul(IntVector.broadcast(I, xp[p + 12]).reinterpretAsShorts())
                    .add(q1.lanewise(VectorOperators.LSHR, 4).mul(IntVector.broadcast(I, xp[p + 13])
                            .reinterpretAsShorts())).reinterpretAsInts();
            a6 = ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(u.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(d, a6);
            q0 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 192, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            q1 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 224, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            u = q0.and((short) 0x0F).mul(IntVector.broadcast(I, xp[p + 6]).reinterpretAsShorts())
                    .add(q1.and((short) 0x0F).mul(IntVector.broadcast(I, xp[p + 7]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            a3 = ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(u.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(d, a3);
            u = q0.lanewise(VectorOperators.LSHR, 4).mul(IntVector.broadcast(I, xp[p + 14]).reinterpretAsShorts())
                    .add(q1.lanewise(VectorOperators.LSHR, 4).mul(IntVector.broadcast(I, xp[p + 15])
                            .reinterpretAsShorts())).reinterpretAsInts();
            a7 = ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(u.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(d, a7);
        }
        // hsum_float_8 per row, ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)), plus summs
        a0.add(a4).add(a2.add(a6)).add(a1.add(a5).add(a3.add(a7))).add(mins).intoArray(out, outIndex);
    }
}
