package dev.buddy.engine.tensor;

import static dev.buddy.engine.tensor.Constants512.HALF_BITS;
import static dev.buddy.engine.tensor.Constants512.HALF_SCALE;
import static dev.buddy.engine.tensor.Constants512.I13;
import static dev.buddy.engine.tensor.Constants512.I16;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 products of sixteen consecutive rows at once on CPUs with 512-bit vectors, read from a row-group copy made at
 * load ({@link #pack}), in exactly the order of {@code ggml_vec_dot_q8_0_q8_0} ({@link Q8_0Matrix#scalarDot}): per row
 * and block, ggml's eight 32-bit lanes hold the exact integer sums of elements 4j..4j+3 ("quads"), converted to float
 * and FMA-accumulated with {@code d_w * d_x}; the row's result is {@code hsum_float_8} of the lanes.
 *
 * <p>Here the sixteen rows are the lanes instead, so that each of ggml's eight lanes is one accumulator vector and
 * {@code hsum_float_8} is seven vector adds for all sixteen rows. A row's block is sixteen 16-bit units (unit u:
 * elements 2u and 2u+1); a group block transposes them, chunk u (32 bytes) holding unit u of rows 0-15, row l at
 * bytes 2l and 2l+1. Widened to 32 16-bit lanes, chunk u meets the token's unit u in every 32-bit lane, which is one
 * broadcast of a 32-bit pair of input quants ({@link QuantizedInput#q8Pairs}); no lane permutations. Chunks 2k and
 * 2k+1 multiplied and added in 16 bits leave, in 32-bit lane l, elements 4k+{0,2} of row l in the low half and 4k+{1,3}
 * in the high half; the two halves sign-extended and added are quad k of row l. Sixteen-bit sums are exact: a product
 * is at most {@code 128 * 127} in magnitude and two of them fit, because the input quants never reach -128 (the
 * quantiser rounds {@code x * 127 / amax}). The sixteen d are one 32-byte load, widened with the shortcut exact for
 * finite halves that the Q4_0 and Q4_1 groups use (a matrix with an infinite or NaN d is not packed).
 *
 * <p>Per sixteen rows and block that is about 110 vector operations, none of them scalar, against about 13 vector and
 * 4 scalar ones per row and block in the two-row kernel ({@code Q8_0Matrix.V512#dot2}) it replaces; the copy is the
 * size of the original.
 */
final class Q8_0RowGroups {
    private Q8_0RowGroups() {}

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows per group: the lanes of one 512-bit float vector. */
    static final int ROWS = RowGroupLayout.PAIR_ROWS;
    /** GGUF's {@code block_q8_0}: fp16 d, then qs[32]. */
    static final int BLOCK = 34;
    /** Bytes of one block of a row group: sixteen d, then sixteen chunks of 32 bytes. */
    static final int GROUP_BLOCK = ROWS * BLOCK;
    /** Where a group block's chunks start. */
    static final int QUANTS_AT = 2 * ROWS;
    /** Input quant pairs per block ({@link QuantizedInput#q8Pairs}): one per unit. */
    static final int PAIRS = 16;

    static final VectorSpecies<Byte> CHUNK = ByteVector.SPECIES_256;
    static final VectorSpecies<Short> HEADER = ShortVector.SPECIES_256;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;

    /** Where quant byte {@code j} of group row {@code l}'s block sits within its group block. */
    static int quantAt(int l, int j) {
        return RowGroupLayout.pairQuantAt(1, l, j);
    }

    /**
     * The group copy of a Q8_0 matrix of {@code rows} rows (a multiple of 16) of {@code blocks} blocks
     * ({@link RowGroupLayout#packPairs16}), or null when a d is not finite; the mapped original is unloaded once copied
     * ({@link RowGroupLayout#copyGroups}).
     */
    static MemorySegment pack(MemorySegment data, int rows, int blocks) {
        return RowGroupLayout.packPairs16(data, rows, blocks, BLOCK, 1);
    }

    /**
     * The row group at byte {@code off} of a {@link #pack packed} matrix against one token: its sixteen rows to
     * {@code out[outIndex .. outIndex+15]}, each {@link Q8_0Matrix#scalarDot}'s bits (see the class comment).
     *
     * @param xp the tokens' quant pairs ({@link QuantizedInput#q8Pairs}), this token's from {@code xpo}
     * @param xd the tokens' block scales, this token's from {@code dOff}
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
        // One loop body written out, vectors only in locals: a vector handed to a call C2 does not inline is boxed.
        for (int b = 0; b < blocks; b++) {
            long bb = off + (long) b * GROUP_BLOCK;
            int p = xpo + PAIRS * b;
            // the sixteen d widened exactly as Float.float16ToFloat for finite halves, times d_x: ggml's d_w * d_x
            FloatVector d = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(HEADER, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, I13)
                    .lanewise(VectorOperators.AND, HALF_BITS).reinterpretShape(F, 0))
                    .lanewise(VectorOperators.MUL, HALF_SCALE)
                    .lanewise(VectorOperators.MUL, FloatVector.broadcast(F, xd[dOff + b]));
            long c = bb + QUANTS_AT;
            IntVector u;
            u = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 0, LE)
                    .convertShape(VectorOperators.B2S, S, 0))
                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 0]).reinterpretShape(S, 0))
                    .lanewise(VectorOperators.ADD, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 32, LE)
                            .convertShape(VectorOperators.B2S, S, 0))
                            .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 1]).reinterpretShape(S, 0)))
                    .reinterpretShape(I, 0);
            a0 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a0);
            u = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 64, LE)
                    .convertShape(VectorOperators.B2S, S, 0))
                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 2]).reinterpretShape(S, 0))
                    .lanewise(VectorOperators.ADD, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 96, LE)
                            .convertShape(VectorOperators.B2S, S, 0))
                            .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 3]).reinterpretShape(S, 0)))
                    .reinterpretShape(I, 0);
            a1 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a1);
            u = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 128, LE)
                    .convertShape(VectorOperators.B2S, S, 0))
                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 4]).reinterpretShape(S, 0))
                    .lanewise(VectorOperators.ADD, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 160, LE)
                            .convertShape(VectorOperators.B2S, S, 0))
                            .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 5]).reinterpretShape(S, 0)))
                    .reinterpretShape(I, 0);
            a2 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a2);
            u = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 192, LE)
                    .convertShape(VectorOperators.B2S, S, 0))
                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 6]).reinterpretShape(S, 0))
                    .lanewise(VectorOperators.ADD, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 224, LE)
                            .convertShape(VectorOperators.B2S, S, 0))
                            .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 7]).reinterpretShape(S, 0)))
                    .reinterpretShape(I, 0);
            a3 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a3);
            u = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 256, LE)
                    .convertShape(VectorOperators.B2S, S, 0))
                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 8]).reinterpretShape(S, 0))
                    .lanewise(VectorOperators.ADD, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 288, LE)
                            .convertShape(VectorOperators.B2S, S, 0))
                            .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 9]).reinterpretShape(S, 0)))
                    .reinterpretShape(I, 0);
            a4 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a4);
            u = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 320, LE)
                    .convertShape(VectorOperators.B2S, S, 0))
                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 10]).reinterpretShape(S, 0))
                    .lanewise(VectorOperators.ADD, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 352, LE)
                            .convertShape(VectorOperators.B2S, S, 0))
                            .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 11]).reinterpretShape(S, 0)))
                    .reinterpretShape(I, 0);
            a5 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a5);
            u = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 384, LE)
                    .convertShape(VectorOperators.B2S, S, 0))
                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 12]).reinterpretShape(S, 0))
                    .lanewise(VectorOperators.ADD, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 416, LE)
                            .convertShape(VectorOperators.B2S, S, 0))
                            .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 13]).reinterpretShape(S, 0)))
                    .reinterpretShape(I, 0);
            a6 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a6);
            u = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 448, LE)
                    .convertShape(VectorOperators.B2S, S, 0))
                    .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 14]).reinterpretShape(S, 0))
                    .lanewise(VectorOperators.ADD, ((ShortVector) ByteVector.fromMemorySegment(CHUNK, w, c + 480, LE)
                            .convertShape(VectorOperators.B2S, S, 0))
                            .lanewise(VectorOperators.MUL, IntVector.broadcast(I, xp[p + 15]).reinterpretShape(S, 0)))
                    .reinterpretShape(I, 0);
            a7 = ((FloatVector) u.lanewise(VectorOperators.LSHL, I16).lanewise(VectorOperators.ASHR, I16)
                    .lanewise(VectorOperators.ADD, u.lanewise(VectorOperators.ASHR, I16))
                    .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.FMA, d, a7);
        }
        // hsum_float_8 per row: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))
        FloatVector s04 = a0.lanewise(VectorOperators.ADD, a4);
        FloatVector s26 = a2.lanewise(VectorOperators.ADD, a6);
        FloatVector s15 = a1.lanewise(VectorOperators.ADD, a5);
        FloatVector s37 = a3.lanewise(VectorOperators.ADD, a7);
        s04.lanewise(VectorOperators.ADD, s26).lanewise(VectorOperators.ADD, s15.lanewise(VectorOperators.ADD, s37))
                .intoArray(out, outIndex);
    }

    /**
     * Fills {@code pairs[to ..]} with the 32-bit pairs of {@code blocks} blocks of Q8_0 input quants from
     * {@code qs[from ..]}: pair i is quants 2i (low half) and 2i+1 (high half), the unit a chunk meets.
     */
    static void pairs(short[] qs, int from, int blocks, int[] pairs, int to) {
        for (int i = 0; i < blocks * PAIRS; i++) {
            pairs[to + i] = (qs[from + 2 * i] & 0xFFFF) | (qs[from + 2 * i + 1] << 16);
        }
    }
}
