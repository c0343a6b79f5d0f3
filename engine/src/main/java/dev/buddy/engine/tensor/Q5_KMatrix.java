package dev.buddy.engine.tensor;

import static dev.buddy.engine.tensor.Q4_KMatrix.minSum;
import static dev.buddy.engine.tensor.Q4_KMatrix.mins0to3;
import static dev.buddy.engine.tensor.Q4_KMatrix.mins4to7;
import static dev.buddy.engine.tensor.Q4_KMatrix.pick;
import static dev.buddy.engine.tensor.Q4_KMatrix.scales0to3;
import static dev.buddy.engine.tensor.Q4_KMatrix.scales4to7;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q5_K weights: super-blocks of 256 elements ({@code block_q5_K}: fp16 d, fp16 dmin, scales[12] as in Q4_K, qh[32],
 * qs[128]; 176 bytes). As Q4_K, plus a fifth bit per element: element l of 64-element chunk j takes bit 2j
 * (sub-block 2j, low nibbles) or 2j+1 (sub-block 2j+1, high nibbles) of qh[l % 32] as 16.
 *
 * <p>Every width computes exactly what llama.cpp b4916's AVX2 {@code ggml_vec_dot_q5_K_q8_K} computes (see
 * {@link #scalarDot}), for decode and prefill alike. SIMD choice as Q4_K (measured the same way: single-token
 * integer kernel 3.5-3.8 ms per 8192x2048 matvec against 3.5 ms for main's non-exact kernel). Prompts of 4 or more
 * tokens at 256/512 bits run {@link KQuantPromptGemm}: 64 tokens in 82-87 ms against 183 ms for the previous 4-token
 * tile (JMH {@code KernelBenchmark.prefill}, one thread).
 */
final class Q5_KMatrix extends KQuantMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 176;

    Q5_KMatrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q5_K, rows, cols, data, width);
    }

    /** {@code dequantize_row_q5_K}. */
    @Override
    public void row(int r, float[] dst, int dstOffset) {
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
                long q = bo + 48 + 32L * j;
                int u1 = 1 << (2 * j);
                int u2 = 2 << (2 * j);
                for (int l = 0; l < 32; l++) {
                    int high = (data.get(BYTE, bo + 16 + l) & u1) != 0 ? 16 : 0;
                    dst[y + l] = d1 * ((data.get(BYTE, q + l) & 0xF) + high) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    int high = (data.get(BYTE, bo + 16 + l) & u2) != 0 ? 16 : 0;
                    dst[y + 32 + l] = d2 * (((data.get(BYTE, q + l) >> 4) & 0xF) + high) - m2;
                }
                y += 64;
            }
        }
    }

    /**
     * ggml's min term for one token: per super-block the exact integer {@code sum_j min_j * bsum32_j}, converted to
     * float and accumulated into one scalar as {@code fma(sum, -d_x * dmin, acc)} (the b4916 x86 build contracts
     * {@code summs += dmin * sum} into an FMA).
     */
    static float minTerm(MemorySegment w, long off, int blocks, QuantizedInput in, int token) {
        float summs = 0f;
        for (int sb = 0; sb < blocks; sb++) {
            long bo = off + (long) sb * BLOCK;
            int db = token * blocks + sb;
            float dmin = -in.d[db] * Halfs.f16ToFloat(w.get(HALF, bo + 2));
            summs = Math.fma(dmin, minSum(mins0to3(w, bo), mins4to7(w, bo), in.bsums, db * 16), summs);
        }
        return summs;
    }

    /**
     * The scalar transcription of ggml's AVX2 {@code ggml_vec_dot_q5_K_q8_K} (b4916): as Q4_K's (lane j of 8 holds
     * bytes 4j..4j+3 of every 32-element sub-block times its scale, {@code fma(d_x * d, lane, acc_j)},
     * {@code hsum_float_8}), plus the scalar min term.
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
            long q = bo + 48 + 32L * c;
            int lo = 0;
            int hi = 0;
            for (int b = 4 * j; b < 4 * j + 4; b++) {
                int v = data.get(BYTE, q + b);
                int h = data.get(BYTE, bo + 16 + b) >> (2 * c);
                lo += ((v & 0xF) | ((h & 1) << 4)) * xq[e + 64 * c + b];
                hi += (((v >> 4) & 0xF) | ((h & 2) << 3)) * xq[e + 64 * c + 32 + b];
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

    @Override
    void laneWeights(int r, int sb, int count, float[] dst, int off, float[] ds, int dOff) {
        V256.laneWeights(data, rowOffset(r), sb, count, dst, off, ds, dOff);
    }

    @Override
    int minLaneCount() {
        return 1;
    }


    /** The 256-bit single-token kernel takes the min term's 32-quant sums from {@link QuantizedInput#blockSums}. */
    @Override
    boolean readsBlockSums() {
        return width == VectorWidth.W256 || width == VectorWidth.W512;
    }

    /**
     * Q4_K's two schemes (see there); for the float one: a 32-byte quant run read as eight 32-bit lanes puts bytes
     * 4j..4j+3 in lane j; the fifth bits of run c are bit 2c (low nibbles) and 2c+1 (high nibbles) of the same
     * bytes of qh, so {@code qh >>> 2c} read the same way lines them up, and one shift and mask OR them in as 0x10
     * for all four bytes of a lane at once. Products and partial sums stay integers below 2^24
     * (32 * 31 * 63 * 127), so exact.
     */
    // One method per kernel, vectors only in locals: a vector passed to a call C2 does not inline gets boxed.
    private static final class V256 {
        static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

        static final VectorMask<Integer> UPPER = VectorMask.fromLong(I, 0xF0L);
        static final IntVector BYTE_SHIFTS = IntVector.fromArray(I, new int[] {0, 8, 16, 24, 0, 8, 16, 24}, 0);

        /**
         * Single token, in integer lanes as Q4_K's, min term included: each run's 5-bit quants are assembled two per
         * 16-bit lane (low byte the even element, high byte the odd one), split with a mask and a shift, multiplied
         * by {@link QuantizedInput#pairs}; pair sums (at most 2 * 31 * 127) and their neighbour sums fit 16 bits.
         * The min term's exact integer per super-block ({@code sum_j min_j * bsum32_j}) is one vector of the eight
         * mins times the eight 32-quant sums ({@link QuantizedInput#blockSums}), summed across lanes, then fed to
         * ggml's scalar {@code fma} in the same pass; the unpacking is written out (as in Q4_K's kernel) so that no
         * call is left in the loop. Against the previous kernel with its separate scalar min pass (8192x2048, one
         * thread, old and new alternated in one JVM, medians of 300 matvecs on the loaded machine): 1.52x faster on
         * one L3-resident matrix (3.96 against 6.04 ms), 1.37x cycling through eight (92 MB, streamed from memory:
         * 2.68 against 3.68 ms).
         */
        static float dot(MemorySegment w, long off, int blocks, QuantizedInput in, int token) {
            short[] xp = in.pairs;
            float[] xd = in.d;
            int[] xs = in.blockSums;
            FloatVector acc = FloatVector.zero(F);
            float summs = 0f;
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                int db = token * blocks + sb;
                int packed4 = w.get(INT, bo + 4);
                int packed8 = w.get(INT, bo + 8);
                int packed12 = w.get(INT, bo + 12);
                // scales0to3, scales4to7 (and below mins0to3, mins4to7) written out
                int scales03 = packed4 & 0x3f3f3f3f;
                int scales47 = (packed12 & 0x0f0f0f0f) | (((packed4 >>> 6) & 0x03030303) << 4);
                // qh shifted by a constant 2 per run: a shift count that varies with c ran 1.5x slower
                ShortVector h = ShortVector.fromMemorySegment(S, w, bo + 16, LE);
                IntVector isum = IntVector.zero(I);
                for (int c = 0; c < 4; c++) {
                    ShortVector s = ShortVector.fromMemorySegment(S, w, bo + 48 + 32L * c, LE);
                    ShortVector ql = s.and((short) 0x0F0F)
                            .or(h.lanewise(VectorOperators.LSHL, 4).and((short) 0x1010));
                    ShortVector qu = s.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F0F)
                            .or(h.lanewise(VectorOperators.LSHL, 3).and((short) 0x1010));
                    int x = db * 256 + 64 * c;
                    IntVector lo = ql.and((short) 0x00FF).mul(ShortVector.fromArray(S, xp, x))
                            .add(ql.lanewise(VectorOperators.LSHR, 8).mul(ShortVector.fromArray(S, xp, x + 16)))
                            .reinterpretAsInts();
                    IntVector hi = qu.and((short) 0x00FF).mul(ShortVector.fromArray(S, xp, x + 32))
                            .add(qu.lanewise(VectorOperators.LSHR, 8).mul(ShortVector.fromArray(S, xp, x + 48)))
                            .reinterpretAsInts();
                    lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    // scales 2c and 2c+1: bytes 2(c&1) and 2(c&1)+1 of scales03 (c < 2) or scales47
                    int pair = (c < 2 ? scales03 : scales47) >>> (16 * (c & 1));
                    isum = isum.add(lo.mul(pair & 0xFF)).add(hi.mul((pair >>> 8) & 0xFF));
                    h = h.lanewise(VectorOperators.LSHR, 2);
                }
                float dx = xd[db];
                acc = ((FloatVector) isum.convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.broadcast(F, dx * Float.float16ToFloat(w.get(HALF, bo))), acc);
                int minSum = IntVector.broadcast(I, packed8 & 0x3f3f3f3f)
                        .blend(((packed12 >>> 4) & 0x0f0f0f0f) | (((packed8 >>> 6) & 0x03030303) << 4), UPPER)
                        .lanewise(VectorOperators.LSHR, BYTE_SHIFTS).and(0xFF)
                        .mul(IntVector.fromArray(I, xs, db * 8)).reduceLanes(VectorOperators.ADD);
                summs = Math.fma(-dx * Float.float16ToFloat(w.get(HALF, bo + 2)), minSum, summs);
            }
            return Q8_0Matrix.hsum8(acc.lane(0), acc.lane(1), acc.lane(2), acc.lane(3), acc.lane(4), acc.lane(5),
                    acc.lane(6), acc.lane(7)) + summs;
        }

        /**
         * Super-blocks {@code [sb, sb + count)} as exact integer weights {@code q * scale} in lane order (see
         * {@link KQuantMatrix#laneWeights}); the fifth bits of run c are bits 2c and 2c+1 of the same
         * bytes of qh, brought into place by running shifts by constants.
         */
        static void laneWeights(MemorySegment w, long off, int sb, int count, float[] dst, int at, float[] ds,
                int dAt) {
            for (int s = 0; s < count; s++) {
                long bo = off + (long) (sb + s) * BLOCK;
                int sc03 = scales0to3(w, bo);
                int sc47 = scales4to7(w, bo);
                ds[dAt + s] = Halfs.f16ToFloat(w.get(HALF, bo));
                IntVector h = IntVector.fromMemorySegment(I, w, bo + 16, LE);
                for (int c = 0; c < 4; c++) {
                    IntVector v = IntVector.fromMemorySegment(I, w, bo + 48 + 32L * c, LE);
                    IntVector ql = v.and(0x0F0F0F0F).or(h.lanewise(VectorOperators.LSHL, 4).and(0x10101010));
                    IntVector qu = v.lanewise(VectorOperators.LSHR, 4).and(0x0F0F0F0F)
                            .or(h.lanewise(VectorOperators.LSHL, 3).and(0x10101010));
                    float scaleLo = pick(sc03, sc47, 2 * c);
                    float scaleHi = pick(sc03, sc47, 2 * c + 1);
                    int y = at + 256 * s + 64 * c;
                    for (int k = 0; k < 4; k++) {
                        ((FloatVector) ql.and(0xFF).convertShape(VectorOperators.I2F, F, 0)).mul(scaleLo)
                                .intoArray(dst, y + 8 * k);
                        ((FloatVector) qu.and(0xFF).convertShape(VectorOperators.I2F, F, 0)).mul(scaleHi)
                                .intoArray(dst, y + 32 + 8 * k);
                        ql = ql.lanewise(VectorOperators.LSHR, 8);
                        qu = qu.lanewise(VectorOperators.LSHR, 8);
                    }
                    h = h.lanewise(VectorOperators.LSHR, 2);
                }
            }
        }
    }

    /** 128-bit lanes: ggml's lanes 0-3 and 4-7 as two accumulators, from bytes 0-15 and 16-31 of each run. */
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
                IntVector qhA = IntVector.fromMemorySegment(I, w, bo + 16, LE);
                IntVector qhB = IntVector.fromMemorySegment(I, w, bo + 32, LE);
                FloatVector sumA = FloatVector.zero(F);
                FloatVector sumB = FloatVector.zero(F);
                for (int c = 0; c < 4; c++) {
                    IntVector va = IntVector.fromMemorySegment(I, w, bo + 48 + 32L * c, LE);
                    IntVector vb = IntVector.fromMemorySegment(I, w, bo + 64 + 32L * c, LE);
                    IntVector ha = qhA.lanewise(VectorOperators.LSHR, 2 * c);
                    IntVector hb = qhB.lanewise(VectorOperators.LSHR, 2 * c);
                    for (int n = 0; n < 2; n++) {
                        IntVector qa = va.lanewise(VectorOperators.LSHR, 4 * n).and(0x0F0F0F0F)
                                .or(ha.lanewise(VectorOperators.LSHL, 4 - n).and(0x10101010));
                        IntVector qb = vb.lanewise(VectorOperators.LSHR, 4 * n).and(0x0F0F0F0F)
                                .or(hb.lanewise(VectorOperators.LSHL, 4 - n).and(0x10101010));
                        int x = db * 256 + 64 * c + 32 * n;
                        FloatVector a = FloatVector.zero(F);
                        FloatVector b = FloatVector.zero(F);
                        for (int k = 0; k < 4; k++) {
                            a = ((FloatVector) qa.lanewise(VectorOperators.LSHR, 8 * k).and(0xFF)
                                    .convertShape(VectorOperators.I2F, F, 0))
                                    .fma(FloatVector.fromArray(F, xl, x + 8 * k), a);
                            b = ((FloatVector) qb.lanewise(VectorOperators.LSHR, 8 * k).and(0xFF)
                                    .convertShape(VectorOperators.I2F, F, 0))
                                    .fma(FloatVector.fromArray(F, xl, x + 8 * k + 4), b);
                        }
                        FloatVector scale = FloatVector.broadcast(F, (float) pick(sc03, sc47, 2 * c + n));
                        sumA = a.fma(scale, sumA);
                        sumB = b.fma(scale, sumB);
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
