package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q6_K weights: super-blocks of 256 elements ({@code block_q6_K}: ql[128] low nibbles, qh[64] two high bits each,
 * int8 scales[16], fp16 d; 210 bytes). In each 128-element half n, byte l of {@code ql[64n..]} and {@code qh[32n..]}
 * yields elements l, l+32, l+64, l+96 (low nibble of ql[l] / ql[l+32], high nibble of ql[l] / ql[l+32], with qh bit
 * pairs 0-1, 2-3, 4-5, 6-7 on top), each minus 32; every 16 elements share one signed scale.
 *
 * <p>Products follow {@code ggml_vec_dot_q6_K_q8_K}: Q8_K input, the exact integer sum of
 * {@code scale_j * dot(q, x_q)} over the sixteen 16-element groups, times {@code d * d_x} in float.
 *
 * <p>SIMD: the four 6-bit planes are assembled in byte lanes (mask, shift, or, minus 32), widened to 16-bit lanes and
 * multiplied with the pre-widened input (products of at most 32*128 fit), adjacent products summed into 32-bit lanes
 * and multiplied by the group scale there. At 512 bits the 256-bit kernels run.
 */
final class Q6_KMatrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 210;

    Q6_KMatrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q6_K, rows, cols, data, width);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_K;
    }

    /**
     * Quant {@code k} (0-3: elements l, l+32, l+64, l+96) of byte {@code l} in half {@code n} of the super-block at
     * {@code bo}, already minus 32.
     */
    private int quant(long bo, int n, int l, int k) {
        int ql = data.get(BYTE, bo + 64L * n + l + (k & 1) * 32) & 0xFF;
        int qh = data.get(BYTE, bo + 128 + 32L * n + l) & 0xFF;
        int low = k < 2 ? ql & 0xF : ql >> 4;
        return (low | (((qh >> (2 * k)) & 3) << 4)) - 32;
    }

    private int scale(long bo, int i) {
        return data.get(BYTE, bo + 192 + i);
    }

    /** {@code dequantize_row_q6_K}: {@code y = d * scale * q}. */
    @Override
    public void row(int r, float[] dst, int dstOffset) {
        long off = rowOffset(r);
        for (int sb = 0; sb < cols / 256; sb++) {
            long bo = off + (long) sb * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo + 208));
            for (int n = 0; n < 2; n++) {
                int y = dstOffset + sb * 256 + 128 * n;
                for (int l = 0; l < 32; l++) {
                    int is = 8 * n + l / 16;
                    for (int k = 0; k < 4; k++) {
                        dst[y + l + 32 * k] = d * scale(bo, is + 2 * k) * quant(bo, n, l, k);
                    }
                }
            }
        }
    }

    /**
     * The scalar transcription of ggml's AVX2 {@code ggml_vec_dot_q6_K_q8_K} (b4916): per super-block, 32-bit lane
     * j of 8 holds the exact integer {@code sum scale * ((q - 32) . x)} over bytes 4j..4j+3 of each of the eight
     * 32-element planes (lanes 0-3 take the plane's first 16-element scale, lanes 4-7 its second, as the
     * {@code madd} with the shuffled scales does), converted to float and accumulated as
     * {@code fma(d_x * d, lane, acc_j)}; the lanes are reduced as {@code hsum_float_8}.
     */
    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        long off = rowOffset(r);
        int blocks = cols / 256;
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
        for (int sb = 0; sb < blocks; sb++) {
            long bo = off + (long) sb * BLOCK;
            int db = token * blocks + sb;
            float d = in.d[db] * Halfs.f16ToFloat(data.get(HALF, bo + 208));
            int e = db * 256;
            a0 = Math.fma(d, lane(bo, in.qs, e, 0), a0);
            a1 = Math.fma(d, lane(bo, in.qs, e, 1), a1);
            a2 = Math.fma(d, lane(bo, in.qs, e, 2), a2);
            a3 = Math.fma(d, lane(bo, in.qs, e, 3), a3);
            a4 = Math.fma(d, lane(bo, in.qs, e, 4), a4);
            a5 = Math.fma(d, lane(bo, in.qs, e, 5), a5);
            a6 = Math.fma(d, lane(bo, in.qs, e, 6), a6);
            a7 = Math.fma(d, lane(bo, in.qs, e, 7), a7);
        }
        return Q8_0Matrix.hsum8(a0, a1, a2, a3, a4, a5, a6, a7);
    }

    /** Integer lane {@code j} of one super-block (see {@link #scalarDot}). */
    private int lane(long bo, short[] xq, int e, int j) {
        int sum = 0;
        for (int n = 0; n < 2; n++) {
            for (int k = 0; k < 4; k++) {
                int dot = 0;
                for (int b = 4 * j; b < 4 * j + 4; b++) {
                    dot += quant(bo, n, b, k) * xq[e + 128 * n + 32 * k + b];
                }
                sum += scale(bo, 8 * n + 2 * k + j / 4) * dot;
            }
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

    /**
     * Q4_K's float-lane scheme (see there): 32-byte runs of ql and qh read as eight 32-bit lanes put bytes
     * 4j..4j+3 in lane j, and the four 6-bit planes are assembled for all four bytes of a lane at once (mask, shift,
     * or). XOR-ing 0x20 into a 6-bit quant and sign-extending the 6-bit field gives {@code q - 32} (q >= 32 loses
     * bit 5; q < 32 gains it and turns negative), so one shift pair takes byte k of every lane, already centred.
     * Products and partial sums stay integers of at most 32 * 32 * 128 * 127 < 2^24 per lane, so exact.
     */
    // One method per kernel, vectors only in locals: a vector passed to a call C2 does not inline gets boxed.
    private static final class V256 {
        static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
        /** Lanes 4-7: they take a plane's second 16-element scale. */
        static final VectorMask<Float> UPPER = VectorMask.fromValues(F, false, false, false, false, true, true, true,
                true);

        static float dot(MemorySegment w, long off, int blocks, QuantizedInput in, int token) {
            float[] xl = in.lanes;
            FloatVector acc = FloatVector.zero(F);
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                int db = token * blocks + sb;
                FloatVector sum = FloatVector.zero(F);
                for (int n = 0; n < 2; n++) {
                    IntVector l1 = IntVector.fromMemorySegment(I, w, bo + 64L * n, LE);
                    IntVector l2 = IntVector.fromMemorySegment(I, w, bo + 64L * n + 32, LE);
                    IntVector h = IntVector.fromMemorySegment(I, w, bo + 128 + 32L * n, LE);
                    for (int k = 0; k < 4; k++) {
                        IntVector low = (k & 1) == 0 ? l1 : l2;
                        IntVector p = low.lanewise(VectorOperators.LSHR, 4 * (k >> 1)).and(0x0F0F0F0F)
                                .or((k < 2 ? h.lanewise(VectorOperators.LSHL, 4 - 2 * k)
                                        : h.lanewise(VectorOperators.LSHR, 2 * k - 4)).and(0x30303030))
                                .lanewise(VectorOperators.XOR, 0x20202020);
                        int x = db * 256 + 128 * n + 32 * k;
                        FloatVector a = ((FloatVector) p.lanewise(VectorOperators.LSHL, 26)
                                .lanewise(VectorOperators.ASHR, 26).convert(VectorOperators.I2F, 0))
                                .mul(FloatVector.fromArray(F, xl, x));
                        a = ((FloatVector) p.lanewise(VectorOperators.LSHL, 18).lanewise(VectorOperators.ASHR, 26)
                                .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, xl, x + 8), a);
                        a = ((FloatVector) p.lanewise(VectorOperators.LSHL, 10).lanewise(VectorOperators.ASHR, 26)
                                .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, xl, x + 16), a);
                        a = ((FloatVector) p.lanewise(VectorOperators.LSHL, 2).lanewise(VectorOperators.ASHR, 26)
                                .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, xl, x + 24), a);
                        long sc = bo + 192 + 8L * n + 2 * k;
                        FloatVector scale = FloatVector.broadcast(F, (float) w.get(BYTE, sc))
                                .blend((float) w.get(BYTE, sc + 1), UPPER);
                        sum = a.fma(scale, sum);
                    }
                }
                float d = in.d[db] * Halfs.f16ToFloat(w.get(HALF, bo + 208));
                acc = sum.fma(FloatVector.broadcast(F, d), acc);
            }
            return Q8_0Matrix.hsum8(acc.lane(0), acc.lane(1), acc.lane(2), acc.lane(3), acc.lane(4), acc.lane(5),
                    acc.lane(6), acc.lane(7));
        }

        /** Four tokens against one row, each weight vector unpacked and scaled once. */
        static void dot4(MemorySegment w, long off, int blocks, QuantizedInput in, int token, float[] out,
                int outIndex, int outStride) {
            float[] xl = in.lanes;
            int cols = blocks * 256;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F);
            FloatVector acc3 = FloatVector.zero(F);
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                int db = token * blocks + sb;
                FloatVector s0 = FloatVector.zero(F);
                FloatVector s1 = FloatVector.zero(F);
                FloatVector s2 = FloatVector.zero(F);
                FloatVector s3 = FloatVector.zero(F);
                for (int n = 0; n < 2; n++) {
                    IntVector h = IntVector.fromMemorySegment(I, w, bo + 128 + 32L * n, LE);
                    for (int k = 0; k < 4; k++) {
                        IntVector low = IntVector.fromMemorySegment(I, w, bo + 64L * n + 32 * (k & 1), LE);
                        IntVector p = low.lanewise(VectorOperators.LSHR, 4 * (k >> 1)).and(0x0F0F0F0F)
                                .or((k < 2 ? h.lanewise(VectorOperators.LSHL, 4 - 2 * k)
                                        : h.lanewise(VectorOperators.LSHR, 2 * k - 4)).and(0x30303030))
                                .lanewise(VectorOperators.XOR, 0x20202020);
                        long sc = bo + 192 + 8L * n + 2 * k;
                        FloatVector scale = FloatVector.broadcast(F, (float) w.get(BYTE, sc))
                                .blend((float) w.get(BYTE, sc + 1), UPPER);
                        for (int b = 0; b < 4; b++) {
                            FloatVector q = ((FloatVector) p.lanewise(VectorOperators.LSHL, 26 - 8 * b)
                                    .lanewise(VectorOperators.ASHR, 26).convert(VectorOperators.I2F, 0)).mul(scale);
                            int x = db * 256 + 128 * n + 32 * k + 8 * b;
                            s0 = q.fma(FloatVector.fromArray(F, xl, x), s0);
                            s1 = q.fma(FloatVector.fromArray(F, xl, x + cols), s1);
                            s2 = q.fma(FloatVector.fromArray(F, xl, x + 2 * cols), s2);
                            s3 = q.fma(FloatVector.fromArray(F, xl, x + 3 * cols), s3);
                        }
                    }
                }
                float dw = Halfs.f16ToFloat(w.get(HALF, bo + 208));
                acc0 = s0.fma(FloatVector.broadcast(F, in.d[db] * dw), acc0);
                acc1 = s1.fma(FloatVector.broadcast(F, in.d[db + blocks] * dw), acc1);
                acc2 = s2.fma(FloatVector.broadcast(F, in.d[db + 2 * blocks] * dw), acc2);
                acc3 = s3.fma(FloatVector.broadcast(F, in.d[db + 3 * blocks] * dw), acc3);
            }
            out[outIndex] = Q8_0Matrix.hsum8(acc0.lane(0), acc0.lane(1), acc0.lane(2), acc0.lane(3), acc0.lane(4),
                    acc0.lane(5), acc0.lane(6), acc0.lane(7));
            out[outIndex + outStride] = Q8_0Matrix.hsum8(acc1.lane(0), acc1.lane(1), acc1.lane(2), acc1.lane(3),
                    acc1.lane(4), acc1.lane(5), acc1.lane(6), acc1.lane(7));
            out[outIndex + 2 * outStride] = Q8_0Matrix.hsum8(acc2.lane(0), acc2.lane(1), acc2.lane(2), acc2.lane(3),
                    acc2.lane(4), acc2.lane(5), acc2.lane(6), acc2.lane(7));
            out[outIndex + 3 * outStride] = Q8_0Matrix.hsum8(acc3.lane(0), acc3.lane(1), acc3.lane(2), acc3.lane(3),
                    acc3.lane(4), acc3.lane(5), acc3.lane(6), acc3.lane(7));
        }
    }

    /** 128-bit lanes: ggml's lanes 0-3 and 4-7 as two accumulators, each with one scale per plane. */
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
                FloatVector sumA = FloatVector.zero(F);
                FloatVector sumB = FloatVector.zero(F);
                for (int n = 0; n < 2; n++) {
                    IntVector ha = IntVector.fromMemorySegment(I, w, bo + 128 + 32L * n, LE);
                    IntVector hb = IntVector.fromMemorySegment(I, w, bo + 144 + 32L * n, LE);
                    for (int k = 0; k < 4; k++) {
                        long lo = bo + 64L * n + 32 * (k & 1);
                        IntVector pa = IntVector.fromMemorySegment(I, w, lo, LE)
                                .lanewise(VectorOperators.LSHR, 4 * (k >> 1)).and(0x0F0F0F0F)
                                .or((k < 2 ? ha.lanewise(VectorOperators.LSHL, 4 - 2 * k)
                                        : ha.lanewise(VectorOperators.LSHR, 2 * k - 4)).and(0x30303030))
                                .lanewise(VectorOperators.XOR, 0x20202020);
                        IntVector pb = IntVector.fromMemorySegment(I, w, lo + 16, LE)
                                .lanewise(VectorOperators.LSHR, 4 * (k >> 1)).and(0x0F0F0F0F)
                                .or((k < 2 ? hb.lanewise(VectorOperators.LSHL, 4 - 2 * k)
                                        : hb.lanewise(VectorOperators.LSHR, 2 * k - 4)).and(0x30303030))
                                .lanewise(VectorOperators.XOR, 0x20202020);
                        int x = db * 256 + 128 * n + 32 * k;
                        FloatVector a = FloatVector.zero(F);
                        FloatVector b = FloatVector.zero(F);
                        for (int byteIndex = 0; byteIndex < 4; byteIndex++) {
                            int shift = 26 - 8 * byteIndex;
                            a = ((FloatVector) pa.lanewise(VectorOperators.LSHL, shift)
                                    .lanewise(VectorOperators.ASHR, 26).convert(VectorOperators.I2F, 0))
                                    .fma(FloatVector.fromArray(F, xl, x + 8 * byteIndex), a);
                            b = ((FloatVector) pb.lanewise(VectorOperators.LSHL, shift)
                                    .lanewise(VectorOperators.ASHR, 26).convert(VectorOperators.I2F, 0))
                                    .fma(FloatVector.fromArray(F, xl, x + 8 * byteIndex + 4), b);
                        }
                        long sc = bo + 192 + 8L * n + 2 * k;
                        sumA = a.fma(FloatVector.broadcast(F, (float) w.get(BYTE, sc)), sumA);
                        sumB = b.fma(FloatVector.broadcast(F, (float) w.get(BYTE, sc + 1)), sumB);
                    }
                }
                FloatVector d = FloatVector.broadcast(F, in.d[db] * Halfs.f16ToFloat(w.get(HALF, bo + 208)));
                accA = sumA.fma(d, accA);
                accB = sumB.fma(d, accB);
            }
            return Q8_0Matrix.hsum8(accA.lane(0), accA.lane(1), accA.lane(2), accA.lane(3), accB.lane(0),
                    accB.lane(1), accB.lane(2), accB.lane(3));
        }
    }
}
