package dev.buddy.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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
 */
final class Q4_0RowGroups {
    private Q4_0RowGroups() {}

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final int BLOCK = 18;

    /** Rows per group: the accumulator lanes of one 256-bit float vector. */
    static final int ROWS = 8;

    static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
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
     * Rows {@code r .. r+7} (row r at byte {@code off}, the next ones {@code rowBytes} apart) against one token:
     * writes {@code out[outIndex .. outIndex+7]}.
     *
     * <p>{@link #dotTokens} with one token computes the same bits, but keeps its accumulators in memory across the
     * token loop; for decode that cost a third of the speed (spread rows, 8192x2048, one thread, quiet machine,
     * throwaway harness: 3.41 against 5.09 GB/s), so the single-token kernel stays a kernel of its own.
     *
     * @param xq the token's Q8_0 quants from {@code xo}
     * @param xd the token's block scales from {@code dOff}
     * @param xsum the token's block sums of quants from {@code dOff} ({@link QuantizedInput#blockSums})
     * @param scales scratch of at least 8 floats, owned by the calling thread
     */
    static void dot8(MemorySegment w, long off, long rowBytes, int blocks, short[] xq, int xo, float[] xd,
            int[] xsum, int dOff, float[] scales, float[] out, int outIndex) {
        long o0 = off;
        long o1 = o0 + rowBytes;
        long o2 = o1 + rowBytes;
        long o3 = o2 + rowBytes;
        long o4 = o3 + rowBytes;
        long o5 = o4 + rowBytes;
        long o6 = o5 + rowBytes;
        long o7 = o6 + rowBytes;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bb = (long) b * BLOCK;
            int e = xo + b * 32;
            ShortVector xlo = ShortVector.fromArray(S, xq, e);
            ShortVector xhi = ShortVector.fromArray(S, xq, e + 16);
            // per row: 16 lanes, lane j = q_j * x_j + q_{j+16} * x_{j+16} (mod 2^16, nibbles unbiased), from the
            // byte b = q_j + 16 q_{j+16} as b * x_j + (b >> 4) * (x_{j+16} - 16 x_j), which saves masking b; then
            // each pair of lanes summed into the high half of its 32-bit lane
            ShortVector xhi16 = xhi.sub(xlo.lanewise(VectorOperators.LSHL, 4));
            ShortVector s0 = (ShortVector) ByteVector.fromMemorySegment(B, w, o0 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s1 = (ShortVector) ByteVector.fromMemorySegment(B, w, o1 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s2 = (ShortVector) ByteVector.fromMemorySegment(B, w, o2 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s3 = (ShortVector) ByteVector.fromMemorySegment(B, w, o3 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s4 = (ShortVector) ByteVector.fromMemorySegment(B, w, o4 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s5 = (ShortVector) ByteVector.fromMemorySegment(B, w, o5 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s6 = (ShortVector) ByteVector.fromMemorySegment(B, w, o6 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s7 = (ShortVector) ByteVector.fromMemorySegment(B, w, o7 + bb + 2, LE)
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
                    .convert(VectorOperators.I2F, 0);
            scales[0] = Halfs.f16ToFloat(w.get(HALF, o0 + bb));
            scales[1] = Halfs.f16ToFloat(w.get(HALF, o1 + bb));
            scales[2] = Halfs.f16ToFloat(w.get(HALF, o2 + bb));
            scales[3] = Halfs.f16ToFloat(w.get(HALF, o3 + bb));
            scales[4] = Halfs.f16ToFloat(w.get(HALF, o4 + bb));
            scales[5] = Halfs.f16ToFloat(w.get(HALF, o5 + bb));
            scales[6] = Halfs.f16ToFloat(w.get(HALF, o6 + bb));
            scales[7] = Halfs.f16ToFloat(w.get(HALF, o7 + bb));
            FloatVector d = FloatVector.fromArray(F, scales, 0).mul(xd[dOff + b]);
            acc = blockSums.fma(d, acc);
        }
        acc.intoArray(out, outIndex);
    }

    /** Most tokens one {@link #dotTokens} call takes: the size of the per-thread accumulator scratch. */
    static final int MAX_TOKENS = 8;

    /**
     * Rows {@code r .. r+7} (as in {@link #dot8}) against {@code tokens} consecutive tokens at once, for prompts: each
     * weight block is loaded and widened once and then meets every token of the tile, so the weight unpacking and the
     * eight scales are paid once per tile instead of once per token. Per token the integer sums,
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
     * @param scales scratch of at least 8 floats, owned by the calling thread
     * @param acc scratch of at least {@code 8 * tokens} floats, owned by the calling thread
     */
    static void dotTokens(MemorySegment w, long off, long rowBytes, int blocks, int tokens, short[] xq, int xo,
            float[] xd, int[] xsum, int dOff, float[] scales, float[] acc, float[] out, int outIndex,
            int outStride) {
        long o0 = off;
        long o1 = o0 + rowBytes;
        long o2 = o1 + rowBytes;
        long o3 = o2 + rowBytes;
        long o4 = o3 + rowBytes;
        long o5 = o4 + rowBytes;
        long o6 = o5 + rowBytes;
        long o7 = o6 + rowBytes;
        int cols = blocks * 32;
        java.util.Arrays.fill(acc, 0, 8 * tokens, 0f);
        for (int b = 0; b < blocks; b++) {
            long bb = (long) b * BLOCK;
            ShortVector s0 = (ShortVector) ByteVector.fromMemorySegment(B, w, o0 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s1 = (ShortVector) ByteVector.fromMemorySegment(B, w, o1 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s2 = (ShortVector) ByteVector.fromMemorySegment(B, w, o2 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s3 = (ShortVector) ByteVector.fromMemorySegment(B, w, o3 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s4 = (ShortVector) ByteVector.fromMemorySegment(B, w, o4 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s5 = (ShortVector) ByteVector.fromMemorySegment(B, w, o5 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s6 = (ShortVector) ByteVector.fromMemorySegment(B, w, o6 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector s7 = (ShortVector) ByteVector.fromMemorySegment(B, w, o7 + bb + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            scales[0] = Halfs.f16ToFloat(w.get(HALF, o0 + bb));
            scales[1] = Halfs.f16ToFloat(w.get(HALF, o1 + bb));
            scales[2] = Halfs.f16ToFloat(w.get(HALF, o2 + bb));
            scales[3] = Halfs.f16ToFloat(w.get(HALF, o3 + bb));
            scales[4] = Halfs.f16ToFloat(w.get(HALF, o4 + bb));
            scales[5] = Halfs.f16ToFloat(w.get(HALF, o5 + bb));
            scales[6] = Halfs.f16ToFloat(w.get(HALF, o6 + bb));
            scales[7] = Halfs.f16ToFloat(w.get(HALF, o7 + bb));
            FloatVector dw = FloatVector.fromArray(F, scales, 0);
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
                        .convert(VectorOperators.I2F, 0);
                blockSums.fma(dw.mul(xd[db]), FloatVector.fromArray(F, acc, 8 * k)).intoArray(acc, 8 * k);
            }
        }
        for (int k = 0; k < tokens; k++) {
            System.arraycopy(acc, 8 * k, out, outIndex + k * outStride, ROWS);
        }
    }
}
