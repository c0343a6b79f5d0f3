package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
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
 * Q4_K weights: super-blocks of 256 elements ({@code block_q4_K}: fp16 d, fp16 dmin, scales[12] packing eight 6-bit
 * scales and eight 6-bit mins, qs[128]; 144 bytes). Each 64-element chunk j uses qs[32j..32j+32): low nibbles are
 * sub-block 2j, high nibbles sub-block 2j+1; element value {@code d*scale*q - dmin*min}.
 *
 * <p>Products follow {@code ggml_vec_dot_q4_K_q8_K}: the input is quantised to Q8_K; per super-block the integer sum
 * of {@code scale_j * dot(q, x_q)} over the eight sub-blocks is exact, the min term uses Q8_K's per-16 sums
 * ({@code sum_j min_j * bsum_j}), and the super-block adds {@code d*d_x*isum - dmin*d_x*msum} in float.
 *
 * <p>SIMD: nibbles are split in byte lanes, widened to 16-bit and multiplied with the pre-widened input; two products
 * (at most 15*128 each) are added in 16-bit lanes, the pairs widened to 32-bit lanes and multiplied by the sub-block
 * scale in integer lanes (a super-block's sum stays below 2^25). At 512 bits the 256-bit kernels run.
 */
final class Q4_KMatrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 144;

    Q4_KMatrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q4_K, rows, cols, data, width);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_K;
    }

    // The 12 scale bytes unpacked four at a time into ints holding one 6-bit value per byte, as ggml's utmp trick.

    /** Scales 0-3, one per byte. */
    static int scales0to3(MemorySegment w, long bo) {
        return w.get(INT, bo + 4) & 0x3f3f3f3f;
    }

    /** Scales 4-7: low nibbles of bytes 8-11, top two bits from bytes 0-3. */
    static int scales4to7(MemorySegment w, long bo) {
        return (w.get(INT, bo + 12) & 0x0f0f0f0f) | (((w.get(INT, bo + 4) >>> 6) & 0x03030303) << 4);
    }

    /** Mins 0-3, one per byte. */
    static int mins0to3(MemorySegment w, long bo) {
        return w.get(INT, bo + 8) & 0x3f3f3f3f;
    }

    /** Mins 4-7: high nibbles of bytes 8-11, top two bits from bytes 4-7. */
    static int mins4to7(MemorySegment w, long bo) {
        return ((w.get(INT, bo + 12) >>> 4) & 0x0f0f0f0f) | (((w.get(INT, bo + 8) >>> 6) & 0x03030303) << 4);
    }

    /** Byte {@code j % 4} of the packed value {@code j < 4 ? low : high}. */
    static int pick(int low, int high, int j) {
        return ((j < 4 ? low : high) >>> (8 * (j & 3))) & 0xFF;
    }

    /** {@code sum_j min_j * (bsum_{2j} + bsum_{2j+1})}: the min term of one super-block, in integers. */
    static int minSum(int mins03, int mins47, int[] bsums, int bo) {
        int sum = 0;
        for (int j = 0; j < 8; j++) {
            sum += pick(mins03, mins47, j) * (bsums[bo + 2 * j] + bsums[bo + 2 * j + 1]);
        }
        return sum;
    }

    /** {@code dequantize_row_q4_K}. */
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
                long q = bo + 16 + 32L * j;
                for (int l = 0; l < 32; l++) {
                    dst[y + l] = d1 * (data.get(BYTE, q + l) & 0xF) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    dst[y + 32 + l] = d2 * ((data.get(BYTE, q + l) >> 4) & 0xF) - m2;
                }
                y += 64;
            }
        }
    }

    @Override
    boolean hasFloatGemm() {
        return true;
    }

    /** {@link #row} for super-blocks {@code [blockFrom, blockTo)}. */
    @Override
    void dequantizeBlocks(int r, int blockFrom, int blockTo, float[] dst, int dstOffset) {
        long off = rowOffset(r);
        for (int sb = blockFrom; sb < blockTo; sb++) {
            long bo = off + (long) sb * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo));
            float min = Halfs.f16ToFloat(data.get(HALF, bo + 2));
            int sc03 = scales0to3(data, bo);
            int sc47 = scales4to7(data, bo);
            int mn03 = mins0to3(data, bo);
            int mn47 = mins4to7(data, bo);
            int y = dstOffset + (sb - blockFrom) * 256;
            for (int j = 0; j < 4; j++) {
                float d1 = d * pick(sc03, sc47, 2 * j);
                float m1 = min * pick(mn03, mn47, 2 * j);
                float d2 = d * pick(sc03, sc47, 2 * j + 1);
                float m2 = min * pick(mn03, mn47, 2 * j + 1);
                long q = bo + 16 + 32L * j;
                if (width == VectorWidth.W256 || width == VectorWidth.W512) {
                    V256.dequantize64(data, q, d1, m1, d2, m2, dst, y);
                } else {
                    for (int l = 0; l < 32; l++) {
                        int b = data.get(BYTE, q + l);
                        dst[y + l] = d1 * (b & 0xF) - m1;
                        dst[y + 32 + l] = d2 * ((b >> 4) & 0xF) - m2;
                    }
                }
                y += 64;
            }
        }
    }

    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        long off = rowOffset(r);
        int blocks = cols / 256;
        short[] xq = in.qs;
        float sum = 0f;
        for (int sb = 0; sb < blocks; sb++) {
            long bo = off + (long) sb * BLOCK;
            int sc03 = scales0to3(data, bo);
            int sc47 = scales4to7(data, bo);
            int e = token * cols + sb * 256;
            int isum = 0;
            for (int j = 0; j < 4; j++) {
                long q = bo + 16 + 32L * j;
                int lo = 0;
                int hi = 0;
                for (int l = 0; l < 32; l++) {
                    int b = data.get(BYTE, q + l);
                    lo += (b & 0xF) * xq[e + 64 * j + l];
                    hi += ((b >> 4) & 0xF) * xq[e + 64 * j + 32 + l];
                }
                isum += pick(sc03, sc47, 2 * j) * lo + pick(sc03, sc47, 2 * j + 1) * hi;
            }
            int msum = minSum(mins0to3(data, bo), mins4to7(data, bo), in.bsums, (token * blocks + sb) * 16);
            float dx = in.d[token * blocks + sb];
            sum += Halfs.f16ToFloat(data.get(HALF, bo)) * dx * isum;
            sum -= Halfs.f16ToFloat(data.get(HALF, bo + 2)) * dx * msum;
        }
        return sum;
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        return switch (width) {
            case W128 -> V128.dot(data, rowOffset(r), cols / 256, in, token);
            case W256, W512 -> V256.dot(data, rowOffset(r), cols / 256, in, token);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    @Override
    void simdDot4(int r, QuantizedInput in, int token, float[] out, int outIndex) {
        switch (width) {
            case W256, W512 -> V256.dot4(data, rowOffset(r), cols / 256, in, token, out, outIndex, rows);
            default -> super.simdDot4(r, in, token, out, outIndex);
        }
    }

    // One method per kernel, vectors only in locals: a vector passed to a call C2 does not inline gets boxed.
    private static final class V256 {
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

        /** 64 elements: the low nibbles of 32 bytes at {@code q} as {@code d1*q - m1}, the high ones with d2, m2. */
        static void dequantize64(MemorySegment w, long q, float d1, float m1, float d2, float m2, float[] dst,
                int y) {
            ByteVector v = ByteVector.fromMemorySegment(B, w, q, LE);
            ByteVector lo = v.and((byte) 0x0F);
            ByteVector hi = v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 0x0F);
            FloatVector vd1 = FloatVector.broadcast(F, d1);
            FloatVector vm1 = FloatVector.broadcast(F, m1);
            FloatVector vd2 = FloatVector.broadcast(F, d2);
            FloatVector vm2 = FloatVector.broadcast(F, m2);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(vd1).sub(vm1).intoArray(dst, y);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 1)).mul(vd1).sub(vm1).intoArray(dst, y + 8);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 2)).mul(vd1).sub(vm1).intoArray(dst, y + 16);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 3)).mul(vd1).sub(vm1).intoArray(dst, y + 24);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(vd2).sub(vm2).intoArray(dst, y + 32);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 1)).mul(vd2).sub(vm2).intoArray(dst, y + 40);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 2)).mul(vd2).sub(vm2).intoArray(dst, y + 48);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 3)).mul(vd2).sub(vm2).intoArray(dst, y + 56);
        }

        static float dot(MemorySegment w, long off, int blocks, QuantizedInput in, int token) {
            short[] xq = in.qs;
            FloatVector acc = FloatVector.zero(F);
            float minTerms = 0f;
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                int sc03 = w.get(INT, bo + 4) & 0x3f3f3f3f;
                int sc47 = (w.get(INT, bo + 12) & 0x0f0f0f0f) | (((w.get(INT, bo + 4) >>> 6) & 0x03030303) << 4);
                int e = (token * blocks + sb) * 256;
                IntVector isum = IntVector.zero(I);
                for (int j = 0; j < 4; j++) {
                    ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 16 + 32L * j, LE);
                    ByteVector lo = q.and((byte) 0x0F);
                    ByteVector hi = q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0x0F);
                    int x = e + 64 * j;
                    IntVector pl = ((ShortVector) lo.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x))
                            .add(((ShortVector) lo.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 16))).reinterpretAsInts();
                    IntVector ph = ((ShortVector) hi.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 32))
                            .add(((ShortVector) hi.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 48))).reinterpretAsInts();
                    IntVector sl = pl.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(pl.lanewise(VectorOperators.ASHR, 16));
                    IntVector sh = ph.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(ph.lanewise(VectorOperators.ASHR, 16));
                    int scales = (j < 2 ? sc03 : sc47) >>> (16 * (j & 1));
                    isum = isum.add(sl.mul(scales & 0xFF)).add(sh.mul((scales >>> 8) & 0xFF));
                }
                int db = token * blocks + sb;
                float dx = in.d[db];
                acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, Halfs.f16ToFloat(w.get(HALF, bo)) * dx), acc);
                int mn03 = w.get(INT, bo + 8) & 0x3f3f3f3f;
                int mn47 = ((w.get(INT, bo + 12) >>> 4) & 0x0f0f0f0f) | (((w.get(INT, bo
                        + 8) >>> 6) & 0x03030303) << 4);
                int msum = 0;
                for (int j = 0; j < 8; j++) {
                    int mins = j < 4 ? mn03 : mn47;
                    msum += ((mins >>> (8 * (j & 3))) & 0xFF) * (in.bsums[db * 16 + 2 * j] + in.bsums[db * 16 + 2 * j
                            + 1]);
                }
                minTerms += Halfs.f16ToFloat(w.get(HALF, bo + 2)) * dx * msum;
            }
            return (acc.lane(0) + acc.lane(1) + acc.lane(2) + acc.lane(3) + acc.lane(4) + acc.lane(5) + acc.lane(6)
                    + acc.lane(7)) - minTerms;
        }

        static void dot4(MemorySegment w, long off, int blocks, QuantizedInput in, int token, float[] out,
                int outIndex, int outStride) {
            short[] xq = in.qs;
            int cols = blocks * 256;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F);
            FloatVector acc3 = FloatVector.zero(F);
            float min0 = 0f;
            float min1 = 0f;
            float min2 = 0f;
            float min3 = 0f;
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                int sc03 = w.get(INT, bo + 4) & 0x3f3f3f3f;
                int sc47 = (w.get(INT, bo + 12) & 0x0f0f0f0f) | (((w.get(INT, bo + 4) >>> 6) & 0x03030303) << 4);
                int x0 = token * cols + sb * 256;
                int x1 = x0 + cols;
                int x2 = x1 + cols;
                int x3 = x2 + cols;
                IntVector i0 = IntVector.zero(I);
                IntVector i1 = IntVector.zero(I);
                IntVector i2 = IntVector.zero(I);
                IntVector i3 = IntVector.zero(I);
                for (int j = 0; j < 4; j++) {
                    ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 16 + 32L * j, LE);
                    ByteVector lo = q.and((byte) 0x0F);
                    ByteVector hi = q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0x0F);
                    ShortVector lo0 = (ShortVector) lo.convertShape(VectorOperators.B2S, S, 0);
                    ShortVector lo1 = (ShortVector) lo.convertShape(VectorOperators.B2S, S, 1);
                    ShortVector hi0 = (ShortVector) hi.convertShape(VectorOperators.B2S, S, 0);
                    ShortVector hi1 = (ShortVector) hi.convertShape(VectorOperators.B2S, S, 1);
                    int scales = (j < 2 ? sc03 : sc47) >>> (16 * (j & 1));
                    int sLo = scales & 0xFF;
                    int sHi = (scales >>> 8) & 0xFF;
                    int e = 64 * j;
                    IntVector pl = lo0.mul(ShortVector.fromArray(S, xq, x0 + e))
                            .add(lo1.mul(ShortVector.fromArray(S, xq, x0 + e + 16))).reinterpretAsInts();
                    IntVector ph = hi0.mul(ShortVector.fromArray(S, xq, x0 + e + 32))
                            .add(hi1.mul(ShortVector.fromArray(S, xq, x0 + e + 48))).reinterpretAsInts();
                    i0 = i0.add(pl.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(pl.lanewise(VectorOperators.ASHR, 16)).mul(sLo))
                            .add(ph.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                    .add(ph.lanewise(VectorOperators.ASHR, 16)).mul(sHi));
                    pl = lo0.mul(ShortVector.fromArray(S, xq, x1 + e))
                            .add(lo1.mul(ShortVector.fromArray(S, xq, x1 + e + 16))).reinterpretAsInts();
                    ph = hi0.mul(ShortVector.fromArray(S, xq, x1 + e + 32))
                            .add(hi1.mul(ShortVector.fromArray(S, xq, x1 + e + 48))).reinterpretAsInts();
                    i1 = i1.add(pl.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(pl.lanewise(VectorOperators.ASHR, 16)).mul(sLo))
                            .add(ph.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                    .add(ph.lanewise(VectorOperators.ASHR, 16)).mul(sHi));
                    pl = lo0.mul(ShortVector.fromArray(S, xq, x2 + e))
                            .add(lo1.mul(ShortVector.fromArray(S, xq, x2 + e + 16))).reinterpretAsInts();
                    ph = hi0.mul(ShortVector.fromArray(S, xq, x2 + e + 32))
                            .add(hi1.mul(ShortVector.fromArray(S, xq, x2 + e + 48))).reinterpretAsInts();
                    i2 = i2.add(pl.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(pl.lanewise(VectorOperators.ASHR, 16)).mul(sLo))
                            .add(ph.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                    .add(ph.lanewise(VectorOperators.ASHR, 16)).mul(sHi));
                    pl = lo0.mul(ShortVector.fromArray(S, xq, x3 + e))
                            .add(lo1.mul(ShortVector.fromArray(S, xq, x3 + e + 16))).reinterpretAsInts();
                    ph = hi0.mul(ShortVector.fromArray(S, xq, x3 + e + 32))
                            .add(hi1.mul(ShortVector.fromArray(S, xq, x3 + e + 48))).reinterpretAsInts();
                    i3 = i3.add(pl.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(pl.lanewise(VectorOperators.ASHR, 16)).mul(sLo))
                            .add(ph.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                    .add(ph.lanewise(VectorOperators.ASHR, 16)).mul(sHi));
                }
                float dw = Halfs.f16ToFloat(w.get(HALF, bo));
                float mw = Halfs.f16ToFloat(w.get(HALF, bo + 2));
                int mn03 = w.get(INT, bo + 8) & 0x3f3f3f3f;
                int mn47 = ((w.get(INT, bo + 12) >>> 4) & 0x0f0f0f0f) | (((w.get(INT, bo
                        + 8) >>> 6) & 0x03030303) << 4);
                int db = token * blocks + sb;
                int ms0 = 0;
                int ms1 = 0;
                int ms2 = 0;
                int ms3 = 0;
                int[] bsums = in.bsums;
                for (int j = 0; j < 8; j++) {
                    int mins = ((j < 4 ? mn03 : mn47) >>> (8 * (j & 3))) & 0xFF;
                    int g = db * 16 + 2 * j;
                    ms0 += mins * (bsums[g] + bsums[g + 1]);
                    g += 16 * blocks;
                    ms1 += mins * (bsums[g] + bsums[g + 1]);
                    g += 16 * blocks;
                    ms2 += mins * (bsums[g] + bsums[g + 1]);
                    g += 16 * blocks;
                    ms3 += mins * (bsums[g] + bsums[g + 1]);
                }
                float dx0 = in.d[db];
                float dx1 = in.d[db + blocks];
                float dx2 = in.d[db + 2 * blocks];
                float dx3 = in.d[db + 3 * blocks];
                acc0 = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, dw * dx0), acc0);
                acc1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, dw * dx1), acc1);
                acc2 = ((FloatVector) i2.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, dw * dx2), acc2);
                acc3 = ((FloatVector) i3.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, dw * dx3), acc3);
                min0 += mw * dx0 * ms0;
                min1 += mw * dx1 * ms1;
                min2 += mw * dx2 * ms2;
                min3 += mw * dx3 * ms3;
            }
            out[outIndex] = (acc0.lane(0) + acc0.lane(1) + acc0.lane(2) + acc0.lane(3) + acc0.lane(4) + acc0.lane(5)
                    + acc0.lane(6) + acc0.lane(7)) - min0;
            out[outIndex + outStride] = (acc1.lane(0) + acc1.lane(1) + acc1.lane(2) + acc1.lane(3) + acc1.lane(4)
                    + acc1.lane(5) + acc1.lane(6) + acc1.lane(7)) - min1;
            out[outIndex + 2 * outStride] = (acc2.lane(0) + acc2.lane(1) + acc2.lane(2) + acc2.lane(3) + acc2.lane(4)
                    + acc2.lane(5) + acc2.lane(6) + acc2.lane(7)) - min2;
            out[outIndex + 3 * outStride] = (acc3.lane(0) + acc3.lane(1) + acc3.lane(2) + acc3.lane(3) + acc3.lane(4)
                    + acc3.lane(5) + acc3.lane(6) + acc3.lane(7)) - min3;
        }
    }

    private static final class V128 {
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_128;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_128;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_128;

        static float dot(MemorySegment w, long off, int blocks, QuantizedInput in, int token) {
            short[] xq = in.qs;
            FloatVector acc = FloatVector.zero(F);
            float minTerms = 0f;
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                int sc03 = w.get(INT, bo + 4) & 0x3f3f3f3f;
                int sc47 = (w.get(INT, bo + 12) & 0x0f0f0f0f) | (((w.get(INT, bo + 4) >>> 6) & 0x03030303) << 4);
                int e = (token * blocks + sb) * 256;
                IntVector isum = IntVector.zero(I);
                for (int j = 0; j < 4; j++) {
                    ByteVector qa = ByteVector.fromMemorySegment(B, w, bo + 16 + 32L * j, LE);
                    ByteVector qb = ByteVector.fromMemorySegment(B, w, bo + 32 + 32L * j, LE);
                    ByteVector loA = qa.and((byte) 0x0F);
                    ByteVector loB = qb.and((byte) 0x0F);
                    ByteVector hiA = qa.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0x0F);
                    ByteVector hiB = qb.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0x0F);
                    int x = e + 64 * j;
                    // four products of at most 15*128 each fit a 16-bit lane
                    IntVector pl = ((ShortVector) loA.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x))
                            .add(((ShortVector) loA.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 8)))
                            .add(((ShortVector) loB.convertShape(VectorOperators.B2S, S, 0))
                                    .mul(ShortVector.fromArray(S, xq, x + 16)))
                            .add(((ShortVector) loB.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 24))).reinterpretAsInts();
                    IntVector ph = ((ShortVector) hiA.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 32))
                            .add(((ShortVector) hiA.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 40)))
                            .add(((ShortVector) hiB.convertShape(VectorOperators.B2S, S, 0))
                                    .mul(ShortVector.fromArray(S, xq, x + 48)))
                            .add(((ShortVector) hiB.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 56))).reinterpretAsInts();
                    IntVector sl = pl.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(pl.lanewise(VectorOperators.ASHR, 16));
                    IntVector sh = ph.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(ph.lanewise(VectorOperators.ASHR, 16));
                    int scales = (j < 2 ? sc03 : sc47) >>> (16 * (j & 1));
                    isum = isum.add(sl.mul(scales & 0xFF)).add(sh.mul((scales >>> 8) & 0xFF));
                }
                int db = token * blocks + sb;
                float dx = in.d[db];
                acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, Halfs.f16ToFloat(w.get(HALF, bo)) * dx), acc);
                int mn03 = w.get(INT, bo + 8) & 0x3f3f3f3f;
                int mn47 = ((w.get(INT, bo + 12) >>> 4) & 0x0f0f0f0f) | (((w.get(INT, bo
                        + 8) >>> 6) & 0x03030303) << 4);
                int msum = 0;
                for (int j = 0; j < 8; j++) {
                    int mins = j < 4 ? mn03 : mn47;
                    msum += ((mins >>> (8 * (j & 3))) & 0xFF) * (in.bsums[db * 16 + 2 * j] + in.bsums[db * 16 + 2 * j
                            + 1]);
                }
                minTerms += Halfs.f16ToFloat(w.get(HALF, bo + 2)) * dx * msum;
            }
            return (acc.lane(0) + acc.lane(1) + acc.lane(2) + acc.lane(3)) - minTerms;
        }
    }
}
