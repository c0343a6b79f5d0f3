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
 * Dot kernels of ggml's "legacy" 4/5-bit formats (Q4_0, Q4_1, Q5_0, Q5_1) against Q8_0/Q8_1 input, in the exact
 * arithmetic order of ggml-cpu's AVX2 {@code ggml_vec_dot_q4_0_q8_0}, {@code _q4_1_q8_1}, {@code _q5_0_q8_0} and
 * {@code _q5_1_q8_1} (llama.cpp b4916, checked against the disassembly of the libjllama.so Buddy tests against):
 * <ol>
 *   <li>per 32-block, {@code bytes_from_nibbles_32} puts elements 0-15 (low nibbles) in bytes 0-15 and elements 16-31
 *       (high nibbles) in bytes 16-31; {@code maddubs} + {@code madd} then give 8 int32 lanes, lane j the exact sum of
 *       elements 4j..4j+3 times the input quants; converted to float;</li>
 *   <li>{@code acc = fma(d_w * d_x, lanes, acc)} with {@code d_w * d_x} one float product of the two fp16 scales;</li>
 *   <li>Q4_1/Q5_1 only: {@code summs = fma(m_w, s_x, summs)} per block (the compiler contracts
 *       {@code summs += m * s} into {@code vfmadd231ss}), with {@code s_x} Q8_1's fp16 block sum;</li>
 *   <li>result {@code hsum_float_8(acc)} ({@link Q8_0Matrix#hsum8}), plus {@code summs} for Q4_1/Q5_1.</li>
 * </ol>
 * llama.cpp's prompt path gives the same bits per (row, token): the libjllama.so instantiates tinyBLAS only for
 * Q4_0, Q5_0, IQ4_NL and Q8_0 (same per-block lanes, fma and {@code hsum}); Q4_1/Q5_1 call these very vec_dots per
 * (row, token). One exception, from the same build's CPU "extra" buffer: Q4_0 matrices whose row count is a multiple
 * of 8 are repacked to {@code block_q4_0x8} and run by {@code ggml_gemv/gemm_q4_0_8x8_q8_0}, which sum each whole
 * block in integers and keep one accumulator per (row, token); {@code wholeBlockSums} selects that order.
 *
 * <p>SIMD (why float lanes): every partial sum of a lane is an integer below 2^24, so the lane can be formed in float
 * lanes exactly, in any order. The input is kept as floats permuted within each block
 * ({@link QuantizedInput#permuted}: sub-vector t holds element 4j+t in lane j), and the weight block is unpacked
 * with variable shifts straight into the same layout (the 16 quant bytes as 4 ints, duplicated to 8 lanes, shifted by
 * 8t for the low nibbles and 8t+4 for the high ones). A lane is then one multiply and three FMAs; the block scale is
 * one more FMA. Prompts unpack a block of rows once into these lane vectors ({@link V256#laneWeights},
 * {@link LanePrompt}) and run four tokens at a time over them ({@link V256#lanes4}), so a (row, token) result is the
 * single-token dot's bit for bit; the dequantise-to-float GEMM these formats used before cannot give ggml's bits.
 * At 512 bits the 256-bit kernels run: ggml's 8 lanes fix the accumulation order, so a wider vector cannot take two
 * blocks at once without changing the bits.
 *
 * <p>Measured against the previous, inexact kernels (JMH {@code KernelBenchmark.decode|prefill}, 8192x2048, 1
 * thread, 64-token prefill, {@code -wi 2 -i 3}; two sessions, each running main's jar and this one alternately twice;
 * medians of 6 iterations per session; 2-core AVX2 VM at load average 14-20, so only large ratios mean anything):
 * decode Q4_1 0.90-1.20x, Q5_0 0.60-0.72x, Q5_1 0.53-0.77x, Q4_0 (whole-block order) 0.56-0.72x; prefill against the
 * float GEMM Q4_1 0.68-1.04x, Q5_0 0.60-0.89x, Q5_1 0.50-0.87x, Q4_0 0.26-0.30x. Exactness wins over those losses.
 * Single-token decode has faster kernels since: Q4_0 in the whole-block order runs eight rows at a time in 16-bit
 * lanes ({@link Q4_0RowGroups}), and Q4_1 forms ggml's lanes in 16-bit lanes ({@link V256#dotQ4_1}); the kernels
 * here remain for prompts, the other formats and widths.
 */
final class LegacyQuantKernels {
    private LegacyQuantKernels() {}

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    /**
     * Where a format keeps its fields inside a block, and the bias its quants carry.
     *
     * @param bytes block size in bytes
     * @param qsOffset offset of the 16 nibble bytes
     * @param qhOffset offset of the 32 fifth bits (a little-endian uint32), or -1 for the 4-bit formats
     * @param bias subtracted from every unpacked quant (8 for Q4_0, 16 for Q5_0, 0 for the formats with a minimum)
     * @param minOffset offset of the fp16 block minimum {@code m}, or -1 for the symmetric formats
     */
    record Layout(int bytes, int qsOffset, int qhOffset, int bias, int minOffset) {
        /** {@code block_q4_0}: fp16 d, qs[16]. */
        static final Layout Q4_0 = new Layout(18, 2, -1, 8, -1);
        /** {@code block_q4_1}: fp16 d, fp16 m, qs[16]. */
        static final Layout Q4_1 = new Layout(20, 4, -1, 0, 2);
        /** {@code block_q5_0}: fp16 d, qh[4], qs[16]. */
        static final Layout Q5_0 = new Layout(22, 6, 2, 16, -1);
        /** {@code block_q5_1}: fp16 d, fp16 m, qh[4], qs[16]. */
        static final Layout Q5_1 = new Layout(24, 8, 4, 0, 2);
    }

    /** Element {@code e} (0..31) of the block at {@code bo}, with its bias subtracted: the byte ggml multiplies. */
    static int quant(Layout f, MemorySegment w, long bo, int e) {
        int b = w.get(BYTE, bo + f.qsOffset() + (e & 15));
        int q = e < 16 ? b & 0x0F : (b >> 4) & 0x0F;
        if (f.qhOffset() >= 0) {
            q |= ((w.get(INT, bo + f.qhOffset()) >>> e) & 1) << 4;
        }
        return q - f.bias();
    }

    /**
     * The scalar reference: ggml's AVX2 order, written one lane at a time from the block definition; with
     * {@code wholeBlockSums}, the order of the repacked Q4_0 kernels instead ({@code ggml_gemv_q4_0_8x8_q8_0} and
     * {@code ggml_gemm_q4_0_8x8_q8_0}, which llama.cpp uses for Q4_0 matrices whose row count is a multiple of 8):
     * one float accumulator per (row, token), {@code acc = fma((float) blockSum, d_w * d_x, acc)} with the exact
     * integer sum of the whole block.
     */
    static float scalarDot(Layout f, MemorySegment w, long off, int blocks, QuantizedInput in, int token,
            boolean wholeBlockSums) {
        if (wholeBlockSums) {
            return scalarDotWholeBlocks(f, w, off, blocks, in, token);
        }
        short[] xq = in.qs;
        int xo = token * blocks * 32;
        int dOff = token * blocks;
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
        float summs = 0f;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) b * f.bytes();
            int e = xo + b * 32;
            float d = Halfs.f16ToFloat(w.get(HALF, bo)) * in.d[dOff + b];
            a0 = Math.fma(d, lane(f, w, bo, xq, e, 0), a0);
            a1 = Math.fma(d, lane(f, w, bo, xq, e, 1), a1);
            a2 = Math.fma(d, lane(f, w, bo, xq, e, 2), a2);
            a3 = Math.fma(d, lane(f, w, bo, xq, e, 3), a3);
            a4 = Math.fma(d, lane(f, w, bo, xq, e, 4), a4);
            a5 = Math.fma(d, lane(f, w, bo, xq, e, 5), a5);
            a6 = Math.fma(d, lane(f, w, bo, xq, e, 6), a6);
            a7 = Math.fma(d, lane(f, w, bo, xq, e, 7), a7);
            if (f.minOffset() >= 0) {
                summs = Math.fma(Halfs.f16ToFloat(w.get(HALF, bo + f.minOffset())), in.s[dOff + b], summs);
            }
        }
        float h = Q8_0Matrix.hsum8(a0, a1, a2, a3, a4, a5, a6, a7);
        return f.minOffset() >= 0 ? h + summs : h;
    }

    private static float scalarDotWholeBlocks(Layout f, MemorySegment w, long off, int blocks, QuantizedInput in,
            int token) {
        short[] xq = in.qs;
        int xo = token * blocks * 32;
        int dOff = token * blocks;
        float acc = 0f;
        float summs = 0f;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) b * f.bytes();
            int e = xo + b * 32;
            int sum = 0;
            for (int k = 0; k < 32; k++) {
                sum += quant(f, w, bo, k) * xq[e + k];
            }
            acc = Math.fma((float) sum, Halfs.f16ToFloat(w.get(HALF, bo)) * in.d[dOff + b], acc);
            if (f.minOffset() >= 0) {
                summs = Math.fma(Halfs.f16ToFloat(w.get(HALF, bo + f.minOffset())), in.s[dOff + b], summs);
            }
        }
        return f.minOffset() >= 0 ? acc + summs : acc;
    }

    /** Lane j of ggml's 8: the integer dot of elements 4j..4j+3 with the input quants from {@code e}. */
    private static int lane(Layout f, MemorySegment w, long bo, short[] xq, int e, int j) {
        int sum = 0;
        for (int k = 4 * j; k < 4 * j + 4; k++) {
            sum += quant(f, w, bo, k) * xq[e + k];
        }
        return sum;
    }

    // One method per kernel, vectors only in locals: a vector passed to or returned from a call that C2 declines to
    // inline is boxed. The format's constants are read once into locals; the branches on them are loop-invariant.
    static final class V256 {
        static final VectorSpecies<Integer> I4 = IntVector.SPECIES_128;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
        /** The 4 ints of quant bytes in both halves: lanes 0-3 give the low nibbles, lanes 4-7 the high ones. */
        static final VectorShuffle<Integer> TWICE = VectorShuffle.fromValues(I, 0, 1, 2, 3, 0, 1, 2, 3);
        /** Shifts that bring byte t of each int (low nibble in lanes 0-3, high nibble in 4-7) to bits 0-3. */
        static final IntVector NIB0 = IntVector.fromArray(I, new int[] {0, 0, 0, 0, 4, 4, 4, 4}, 0);
        static final IntVector NIB1 = NIB0.add(8);
        static final IntVector NIB2 = NIB0.add(16);
        static final IntVector NIB3 = NIB0.add(24);
        /** qh pre-shift: lane 0 moved up by 4 so that one right shift per t brings bit 4j+t to bit 4 everywhere. */
        static final IntVector QH_PRE = IntVector.fromArray(I, new int[] {4, 0, 0, 0, 0, 0, 0, 0}, 0);
        static final IntVector QH0 = IntVector.fromArray(I, new int[] {0, 0, 4, 8, 12, 16, 20, 24}, 0);
        static final IntVector QH1 = QH0.add(1);
        static final IntVector QH2 = QH0.add(2);
        static final IntVector QH3 = QH0.add(3);
        /** Tree reduction of a block's 8 integer-valued lanes (exact in any order): halves, pairs, neighbours. */
        static final VectorShuffle<Float> HALVES = VectorShuffle.fromValues(F, 4, 5, 6, 7, 0, 1, 2, 3);
        static final VectorShuffle<Float> PAIRS = VectorShuffle.fromValues(F, 2, 3, 0, 1, 6, 7, 4, 5);
        static final VectorShuffle<Float> NEIGHBOURS = VectorShuffle.fromValues(F, 1, 0, 3, 2, 5, 4, 7, 6);

        static float dot(Layout f, MemorySegment w, long off, int blocks, float[] xp, int xo, float[] xd,
                float[] xs, int dOff, boolean wholeBlockSums) {
            int bytes = f.bytes();
            int qsOff = f.qsOffset();
            int qhOff = f.qhOffset();
            int bias = f.bias();
            int mOff = f.minOffset();
            FloatVector acc = FloatVector.zero(F);
            float whole = 0f;
            float summs = 0f;
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * bytes;
                int e = xo + b * 32;
                IntVector q = ((IntVector) IntVector.fromMemorySegment(I4, w, bo + qsOff, LE)
                        .reinterpretShape(I, 0)).rearrange(TWICE);
                IntVector n0 = q.lanewise(VectorOperators.LSHR, NIB0).and(0x0F);
                IntVector n1 = q.lanewise(VectorOperators.LSHR, NIB1).and(0x0F);
                IntVector n2 = q.lanewise(VectorOperators.LSHR, NIB2).and(0x0F);
                IntVector n3 = q.lanewise(VectorOperators.LSHR, NIB3).and(0x0F);
                if (qhOff >= 0) {
                    IntVector h = IntVector.broadcast(I, w.get(INT, bo + qhOff)).lanewise(VectorOperators.LSHL, QH_PRE);
                    n0 = n0.or(h.lanewise(VectorOperators.LSHR, QH0).and(0x10));
                    n1 = n1.or(h.lanewise(VectorOperators.LSHR, QH1).and(0x10));
                    n2 = n2.or(h.lanewise(VectorOperators.LSHR, QH2).and(0x10));
                    n3 = n3.or(h.lanewise(VectorOperators.LSHR, QH3).and(0x10));
                }
                if (bias != 0) {
                    n0 = n0.sub(bias);
                    n1 = n1.sub(bias);
                    n2 = n2.sub(bias);
                    n3 = n3.sub(bias);
                }
                FloatVector s = ((FloatVector) n0.convertShape(VectorOperators.I2F, F, 0))
                        .mul(FloatVector.fromArray(F, xp, e));
                s = ((FloatVector) n1.convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.fromArray(F, xp, e + 8), s);
                s = ((FloatVector) n2.convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.fromArray(F, xp, e + 16), s);
                s = ((FloatVector) n3.convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.fromArray(F, xp, e + 24), s);
                float d = Halfs.f16ToFloat(w.get(HALF, bo)) * xd[dOff + b];
                if (wholeBlockSums) {
                    // integer partial sums below 2^24: the reduction is exact in any order
                    FloatVector r = s.add(s.rearrange(HALVES));
                    r = r.add(r.rearrange(PAIRS));
                    whole = Math.fma(r.add(r.rearrange(NEIGHBOURS)).lane(0), d, whole);
                } else {
                    acc = FloatVector.broadcast(F, d).fma(s, acc);
                }
                if (mOff >= 0) {
                    summs = Math.fma(Halfs.f16ToFloat(w.get(HALF, bo + mOff)), xs[dOff + b], summs);
                }
            }
            float h = wholeBlockSums ? whole : Q8_0Matrix.hsum8(acc.lane(0), acc.lane(1), acc.lane(2), acc.lane(3),
                    acc.lane(4), acc.lane(5), acc.lane(6), acc.lane(7));
            return mOff >= 0 ? h + summs : h;
        }

        static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
        static final VectorMask<Integer> ODD_INTS = VectorMask.fromLong(I, 0xAAL);
        static final VectorShuffle<Integer> SWAP_INTS = VectorShuffle.fromValues(I, 1, 0, 3, 2, 5, 4, 7, 6);

        /**
         * Single-token Q4_1 in 16-bit lanes, the same bits as {@link #dot}: the 16 quant bytes widened from memory
         * give elements 0-15 (low nibbles) and 16-31 (high nibbles) in 16-bit lanes, multiplied by the Q8_1 quants
         * ({@link QuantizedInput#qs}); one blend-swap-add in 16-bit lanes (no carry crosses) leaves in each 32-bit
         * lane two halves of a quad, each the sum of two products, and adding the lane shifted left by 16 (its
         * product with {@code 0x10001}, without the slow 32-bit multiply) adds them in the lane's high half: the quad
         * sum, which fits 16 bits ({@code 4 * 15 * 127}), sign-extended by one shift. (Multiplying before the add, as
         * the first version did, took two multiplies per block;
         * Q8_0's quads need 17 bits, so its kernels cannot add in 16-bit lanes first.) ggml's lanes come out as
         * {@code [q0, q4, q1, q5, q2, q6, q3, q7]}, read back in ggml's order by the final {@code hsum_float_8}.
         * The two fp16 values are read as one int. Fewer vector operations than unpacking each nibble position
         * into float lanes: measured 4.45 -> 3.8 ns per block in cache, one thread.
         */
        static float dotQ4_1(MemorySegment w, long off, int blocks, short[] xq, int xo, float[] xd, float[] xs,
                int dOff) {
            FloatVector acc = FloatVector.zero(F);
            float summs = 0f;
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * 20;
                int e = xo + b * 32;
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B16, w, bo + 4, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                IntVector lo = q.and((short) 0x0F).mul(ShortVector.fromArray(S, xq, e)).reinterpretAsInts();
                IntVector hi = q.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S, xq, e + 16))
                        .reinterpretAsInts();
                IntVector quads = lo.blend(hi, ODD_INTS).reinterpretAsShorts()
                        .add(hi.blend(lo, ODD_INTS).rearrange(SWAP_INTS).reinterpretAsShorts()).reinterpretAsInts();
                quads = quads.lanewise(VectorOperators.ADD, quads.lanewise(VectorOperators.LSHL, Constants256.I16))
                        .lanewise(VectorOperators.ASHR, Constants256.I16);
                int dm = w.get(INT, bo);
                float d = Halfs.f16ToFloat((short) dm) * xd[dOff + b];
                acc = FloatVector.broadcast(F, d).fma((FloatVector) quads.convertShape(VectorOperators.I2F, F, 0), acc);
                summs = Math.fma(Halfs.f16ToFloat((short) (dm >>> 16)), xs[dOff + b], summs);
            }
            return Q8_0Matrix.hsum8(acc.lane(0), acc.lane(2), acc.lane(4), acc.lane(6), acc.lane(1), acc.lane(3),
                    acc.lane(5), acc.lane(7)) + summs;
        }

        /**
         * {@link #dotQ4_1} for two rows at once (row 0 at {@code off}, row 1 {@code stride} bytes further), sharing
         * the token's loads; each row's lanes, sums and min term are {@link #dotQ4_1}'s, so are its bits.
         */
        static void dotQ4_1Pair(MemorySegment w, long off, long stride, int blocks, short[] xq, int xo, float[] xd,
                float[] xs, int dOff, float[] out, int out0, int out1) {
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            float summs0 = 0f;
            float summs1 = 0f;
            long off1 = off + stride;
            for (int b = 0; b < blocks; b++) {
                long bb = (long) b * 20;
                int e = xo + b * 32;
                // the scalar reads first: C2 inlines in bytecode order, and in a kernel this size the last plain
                // (not force-inlined) calls hit NodeCountInliningCutoff; a segment int read left as a call costs more
                // than the whole second row (measured 0.72x)
                int dm0 = w.get(INT, off + bb);
                int dm1 = w.get(INT, off1 + bb);
                ShortVector xlo = ShortVector.fromArray(S, xq, e);
                ShortVector xhi = ShortVector.fromArray(S, xq, e + 16);
                float dx = xd[dOff + b];
                float sx = xs[dOff + b];
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B16, w, off + bb + 4, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                IntVector lo = q.and((short) 0x0F).mul(xlo).reinterpretAsInts();
                IntVector hi = q.lanewise(VectorOperators.LSHR, 4).mul(xhi).reinterpretAsInts();
                IntVector quads = lo.blend(hi, ODD_INTS).reinterpretAsShorts()
                        .add(hi.blend(lo, ODD_INTS).rearrange(SWAP_INTS).reinterpretAsShorts()).reinterpretAsInts();
                quads = quads.lanewise(VectorOperators.ADD, quads.lanewise(VectorOperators.LSHL, Constants256.I16))
                        .lanewise(VectorOperators.ASHR, Constants256.I16);
                acc0 = FloatVector.broadcast(F, Halfs.f16ToFloat((short) dm0) * dx)
                        .fma((FloatVector) quads.convertShape(VectorOperators.I2F, F, 0), acc0);
                summs0 = Math.fma(Halfs.f16ToFloat((short) (dm0 >>> 16)), sx, summs0);
                q = (ShortVector) ByteVector.fromMemorySegment(B16, w, off1 + bb + 4, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                lo = q.and((short) 0x0F).mul(xlo).reinterpretAsInts();
                hi = q.lanewise(VectorOperators.LSHR, 4).mul(xhi).reinterpretAsInts();
                quads = lo.blend(hi, ODD_INTS).reinterpretAsShorts()
                        .add(hi.blend(lo, ODD_INTS).rearrange(SWAP_INTS).reinterpretAsShorts()).reinterpretAsInts();
                quads = quads.lanewise(VectorOperators.ADD, quads.lanewise(VectorOperators.LSHL, Constants256.I16))
                        .lanewise(VectorOperators.ASHR, Constants256.I16);
                acc1 = FloatVector.broadcast(F, Halfs.f16ToFloat((short) dm1) * dx)
                        .fma((FloatVector) quads.convertShape(VectorOperators.I2F, F, 0), acc1);
                summs1 = Math.fma(Halfs.f16ToFloat((short) (dm1 >>> 16)), sx, summs1);
            }
            out[out0] = Q8_0Matrix.hsum8(acc0.lane(0), acc0.lane(2), acc0.lane(4), acc0.lane(6), acc0.lane(1),
                    acc0.lane(3), acc0.lane(5), acc0.lane(7)) + summs0;
            out[out1] = Q8_0Matrix.hsum8(acc1.lane(0), acc1.lane(2), acc1.lane(4), acc1.lane(6), acc1.lane(1),
                    acc1.lane(3), acc1.lane(5), acc1.lane(7)) + summs1;
        }

        /**
         * The blocks of the row at {@code off} unpacked once into exact integer lane vectors, as {@link #dot}
         * unpacks them ({@code dst[at + 32b + 8t + j]} = element {@code 4j + t} of block b, bias taken off), with
         * each block's fp16 d (and m, for the formats with one) as float in {@code ds} and {@code ms} from
         * {@code dAt}: what {@link #lanes4} reads for every group of four prompt tokens. The shifts bring byte t of
         * each int to bits 0-3 (low nibbles in lanes 0-3, high nibbles in lanes 4-7), qh's bit 4j+t to bit 4.
         */
        // The unpacking is #dot's, written out again: a helper returning vectors would box them (see above).
        static void laneWeights(Layout f, MemorySegment w, long off, int blocks, float[] dst, int at, float[] ds,
                float[] ms, int dAt) {
            int bytes = f.bytes();
            int qsOff = f.qsOffset();
            int qhOff = f.qhOffset();
            int bias = f.bias();
            int mOff = f.minOffset();
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * bytes;
                IntVector q = ((IntVector) IntVector.fromMemorySegment(I4, w, bo + qsOff, LE)
                        .reinterpretShape(I, 0)).rearrange(TWICE);
                IntVector n0 = q.lanewise(VectorOperators.LSHR, NIB0).and(0x0F);
                IntVector n1 = q.lanewise(VectorOperators.LSHR, NIB1).and(0x0F);
                IntVector n2 = q.lanewise(VectorOperators.LSHR, NIB2).and(0x0F);
                IntVector n3 = q.lanewise(VectorOperators.LSHR, NIB3).and(0x0F);
                if (qhOff >= 0) {
                    IntVector h = IntVector.broadcast(I, w.get(INT, bo + qhOff)).lanewise(VectorOperators.LSHL, QH_PRE);
                    n0 = n0.or(h.lanewise(VectorOperators.LSHR, QH0).and(0x10));
                    n1 = n1.or(h.lanewise(VectorOperators.LSHR, QH1).and(0x10));
                    n2 = n2.or(h.lanewise(VectorOperators.LSHR, QH2).and(0x10));
                    n3 = n3.or(h.lanewise(VectorOperators.LSHR, QH3).and(0x10));
                }
                int y = at + 32 * b;
                ((FloatVector) n0.sub(bias).convertShape(VectorOperators.I2F, F, 0)).intoArray(dst, y);
                ((FloatVector) n1.sub(bias).convertShape(VectorOperators.I2F, F, 0)).intoArray(dst, y + 8);
                ((FloatVector) n2.sub(bias).convertShape(VectorOperators.I2F, F, 0)).intoArray(dst, y + 16);
                ((FloatVector) n3.sub(bias).convertShape(VectorOperators.I2F, F, 0)).intoArray(dst, y + 24);
                ds[dAt + b] = Halfs.f16ToFloat(w.get(HALF, bo));
                if (mOff >= 0) {
                    ms[dAt + b] = Halfs.f16ToFloat(w.get(HALF, bo + mOff));
                }
            }
        }

        /** Lane i of a 256-bit vector in every lane: the four tokens' block scales, one at a time. */
        static final VectorShuffle<Float> SPLAT0 = VectorShuffle.fromValues(F, 0, 0, 0, 0, 0, 0, 0, 0);
        static final VectorShuffle<Float> SPLAT1 = VectorShuffle.fromValues(F, 1, 1, 1, 1, 1, 1, 1, 1);
        static final VectorShuffle<Float> SPLAT2 = VectorShuffle.fromValues(F, 2, 2, 2, 2, 2, 2, 2, 2);
        static final VectorShuffle<Float> SPLAT3 = VectorShuffle.fromValues(F, 3, 3, 3, 3, 3, 3, 3, 3);
        static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;

        /**
         * Tokens {@code token .. token+3} against one row already unpacked by {@link #laneWeights}, on
         * the permuted input: each lane vector meets every token's, lane sums of four products per block are exact
         * integers, then {@link #dot}'s scale FMA, reduction and min term (without whole-block sums), so every
         * (row, token) result is the single-token dot's, bit for bit. {@code token} is a multiple of 4, and the
         * four tokens' scales come as one vector ({@link QuantizedInput#groupD}): one multiply by the row's
         * {@code d_w} gives the four products {@code d_w * d_x} (the scalar products' bits), each spread to all
         * lanes by a permute; the four min terms {@code fma(m_w, s_x, summs)} run as the lanes of one 128-bit FMA,
         * lane i the scalar chain of token i. That takes the per-token scalar loads, multiplies and broadcasts out of
         * the loop.
         */
        static void lanes4(float[] wl, int w0, float[] ds, float[] ms, int dAt, boolean withMin, int blocks,
                QuantizedInput in, int token, float[] out, int outIndex, int outStride) {
            float[] xp = in.permuted;
            float[] gd = in.groupD;
            float[] gs = in.groupS;
            int gAt = token / 4 * blocks * 8;
            int sAt = token / 4 * blocks * 4;
            int cols = blocks * 32;
            int x0 = token * cols;
            int x1 = x0 + cols;
            int x2 = x1 + cols;
            int x3 = x2 + cols;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F);
            FloatVector acc3 = FloatVector.zero(F);
            FloatVector summs = FloatVector.zero(F4);
            for (int b = 0; b < blocks; b++) {
                int e = b * 32;
                FloatVector v0 = FloatVector.fromArray(F, wl, w0 + e);
                FloatVector v1 = FloatVector.fromArray(F, wl, w0 + e + 8);
                FloatVector v2 = FloatVector.fromArray(F, wl, w0 + e + 16);
                FloatVector v3 = FloatVector.fromArray(F, wl, w0 + e + 24);
                FloatVector s0 = v0.mul(FloatVector.fromArray(F, xp, x0 + e));
                FloatVector s1 = v0.mul(FloatVector.fromArray(F, xp, x1 + e));
                FloatVector s2 = v0.mul(FloatVector.fromArray(F, xp, x2 + e));
                FloatVector s3 = v0.mul(FloatVector.fromArray(F, xp, x3 + e));
                s0 = v1.fma(FloatVector.fromArray(F, xp, x0 + e + 8), s0);
                s1 = v1.fma(FloatVector.fromArray(F, xp, x1 + e + 8), s1);
                s2 = v1.fma(FloatVector.fromArray(F, xp, x2 + e + 8), s2);
                s3 = v1.fma(FloatVector.fromArray(F, xp, x3 + e + 8), s3);
                s0 = v2.fma(FloatVector.fromArray(F, xp, x0 + e + 16), s0);
                s1 = v2.fma(FloatVector.fromArray(F, xp, x1 + e + 16), s1);
                s2 = v2.fma(FloatVector.fromArray(F, xp, x2 + e + 16), s2);
                s3 = v2.fma(FloatVector.fromArray(F, xp, x3 + e + 16), s3);
                s0 = v3.fma(FloatVector.fromArray(F, xp, x0 + e + 24), s0);
                s1 = v3.fma(FloatVector.fromArray(F, xp, x1 + e + 24), s1);
                s2 = v3.fma(FloatVector.fromArray(F, xp, x2 + e + 24), s2);
                s3 = v3.fma(FloatVector.fromArray(F, xp, x3 + e + 24), s3);
                FloatVector d = FloatVector.fromArray(F, gd, gAt + 8 * b).mul(ds[dAt + b]);
                acc0 = d.rearrange(SPLAT0).fma(s0, acc0);
                acc1 = d.rearrange(SPLAT1).fma(s1, acc1);
                acc2 = d.rearrange(SPLAT2).fma(s2, acc2);
                acc3 = d.rearrange(SPLAT3).fma(s3, acc3);
                if (withMin) {
                    summs = FloatVector.broadcast(F4, ms[dAt + b]).fma(FloatVector.fromArray(F4, gs, sAt + 4 * b),
                            summs);
                }
            }
            float summs0 = summs.lane(0);
            float summs1 = summs.lane(1);
            float summs2 = summs.lane(2);
            float summs3 = summs.lane(3);
            float h0 = Q8_0Matrix.hsum8(acc0.lane(0), acc0.lane(1), acc0.lane(2), acc0.lane(3), acc0.lane(4),
                    acc0.lane(5), acc0.lane(6), acc0.lane(7));
            float h1 = Q8_0Matrix.hsum8(acc1.lane(0), acc1.lane(1), acc1.lane(2), acc1.lane(3), acc1.lane(4),
                    acc1.lane(5), acc1.lane(6), acc1.lane(7));
            float h2 = Q8_0Matrix.hsum8(acc2.lane(0), acc2.lane(1), acc2.lane(2), acc2.lane(3), acc2.lane(4),
                    acc2.lane(5), acc2.lane(6), acc2.lane(7));
            float h3 = Q8_0Matrix.hsum8(acc3.lane(0), acc3.lane(1), acc3.lane(2), acc3.lane(3), acc3.lane(4),
                    acc3.lane(5), acc3.lane(6), acc3.lane(7));
            out[outIndex] = withMin ? h0 + summs0 : h0;
            out[outIndex + outStride] = withMin ? h1 + summs1 : h1;
            out[outIndex + 2 * outStride] = withMin ? h2 + summs2 : h2;
            out[outIndex + 3 * outStride] = withMin ? h3 + summs3 : h3;
        }

    }

    /** 128-bit lanes: ggml's 8 lanes as two 4-lane accumulators (lanes 0-3 low nibbles, 4-7 high nibbles). */
    static final class V128 {
        static final VectorSpecies<Integer> I = IntVector.SPECIES_128;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
        static final IntVector QH_PRE = IntVector.fromArray(I, new int[] {4, 0, 0, 0}, 0);
        /** Lanes 0-3: bit 4j+t brought to bit 4 (after {@link #QH_PRE}); t is added per sub-vector. */
        static final IntVector QH_LO = IntVector.fromArray(I, new int[] {0, 0, 4, 8}, 0);
        /** Lanes 4-7: bit 16+4j'+t brought to bit 4. */
        static final IntVector QH_HI = IntVector.fromArray(I, new int[] {12, 16, 20, 24}, 0);
        static final IntVector QH_LO1 = QH_LO.add(1);
        static final IntVector QH_LO2 = QH_LO.add(2);
        static final IntVector QH_LO3 = QH_LO.add(3);
        static final IntVector QH_HI1 = QH_HI.add(1);
        static final IntVector QH_HI2 = QH_HI.add(2);
        static final IntVector QH_HI3 = QH_HI.add(3);

        static float dot(Layout f, MemorySegment w, long off, int blocks, float[] xp, int xo, float[] xd,
                float[] xs, int dOff, boolean wholeBlockSums) {
            int bytes = f.bytes();
            int qsOff = f.qsOffset();
            int qhOff = f.qhOffset();
            int bias = f.bias();
            int mOff = f.minOffset();
            float whole = 0f;
            FloatVector accLo = FloatVector.zero(F);
            FloatVector accHi = FloatVector.zero(F);
            float summs = 0f;
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * bytes;
                int e = xo + b * 32;
                IntVector q = IntVector.fromMemorySegment(I, w, bo + qsOff, LE);
                IntVector l0 = q.and(0x0F);
                IntVector h0 = q.lanewise(VectorOperators.LSHR, 4).and(0x0F);
                IntVector l1 = q.lanewise(VectorOperators.LSHR, 8).and(0x0F);
                IntVector h1 = q.lanewise(VectorOperators.LSHR, 12).and(0x0F);
                IntVector l2 = q.lanewise(VectorOperators.LSHR, 16).and(0x0F);
                IntVector h2 = q.lanewise(VectorOperators.LSHR, 20).and(0x0F);
                IntVector l3 = q.lanewise(VectorOperators.LSHR, 24).and(0x0F);
                IntVector h3 = q.lanewise(VectorOperators.LSHR, 28).and(0x0F);
                if (qhOff >= 0) {
                    IntVector qh = IntVector.broadcast(I, w.get(INT, bo + qhOff));
                    IntVector lo = qh.lanewise(VectorOperators.LSHL, QH_PRE);
                    l0 = l0.or(lo.lanewise(VectorOperators.LSHR, QH_LO).and(0x10));
                    l1 = l1.or(lo.lanewise(VectorOperators.LSHR, QH_LO1).and(0x10));
                    l2 = l2.or(lo.lanewise(VectorOperators.LSHR, QH_LO2).and(0x10));
                    l3 = l3.or(lo.lanewise(VectorOperators.LSHR, QH_LO3).and(0x10));
                    h0 = h0.or(qh.lanewise(VectorOperators.LSHR, QH_HI).and(0x10));
                    h1 = h1.or(qh.lanewise(VectorOperators.LSHR, QH_HI1).and(0x10));
                    h2 = h2.or(qh.lanewise(VectorOperators.LSHR, QH_HI2).and(0x10));
                    h3 = h3.or(qh.lanewise(VectorOperators.LSHR, QH_HI3).and(0x10));
                }
                if (bias != 0) {
                    l0 = l0.sub(bias);
                    l1 = l1.sub(bias);
                    l2 = l2.sub(bias);
                    l3 = l3.sub(bias);
                    h0 = h0.sub(bias);
                    h1 = h1.sub(bias);
                    h2 = h2.sub(bias);
                    h3 = h3.sub(bias);
                }
                FloatVector sl = ((FloatVector) l0.convertShape(VectorOperators.I2F, F, 0))
                        .mul(FloatVector.fromArray(F, xp, e));
                FloatVector sh = ((FloatVector) h0.convertShape(VectorOperators.I2F, F, 0))
                        .mul(FloatVector.fromArray(F, xp, e + 4));
                sl = ((FloatVector) l1.convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.fromArray(F, xp, e + 8), sl);
                sh = ((FloatVector) h1.convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.fromArray(F, xp, e + 12), sh);
                sl = ((FloatVector) l2.convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.fromArray(F, xp, e + 16), sl);
                sh = ((FloatVector) h2.convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.fromArray(F, xp, e + 20), sh);
                sl = ((FloatVector) l3.convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.fromArray(F, xp, e + 24), sl);
                sh = ((FloatVector) h3.convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.fromArray(F, xp, e + 28), sh);
                float dScalar = Halfs.f16ToFloat(w.get(HALF, bo)) * xd[dOff + b];
                if (wholeBlockSums) {
                    whole = Math.fma(sl.add(sh).reduceLanes(VectorOperators.ADD), dScalar, whole);
                } else {
                    FloatVector d = FloatVector.broadcast(F, dScalar);
                    accLo = d.fma(sl, accLo);
                    accHi = d.fma(sh, accHi);
                }
                if (mOff >= 0) {
                    summs = Math.fma(Halfs.f16ToFloat(w.get(HALF, bo + mOff)), xs[dOff + b], summs);
                }
            }
            float h = wholeBlockSums ? whole : Q8_0Matrix.hsum8(accLo.lane(0), accLo.lane(1), accLo.lane(2),
                    accLo.lane(3), accHi.lane(0), accHi.lane(1), accHi.lane(2), accHi.lane(3));
            return mOff >= 0 ? h + summs : h;
        }
    }
}
