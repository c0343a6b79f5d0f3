package dev.buddy.engine.tensor;

import static dev.buddy.engine.tensor.Constants512.HALF_BITS;
import static dev.buddy.engine.tensor.Constants512.HALF_SCALE;
import static dev.buddy.engine.tensor.Constants512.I13;
import static dev.buddy.engine.tensor.Constants512.I16;
import static dev.buddy.engine.tensor.Constants512.NIBBLE;
import static dev.buddy.engine.tensor.Constants512.S4;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.FMA;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.MUL;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * Single-token Q4_K products of eight consecutive rows at once on CPUs with 512-bit vectors, read from a row-group
 * copy made at load ({@link #pack}), in exactly the order of llama.cpp's AVX2 {@code ggml_vec_dot_q4_K_q8_K}: per row
 * and super-block, ggml's eight 32-bit lanes hold the exact integers {@code sum_c scale_c * (q . x)} over bytes
 * 4j..4j+3 of each of the eight 32-element sub-blocks c, converted to float and accumulated with
 * {@code fma(d_x * d, lane, acc)}; the min term goes into four lanes on the side; the row's result is
 * {@code hsum_float_8} of the lanes plus {@code (m0 + m2) + (m1 + m3)}. {@link Q4_KMatrix#scalarDot} is the scalar
 * transcription.
 *
 * <p>Layout of one group super-block ({@value #GROUP_BLOCK} bytes for eight rows, against 8 * 144 in the file): the
 * eight fp16 d, the eight fp16 dmin, the 6-bit scales and mins unpacked to one byte each (scale of sub-block c of row
 * r at {@code 32 + 8c + r}, its min 64 bytes further), then 32 chunks of 32 quant bytes. Chunk {@code (p, k, h)} (at
 * {@code 160 + 32 (8p + 2k + h)}) holds, for every row r, the bytes {@code 4j + k} of the row's 32-byte run p (the
 * nibbles of sub-blocks 2p and 2p+1) for the four lanes {@code j = 4h + t}, at {@code 4r + t}. Widened to 32 16-bit
 * lanes, a chunk's low nibbles meet the token's four matching quants broadcast to every row (one 64-bit broadcast,
 * {@link QuantizedInput#q4kSpread}); the products of four chunks (k = 0..3) add up to ggml's 4-byte sums in 16 bits
 * (at most {@code 4 * 15 * 128 = 7680}). Read as 32-bit lanes, lane n holds the sums of row n/2 for t = 2 (n % 2)
 * (low half) and t + 1 (high half): a shift left by 16 gives the low one times 2^16 (which a scale pre-divided by 2^16
 * takes back exactly), an arithmetic shift right the high one. Both are converted to float and FMA'd with the
 * sub-block's scale into four per-super-block sums; every product and partial sum is an integer below
 * {@code 8 * 63 * 7680 < 2^24}, so the float sums are ggml's integer lanes, in any order. The min lanes likewise: the
 * unpacked mins times the token's 32-quant sums, in float, exact.
 *
 * <p>Per row and super-block that is about 45 512-bit operations, against about 116 256-bit ones in the two-row
 * kernel ({@code Q4_KMatrix.V256#dot2}) that it replaces on such CPUs, and one sequential stream per group instead of
 * two rows half a matrix apart.
 */
final class Q4_KRowGroups {
    private Q4_KRowGroups() {}

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** GGUF's {@code block_q4_K}: fp16 d, fp16 dmin, scales[12], qs[128]. */
    static final int BLOCK = 144;
    static final int ROWS = RowGroupLayout.ROWS;
    static final int SCALES_AT = 32;
    static final int MINS_AT = 96;
    static final int QUANTS_AT = 160;
    static final int GROUP_BLOCK = QUANTS_AT + ROWS * 128;
    /** Longs of {@link QuantizedInput#q4kSpread} per token super-block: 32 chunks, two nibble planes. */
    static final int SPREAD = 64;
    /** Floats of {@link QuantizedInput#q4kMinSums} per token super-block. */
    static final int MIN_SUMS = 64;
    private static final int PACK_SLICE = 16;

    static final VectorSpecies<Byte> CHUNK = ByteVector.SPECIES_256;
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_512;
    static final VectorSpecies<Short> HEADER = ShortVector.SPECIES_256;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final VectorSpecies<Long> L = LongVector.SPECIES_512;
    /** Float lanes 0-7 (one value per row) to lanes 2r and 2r + 1. */
    static final VectorShuffle<Float> LOW_PAIRED = VectorShuffle.fromOp(F, i -> i >> 1);
    /** Float lanes 8-15 likewise. */
    static final VectorShuffle<Float> HIGH_PAIRED = VectorShuffle.fromOp(F, i -> 8 + (i >> 1));
    static final VectorShuffle<Float> HIGH_TWICE = VectorShuffle.fromOp(F, i -> 8 + (i & 7));
    static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(F, i -> 2 * (i & 7));
    static final VectorShuffle<Float> ODD = VectorShuffle.fromOp(F, i -> 2 * (i & 7) + 1);
    /** Two-vector indices (16 and up: the second): the low halves of both, then the high halves of both. */
    static final IntVector LOW_HALVES = IntVector.fromArray(I, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20,
            21, 22, 23}, 0);
    static final IntVector HIGH_HALVES = LOW_HALVES.add(8);
    /** Takes back the 2^16 of a low 16-bit sum shifted to the top of its 32-bit lane. */
    static final FloatVector TWO_TO_MINUS_16 = FloatVector.broadcast(F, 0x1p-16f);

    /** Where the quant byte {@code 4j + k} of row r's 32-byte run p sits within its group super-block. */
    static int quantAt(int r, int p, int j, int k) {
        return QUANTS_AT + 32 * (8 * p + 2 * k + (j >> 2)) + 4 * r + (j & 3);
    }

    /**
     * The group copy of a Q4_K matrix of {@code rows} rows (a multiple of 8) of {@code blocks} super-blocks, or null
     * when a d or dmin is not finite (the kernel widens halves with a shortcut exact for finite ones only). A mapped
     * original is unloaded once copied, as {@link RowGroupLayout#pack} does.
     */
    static MemorySegment pack(MemorySegment data, int rows, int blocks) {
        int rowBytes = blocks * BLOCK;
        return RowGroupLayout.copyGroups(data, rows, rowBytes, blocks * GROUP_BLOCK, PACK_SLICE, (in, out) -> {
            boolean finite = true;
            for (int b = 0; b < blocks; b++) {
                int to = b * GROUP_BLOCK;
                for (int r = 0; r < ROWS; r++) {
                    int from = r * rowBytes + b * BLOCK;
                    for (int i = 0; i < 2; i++) {
                        out[to + 16 * i + 2 * r] = in[from + 2 * i];
                        out[to + 16 * i + 2 * r + 1] = in[from + 2 * i + 1];
                        finite &= RowGroupLayout.isFinite(in[from + 2 * i + 1]);
                    }
                    for (int c = 0; c < 8; c++) {
                        out[to + SCALES_AT + 8 * c + r] = (byte) scale(in, from, c);
                        out[to + MINS_AT + 8 * c + r] = (byte) min(in, from, c);
                    }
                    for (int p = 0; p < 4; p++) {
                        for (int j = 0; j < 8; j++) {
                            for (int k = 0; k < 4; k++) {
                                out[to + quantAt(r, p, j, k)] = in[from + 16 + 32 * p + 4 * j + k];
                            }
                        }
                    }
                }
            }
            return finite;
        });
    }

    /** {@code get_scale_min_k4}'s scale of sub-block c from the 12 bytes after d and dmin. */
    static int scale(byte[] b, int bo, int c) {
        int s = bo + 4;
        return c < 4 ? b[s + c] & 63 : (b[s + c + 4] & 0xF) | ((b[s + c - 4] & 0xFF) >> 6 << 4);
    }

    /** {@code get_scale_min_k4}'s min of sub-block c. */
    static int min(byte[] b, int bo, int c) {
        int s = bo + 4;
        return c < 4 ? b[s + c + 4] & 63 : ((b[s + c + 4] & 0xFF) >> 4) | ((b[s + c] & 0xFF) >> 6 << 4);
    }

    /**
     * Token quants as the chunk lanes meet them: for each super-block, chunk (p, k, h) and plane (0: low nibbles,
     * sub-block 2p; 1: high, sub-block 2p+1), one long at {@code 64 sb + 2 (2 (4p + k) + h) + plane} holding the four
     * 16-bit quants of elements {@code 64p + 32 plane + 4 (4h + t) + k}, t = 0..3, lowest first: broadcast to 512
     * bits, short lane {@code 4r + t} then meets chunk byte {@code 4r + t} of every row r.
     */
    static void spread(short[] qs, int from, int blocks, long[] dst, int at) {
        for (int sb = 0; sb < blocks; sb++) {
            for (int p = 0; p < 4; p++) {
                for (int k = 0; k < 4; k++) {
                    for (int h = 0; h < 2; h++) {
                        for (int plane = 0; plane < 2; plane++) {
                            long v = 0;
                            for (int t = 0; t < 4; t++) {
                                int e = from + 256 * sb + 64 * p + 32 * plane + 4 * (4 * h + t) + k;
                                v |= (qs[e] & 0xFFFFL) << (16 * t);
                            }
                            dst[at + SPREAD * sb + 2 * (2 * (4 * p + k) + h) + plane] = v;
                        }
                    }
                }
            }
        }
    }

    /**
     * The token's 32-quant sums as the min lanes meet them: for each super-block, 64 floats, {@code 16k + 8u + r}
     * holding the sum of sub-block {@code 2k + u} (for every r).
     */
    static void minSums(int[] blockSums, int from, int blocks, float[] dst, int at) {
        for (int sb = 0; sb < blocks; sb++) {
            for (int c = 0; c < 8; c++) {
                for (int r = 0; r < ROWS; r++) {
                    dst[at + MIN_SUMS * sb + 8 * c + r] = blockSums[from + 8 * sb + c];
                }
            }
        }
    }

    /**
     * The group at byte {@code off} against one token: rows 8g..8g+7 to {@code out[outIndex .. outIndex+7]}, each
     * {@link Q4_KMatrix#scalarDot}'s bits.
     *
     * @param xs the token's {@link QuantizedInput#q4kSpread} from {@code xo}
     * @param xd the tokens' Q8_K scales, this token's from {@code dOff}
     * @param xm the token's {@link QuantizedInput#q4kMinSums} from {@code mo}
     */
    static void dot8(MemorySegment w, long off, int blocks, long[] xs, int xo, float[] xd, int dOff, float[] xm,
            int mo, float[] out, int outIndex) {
        // Vector API calls only of the kind this method's own call sites dispatch, no vector-returning helpers:
        // see Constants512 for why
        FloatVector run00 = FloatVector.zero(F);
        FloatVector run01 = FloatVector.zero(F);
        FloatVector run10 = FloatVector.zero(F);
        FloatVector run11 = FloatVector.zero(F);
        FloatVector min0 = FloatVector.zero(F);
        FloatVector min1 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bb = off + (long) b * GROUP_BLOCK;
            float dx = xd[dOff + b];
            // lanes 0-7 the eight d, 8-15 the eight dmin, widened exactly as Float.float16ToFloat for finite halves
            FloatVector dm = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(HEADER, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(LSHL, I13).lanewise(AND, HALF_BITS)
                    .reinterpretShape(F, 0)).lanewise(MUL, HALF_SCALE);
            ByteVector scales = ByteVector.fromMemorySegment(B, w, bb + SCALES_AT, LE);
            // sum_he: int lane n of a chunk product is row n/2, t = 2 (n % 2) + half; so float lane 2r + v of
            // sum_he holds ggml's lane 4h + 2v + e of row r
            FloatVector s00 = FloatVector.zero(F);
            FloatVector s01 = FloatVector.zero(F);
            FloatVector s10 = FloatVector.zero(F);
            FloatVector s11 = FloatVector.zero(F);
            // Two runs a turn, the second body a copy of the first: C2 unrolls the loop completely, and the
            // products stream 1.12-1.22x faster between the model's other matrices (DecodeReplay, session 41;
            // BENCHMARKS.md). A nested loop over the two runs read 0.85x; a helper taking the sums would box them.
            for (int p = 0; p < 4; p += 2) {
                // run p
                {
                    FloatVector sp = (FloatVector) scales.convertShape(VectorOperators.B2F, F, p);
                    FloatVector scaleLo = sp.rearrange(LOW_PAIRED);
                    FloatVector scaleHi = sp.rearrange(HIGH_PAIRED);
                    FloatVector scaleLoE = scaleLo.lanewise(MUL, TWO_TO_MINUS_16);
                    FloatVector scaleHiE = scaleHi.lanewise(MUL, TWO_TO_MINUS_16);
                    for (int h = 0; h < 2; h++) {
                        // chunks (p, k, h) at cb + 64k; the token's quants for their two planes at xb + 4k, xb + 4k + 1
                        long cb = bb + QUANTS_AT + 256L * p + 32 * h;
                        int xb = xo + SPREAD * b + 16 * p + 2 * h;
                        ShortVector c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        ShortVector x0 = (ShortVector) LongVector.broadcast(L, xs[xb]).reinterpretShape(S, 0);
                        ShortVector x1 = (ShortVector) LongVector.broadcast(L, xs[xb + 1]).reinterpretShape(S, 0);
                        ShortVector lo = c.lanewise(AND, NIBBLE).lanewise(MUL, x0);
                        ShortVector hi = c.lanewise(LSHR, S4).lanewise(MUL, x1);
                        c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb + 64, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        x0 = (ShortVector) LongVector.broadcast(L, xs[xb + 4]).reinterpretShape(S, 0);
                        x1 = (ShortVector) LongVector.broadcast(L, xs[xb + 5]).reinterpretShape(S, 0);
                        lo = lo.lanewise(ADD, c.lanewise(AND, NIBBLE).lanewise(MUL, x0));
                        hi = hi.lanewise(ADD, c.lanewise(LSHR, S4).lanewise(MUL, x1));
                        c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb + 128, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        x0 = (ShortVector) LongVector.broadcast(L, xs[xb + 8]).reinterpretShape(S, 0);
                        x1 = (ShortVector) LongVector.broadcast(L, xs[xb + 9]).reinterpretShape(S, 0);
                        lo = lo.lanewise(ADD, c.lanewise(AND, NIBBLE).lanewise(MUL, x0));
                        hi = hi.lanewise(ADD, c.lanewise(LSHR, S4).lanewise(MUL, x1));
                        c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb + 192, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        x0 = (ShortVector) LongVector.broadcast(L, xs[xb + 12]).reinterpretShape(S, 0);
                        x1 = (ShortVector) LongVector.broadcast(L, xs[xb + 13]).reinterpretShape(S, 0);
                        lo = lo.lanewise(ADD, c.lanewise(AND, NIBBLE).lanewise(MUL, x0));
                        hi = hi.lanewise(ADD, c.lanewise(LSHR, S4).lanewise(MUL, x1));
                        IntVector l = (IntVector) lo.reinterpretShape(I, 0);
                        IntVector u = (IntVector) hi.reinterpretShape(I, 0);
                        FloatVector t0 = ((FloatVector) l.lanewise(LSHL, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleLoE, s00);
                        FloatVector t1 = ((FloatVector) l.lanewise(ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleLo, s01);
                        t0 = ((FloatVector) u.lanewise(LSHL, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleHiE, t0);
                        t1 = ((FloatVector) u.lanewise(ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleHi, t1);
                        // s0e take this h's sums, s1e the other's: rotated each turn, so after both turns every sum is
                        // back in its place (one loop body instead of two written out: C2 compiled that one in 58 MB
                        // of arena against 40-46 MB, at the same speed)
                        s00 = s10;
                        s01 = s11;
                        s10 = t0;
                        s11 = t1;
                    }
                }
                // run q = p + 1: the same body
                {
                    int q = p + 1;
                    FloatVector sp = (FloatVector) scales.convertShape(VectorOperators.B2F, F, q);
                    FloatVector scaleLo = sp.rearrange(LOW_PAIRED);
                    FloatVector scaleHi = sp.rearrange(HIGH_PAIRED);
                    FloatVector scaleLoE = scaleLo.lanewise(MUL, TWO_TO_MINUS_16);
                    FloatVector scaleHiE = scaleHi.lanewise(MUL, TWO_TO_MINUS_16);
                    for (int h = 0; h < 2; h++) {
                        // chunks (q, k, h) at cb + 64k, as above
                        long cb = bb + QUANTS_AT + 256L * q + 32 * h;
                        int xb = xo + SPREAD * b + 16 * q + 2 * h;
                        ShortVector c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        ShortVector x0 = (ShortVector) LongVector.broadcast(L, xs[xb]).reinterpretShape(S, 0);
                        ShortVector x1 = (ShortVector) LongVector.broadcast(L, xs[xb + 1]).reinterpretShape(S, 0);
                        ShortVector lo = c.lanewise(AND, NIBBLE).lanewise(MUL, x0);
                        ShortVector hi = c.lanewise(LSHR, S4).lanewise(MUL, x1);
                        c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb + 64, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        x0 = (ShortVector) LongVector.broadcast(L, xs[xb + 4]).reinterpretShape(S, 0);
                        x1 = (ShortVector) LongVector.broadcast(L, xs[xb + 5]).reinterpretShape(S, 0);
                        lo = lo.lanewise(ADD, c.lanewise(AND, NIBBLE).lanewise(MUL, x0));
                        hi = hi.lanewise(ADD, c.lanewise(LSHR, S4).lanewise(MUL, x1));
                        c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb + 128, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        x0 = (ShortVector) LongVector.broadcast(L, xs[xb + 8]).reinterpretShape(S, 0);
                        x1 = (ShortVector) LongVector.broadcast(L, xs[xb + 9]).reinterpretShape(S, 0);
                        lo = lo.lanewise(ADD, c.lanewise(AND, NIBBLE).lanewise(MUL, x0));
                        hi = hi.lanewise(ADD, c.lanewise(LSHR, S4).lanewise(MUL, x1));
                        c = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb + 192, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        x0 = (ShortVector) LongVector.broadcast(L, xs[xb + 12]).reinterpretShape(S, 0);
                        x1 = (ShortVector) LongVector.broadcast(L, xs[xb + 13]).reinterpretShape(S, 0);
                        lo = lo.lanewise(ADD, c.lanewise(AND, NIBBLE).lanewise(MUL, x0));
                        hi = hi.lanewise(ADD, c.lanewise(LSHR, S4).lanewise(MUL, x1));
                        IntVector l = (IntVector) lo.reinterpretShape(I, 0);
                        IntVector u = (IntVector) hi.reinterpretShape(I, 0);
                        FloatVector t0 = ((FloatVector) l.lanewise(LSHL, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleLoE, s00);
                        FloatVector t1 = ((FloatVector) l.lanewise(ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleLo, s01);
                        t0 = ((FloatVector) u.lanewise(LSHL, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleHiE, t0);
                        t1 = ((FloatVector) u.lanewise(ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleHi, t1);
                        s00 = s10;
                        s01 = s11;
                        s10 = t0;
                        s11 = t1;
                    }
                }
            }
            FloatVector d = dm.rearrange(LOW_PAIRED).lanewise(MUL, FloatVector.broadcast(F, dx));
            run00 = d.lanewise(FMA, s00, run00);
            run01 = d.lanewise(FMA, s01, run01);
            run10 = d.lanewise(FMA, s10, run10);
            run11 = d.lanewise(FMA, s11, run11);
            // min lanes: lanes 8u + r of min_w hold ggml's lane 2w + u of row r
            FloatVector dmin = dm.rearrange(HIGH_TWICE).lanewise(MUL, FloatVector.broadcast(F, -dx));
            ByteVector mins = ByteVector.fromMemorySegment(B, w, bb + MINS_AT, LE);
            int mb = mo + MIN_SUMS * b;
            IntVector i0 = (IntVector) ((FloatVector) mins.convertShape(VectorOperators.B2F, F, 0))
                    .lanewise(MUL, FloatVector.fromArray(F, xm, mb)).reinterpretShape(I, 0);
            IntVector i1 = (IntVector) ((FloatVector) mins.convertShape(VectorOperators.B2F, F, 1))
                    .lanewise(MUL, FloatVector.fromArray(F, xm, mb + 16)).reinterpretShape(I, 0);
            IntVector i2 = (IntVector) ((FloatVector) mins.convertShape(VectorOperators.B2F, F, 2))
                    .lanewise(MUL, FloatVector.fromArray(F, xm, mb + 32)).reinterpretShape(I, 0);
            IntVector i3 = (IntVector) ((FloatVector) mins.convertShape(VectorOperators.B2F, F, 3))
                    .lanewise(MUL, FloatVector.fromArray(F, xm, mb + 48)).reinterpretShape(I, 0);
            min0 = dmin.lanewise(FMA, ((FloatVector) LOW_HALVES.selectFrom(i0, i1).reinterpretShape(F, 0))
                    .lanewise(ADD, (FloatVector) HIGH_HALVES.selectFrom(i0, i1).reinterpretShape(F, 0)), min0);
            min1 = dmin.lanewise(FMA, ((FloatVector) LOW_HALVES.selectFrom(i2, i3).reinterpretShape(F, 0))
                    .lanewise(ADD, (FloatVector) HIGH_HALVES.selectFrom(i2, i3).reinterpretShape(F, 0)), min1);
        }
        // run_he lane 2r + v: ggml's lane 4h + 2v + e of row r. hsum_float_8 is ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)):
        // a_j + a_j+4 is run_0e + run_1e, and (a0+a4)+(a2+a6) the even and odd lanes of the e = 0 sum
        FloatVector q0 = run00.lanewise(ADD, run10);
        FloatVector q1 = run01.lanewise(ADD, run11);
        FloatVector hsum = q0.rearrange(EVEN).lanewise(ADD, q0.rearrange(ODD))
                .lanewise(ADD, q1.rearrange(EVEN).lanewise(ADD, q1.rearrange(ODD)));
        FloatVector m = min0.lanewise(ADD, min1);
        FloatVector sums = hsum.lanewise(ADD, m.lanewise(ADD, m.rearrange(Q4_1RowGroups.SWAP_FLOAT_HALVES)));
        ((FloatVector) sums.reinterpretShape(F8, 0)).intoArray(out, outIndex);
    }

    /** Most tokens one {@link #dotTokens8} call takes. */
    static final int MAX_TOKENS = RowGroupLayout.TILE_TOKENS;
    /**
     * Floats of {@link #dotTokens8}'s scratch per token: the four run sums, the two min sums and the four
     * super-block sums of {@link #dot8}, sixteen lanes each.
     */
    static final int TILE_FLOATS = 10 * 16;

    /**
     * {@link #dot8} against {@code tokens} consecutive tokens, for prompts: each chunk pair of a super-block is widened
     * and split into its nibble planes once and stays in registers (eight vectors, with the four scale vectors) across
     * the token loop, which per token is then eight broadcast multiplies, six adds, the folds, four conversions and
     * four FMAs, about 26 operations where a token through {@link #dot8} takes about 42. Each token's sums live in
     * {@code acc} between chunk pairs and super-blocks ({@link #TILE_FLOATS} floats a token). Every sum is
     * {@link #dot8}'s: the super-block sums are exact integers in any order, and the run FMAs, the min terms and the
     * final sums are {@link #dot8}'s operations in its order, so every (row, token) result is {@link #dot8}'s bits.
     *
     * <p>Token k's spread quants start at {@code xo + k * SPREAD * blocks}, its scales at {@code dOff + k * blocks},
     * its min sums at {@code mo + k * MIN_SUMS * blocks}; its eight results go to {@code out[outIndex + k * outStride
     * ..]}.
     *
     * @param tokens 1 to {@link #MAX_TOKENS}
     * @param acc scratch of at least {@code TILE_FLOATS * tokens} floats, owned by the calling thread
     */
    static void dotTokens8(MemorySegment w, long off, int blocks, int tokens, long[] xs, int xo, float[] xd, int dOff,
            float[] xm, int mo, float[] acc, float[] out, int outIndex, int outStride) {
        // per token: run00, run01, run10, run11, min0, min1 (across super-blocks), then s00, s01, s10, s11
        java.util.Arrays.fill(acc, 0, TILE_FLOATS * tokens, 0f);
        int tokenSpread = SPREAD * blocks;
        int tokenMins = MIN_SUMS * blocks;
        for (int b = 0; b < blocks; b++) {
            long bb = off + (long) b * GROUP_BLOCK;
            FloatVector dm = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(HEADER, w, bb, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(LSHL, I13).lanewise(AND, HALF_BITS)
                    .reinterpretShape(F, 0)).lanewise(MUL, HALF_SCALE);
            ByteVector scales = ByteVector.fromMemorySegment(B, w, bb + SCALES_AT, LE);
            for (int k = 0; k < tokens; k++) {
                java.util.Arrays.fill(acc, TILE_FLOATS * k + 96, TILE_FLOATS * k + 160, 0f);
            }
            for (int p = 0; p < 4; p++) {
                FloatVector sp = (FloatVector) scales.convertShape(VectorOperators.B2F, F, p);
                FloatVector scaleLo = sp.rearrange(LOW_PAIRED);
                FloatVector scaleHi = sp.rearrange(HIGH_PAIRED);
                FloatVector scaleLoE = scaleLo.lanewise(MUL, TWO_TO_MINUS_16);
                FloatVector scaleHiE = scaleHi.lanewise(MUL, TWO_TO_MINUS_16);
                for (int h = 0; h < 2; h++) {
                    long cb = bb + QUANTS_AT + 256L * p + 32 * h;
                    ShortVector c0 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector c1 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb + 64, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector c2 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb + 128, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector c3 = (ShortVector) ByteVector.fromMemorySegment(CHUNK, w, cb + 192, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector l0 = c0.lanewise(AND, NIBBLE);
                    ShortVector l1 = c1.lanewise(AND, NIBBLE);
                    ShortVector l2 = c2.lanewise(AND, NIBBLE);
                    ShortVector l3 = c3.lanewise(AND, NIBBLE);
                    ShortVector h0 = c0.lanewise(LSHR, S4);
                    ShortVector h1 = c1.lanewise(LSHR, S4);
                    ShortVector h2 = c2.lanewise(LSHR, S4);
                    ShortVector h3 = c3.lanewise(LSHR, S4);
                    for (int k = 0; k < tokens; k++) {
                        int xb = xo + k * tokenSpread + SPREAD * b + 16 * p + 2 * h;
                        // dot8's 16-bit sums, lane for lane (see there)
                        ShortVector x0 = (ShortVector) LongVector.broadcast(L, xs[xb]).reinterpretShape(S, 0);
                        ShortVector x1 = (ShortVector) LongVector.broadcast(L, xs[xb + 4]).reinterpretShape(S, 0);
                        ShortVector x2 = (ShortVector) LongVector.broadcast(L, xs[xb + 8]).reinterpretShape(S, 0);
                        ShortVector x3 = (ShortVector) LongVector.broadcast(L, xs[xb + 12]).reinterpretShape(S, 0);
                        IntVector l = (IntVector) l0.lanewise(MUL, x0).lanewise(ADD, l1.lanewise(MUL, x1))
                                .lanewise(ADD, l2.lanewise(MUL, x2)).lanewise(ADD, l3.lanewise(MUL, x3))
                                .reinterpretShape(I, 0);
                        x0 = (ShortVector) LongVector.broadcast(L, xs[xb + 1]).reinterpretShape(S, 0);
                        x1 = (ShortVector) LongVector.broadcast(L, xs[xb + 5]).reinterpretShape(S, 0);
                        x2 = (ShortVector) LongVector.broadcast(L, xs[xb + 9]).reinterpretShape(S, 0);
                        x3 = (ShortVector) LongVector.broadcast(L, xs[xb + 13]).reinterpretShape(S, 0);
                        IntVector u = (IntVector) h0.lanewise(MUL, x0).lanewise(ADD, h1.lanewise(MUL, x1))
                                .lanewise(ADD, h2.lanewise(MUL, x2)).lanewise(ADD, h3.lanewise(MUL, x3))
                                .reinterpretShape(I, 0);
                        int s0 = TILE_FLOATS * k + 96 + 32 * h;
                        FloatVector t0 = ((FloatVector) l.lanewise(LSHL, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleLoE, FloatVector.fromArray(F, acc, s0));
                        FloatVector t1 = ((FloatVector) l.lanewise(ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleLo, FloatVector.fromArray(F, acc, s0 + 16));
                        ((FloatVector) u.lanewise(LSHL, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleHiE, t0).intoArray(acc, s0);
                        ((FloatVector) u.lanewise(ASHR, I16).convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(FMA, scaleHi, t1).intoArray(acc, s0 + 16);
                    }
                }
            }
            FloatVector dw = dm.rearrange(LOW_PAIRED);
            FloatVector dminW = dm.rearrange(HIGH_TWICE);
            ByteVector mins = ByteVector.fromMemorySegment(B, w, bb + MINS_AT, LE);
            FloatVector m0 = (FloatVector) mins.convertShape(VectorOperators.B2F, F, 0);
            FloatVector m1 = (FloatVector) mins.convertShape(VectorOperators.B2F, F, 1);
            FloatVector m2 = (FloatVector) mins.convertShape(VectorOperators.B2F, F, 2);
            FloatVector m3 = (FloatVector) mins.convertShape(VectorOperators.B2F, F, 3);
            for (int k = 0; k < tokens; k++) {
                int a = TILE_FLOATS * k;
                float dx = xd[dOff + k * blocks + b];
                FloatVector d = dw.lanewise(MUL, FloatVector.broadcast(F, dx));
                d.lanewise(FMA, FloatVector.fromArray(F, acc, a + 96), FloatVector.fromArray(F, acc, a))
                        .intoArray(acc, a);
                d.lanewise(FMA, FloatVector.fromArray(F, acc, a + 112), FloatVector.fromArray(F, acc, a + 16))
                        .intoArray(acc, a + 16);
                d.lanewise(FMA, FloatVector.fromArray(F, acc, a + 128), FloatVector.fromArray(F, acc, a + 32))
                        .intoArray(acc, a + 32);
                d.lanewise(FMA, FloatVector.fromArray(F, acc, a + 144), FloatVector.fromArray(F, acc, a + 48))
                        .intoArray(acc, a + 48);
                // dot8's min lanes (see there)
                FloatVector dmin = dminW.lanewise(MUL, FloatVector.broadcast(F, -dx));
                int mb = mo + k * tokenMins + MIN_SUMS * b;
                IntVector i0 = (IntVector) m0.lanewise(MUL, FloatVector.fromArray(F, xm, mb)).reinterpretShape(I, 0);
                IntVector i1 = (IntVector) m1.lanewise(MUL, FloatVector.fromArray(F, xm, mb + 16))
                        .reinterpretShape(I, 0);
                IntVector i2 = (IntVector) m2.lanewise(MUL, FloatVector.fromArray(F, xm, mb + 32))
                        .reinterpretShape(I, 0);
                IntVector i3 = (IntVector) m3.lanewise(MUL, FloatVector.fromArray(F, xm, mb + 48))
                        .reinterpretShape(I, 0);
                FloatVector p01 = ((FloatVector) LOW_HALVES.selectFrom(i0, i1).reinterpretShape(F, 0))
                        .lanewise(ADD, (FloatVector) HIGH_HALVES.selectFrom(i0, i1).reinterpretShape(F, 0));
                dmin.lanewise(FMA, p01, FloatVector.fromArray(F, acc, a + 64)).intoArray(acc, a + 64);
                FloatVector p23 = ((FloatVector) LOW_HALVES.selectFrom(i2, i3).reinterpretShape(F, 0))
                        .lanewise(ADD, (FloatVector) HIGH_HALVES.selectFrom(i2, i3).reinterpretShape(F, 0));
                dmin.lanewise(FMA, p23, FloatVector.fromArray(F, acc, a + 80)).intoArray(acc, a + 80);
            }
        }
        for (int k = 0; k < tokens; k++) {
            int a = TILE_FLOATS * k;
            // dot8's final sums (see there)
            FloatVector q0 = FloatVector.fromArray(F, acc, a).lanewise(ADD, FloatVector.fromArray(F, acc, a + 32));
            FloatVector q1 = FloatVector.fromArray(F, acc, a + 16).lanewise(ADD, FloatVector.fromArray(F, acc, a + 48));
            FloatVector hsum = q0.rearrange(EVEN).lanewise(ADD, q0.rearrange(ODD))
                    .lanewise(ADD, q1.rearrange(EVEN).lanewise(ADD, q1.rearrange(ODD)));
            FloatVector m = FloatVector.fromArray(F, acc, a + 64).lanewise(ADD, FloatVector.fromArray(F, acc, a + 80));
            FloatVector sums = hsum.lanewise(ADD, m.lanewise(ADD, m.rearrange(Q4_1RowGroups.SWAP_FLOAT_HALVES)));
            ((FloatVector) sums.reinterpretShape(F8, 0)).intoArray(out, outIndex + k * outStride);
        }
    }

    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /** fp16 d (field 0) or dmin (1) of row k of the group super-block at {@code bb}. */
    static float half(MemorySegment w, long bb, int field, int k) {
        return Halfs.f16ToFloat(w.get(HALF, bb + 16L * field + 2L * k));
    }

    /** Scale (field 0) or min (1) of sub-block c of row k of the group super-block at {@code bb}. */
    static int scaleOrMin(MemorySegment w, long bb, int field, int c, int k) {
        return w.get(ValueLayout.JAVA_BYTE, bb + SCALES_AT + 64L * field + 8L * c + k);
    }

    /** Quant byte {@code 4j + k} of run p of row r of the group super-block at {@code bb}. */
    static int quant(MemorySegment w, long bb, int r, int p, int j, int k) {
        return w.get(ValueLayout.JAVA_BYTE, bb + quantAt(r, p, j, k)) & 0xFF;
    }
}
