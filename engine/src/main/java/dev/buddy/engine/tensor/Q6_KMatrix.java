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

    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        long off = rowOffset(r);
        int blocks = cols / 256;
        short[] xq = in.qs;
        float sum = 0f;
        for (int sb = 0; sb < blocks; sb++) {
            long bo = off + (long) sb * BLOCK;
            int e = token * cols + sb * 256;
            int isum = 0;
            for (int n = 0; n < 2; n++) {
                for (int g = 0; g < 8; g++) {
                    // group g: plane k = g / 2, bytes l = 16 * (g % 2) .. +16
                    int k = g / 2;
                    int group = 0;
                    for (int i = 0; i < 16; i++) {
                        int l = 16 * (g % 2) + i;
                        group += quant(bo, n, l, k) * xq[e + 128 * n + 32 * k + l];
                    }
                    isum += scale(bo, 8 * n + 2 * k + g % 2) * group;
                }
            }
            sum += Halfs.f16ToFloat(data.get(HALF, bo + 208)) * in.d[token * blocks + sb] * isum;
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
    // The single-token kernels write the four bit planes and eight groups of a half out in full (1.7x faster than a
    // loop over planes, measured). The 4-token tile loops over planes instead: written out, it was too big for C1
    // ("out of virtual registers"), so it never reached C2 and ran boxed Vector API code indefinitely.
    @Override
    boolean hasFloatGemm() {
        return true;
    }

    /** Prefill: {@link #row} ({@code d * scale * q}) for super-blocks {@code [blockFrom, blockTo)}. */
    @Override
    void dequantizeBlocks(int r, int blockFrom, int blockTo, float[] dst, int dstOffset) {
        long off = rowOffset(r);
        for (int sb = blockFrom; sb < blockTo; sb++) {
            long bo = off + (long) sb * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo + 208));
            for (int n = 0; n < 2; n++) {
                int y = dstOffset + (sb - blockFrom) * 256 + 128 * n;
                for (int g = 0; g < 2; g++) {
                    int is = 8 * n + g;
                    float d0 = d * scale(bo, is);
                    float d1 = d * scale(bo, is + 2);
                    float d2 = d * scale(bo, is + 4);
                    float d3 = d * scale(bo, is + 6);
                    for (int l = 16 * g; l < 16 * g + 16; l++) {
                        int ql0 = data.get(BYTE, bo + 64L * n + l) & 0xFF;
                        int ql1 = data.get(BYTE, bo + 64L * n + l + 32) & 0xFF;
                        int qh = data.get(BYTE, bo + 128 + 32L * n + l) & 0xFF;
                        dst[y + l] = d0 * (((ql0 & 0xF) | ((qh & 3) << 4)) - 32);
                        dst[y + l + 32] = d1 * (((ql1 & 0xF) | (((qh >> 2) & 3) << 4)) - 32);
                        dst[y + l + 64] = d2 * (((ql0 >> 4) | (((qh >> 4) & 3) << 4)) - 32);
                        dst[y + l + 96] = d3 * (((ql1 >> 4) | (((qh >> 6) & 3) << 4)) - 32);
                    }
                }
            }
        }
    }

    private static final class V256 {
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

        static float dot(MemorySegment w, long off, int blocks, QuantizedInput in, int token) {
            short[] xq = in.qs;
            FloatVector acc = FloatVector.zero(F);
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                IntVector isum = IntVector.zero(I);
                for (int n = 0; n < 2; n++) {
                    ByteVector l0 = ByteVector.fromMemorySegment(B, w, bo + 64L * n, LE);
                    ByteVector l1 = ByteVector.fromMemorySegment(B, w, bo + 64L * n + 32, LE);
                    ByteVector h = ByteVector.fromMemorySegment(B, w, bo + 128 + 32L * n, LE);
                    ByteVector q1 = l0.and((byte) 0x0F).or(h.reinterpretAsShorts().lanewise(VectorOperators.LSHL, 4)
                            .reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32);
                    ByteVector q2 = l1.and((byte) 0x0F).or(h.reinterpretAsShorts().lanewise(VectorOperators.LSHL, 2)
                            .reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32);
                    ByteVector q3 = l0.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0x0F).or(h.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q4 = l1.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0x0F)
                            .or(h.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes()
                                    .and((byte) 0x30)).sub((byte) 32);
                    int x = (token * blocks + sb) * 256 + 128 * n;
                    long sc = bo + 192 + 8L * n;
                    IntVector p0 = ((ShortVector) q1.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 0)).reinterpretAsInts();
                    isum = isum.add(p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p0.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 0)));
                    IntVector p1 = ((ShortVector) q1.convertShape(VectorOperators.B2S, S, 1))
                            .mul(ShortVector.fromArray(S, xq, x + 16)).reinterpretAsInts();
                    isum = isum.add(p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p1.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 1)));
                    IntVector p2 = ((ShortVector) q2.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 32)).reinterpretAsInts();
                    isum = isum.add(p2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p2.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 2)));
                    IntVector p3 = ((ShortVector) q2.convertShape(VectorOperators.B2S, S, 1))
                            .mul(ShortVector.fromArray(S, xq, x + 48)).reinterpretAsInts();
                    isum = isum.add(p3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p3.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 3)));
                    IntVector p4 = ((ShortVector) q3.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 64)).reinterpretAsInts();
                    isum = isum.add(p4.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p4.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 4)));
                    IntVector p5 = ((ShortVector) q3.convertShape(VectorOperators.B2S, S, 1))
                            .mul(ShortVector.fromArray(S, xq, x + 80)).reinterpretAsInts();
                    isum = isum.add(p5.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p5.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 5)));
                    IntVector p6 = ((ShortVector) q4.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 96)).reinterpretAsInts();
                    isum = isum.add(p6.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p6.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 6)));
                    IntVector p7 = ((ShortVector) q4.convertShape(VectorOperators.B2S, S, 1))
                            .mul(ShortVector.fromArray(S, xq, x + 112)).reinterpretAsInts();
                    isum = isum.add(p7.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p7.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 7)));
                }
                float d = Halfs.f16ToFloat(w.get(HALF, bo + 208)) * in.d[token * blocks + sb];
                acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
            }
            return (acc.lane(0) + acc.lane(1) + acc.lane(2) + acc.lane(3) + acc.lane(4) + acc.lane(5) + acc.lane(6)
                    + acc.lane(7));
        }

        static void dot4(MemorySegment w, long off, int blocks, QuantizedInput in, int token, float[] out,
                int outIndex, int outStride) {
            short[] xq = in.qs;
            int cols = blocks * 256;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F);
            FloatVector acc3 = FloatVector.zero(F);
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                IntVector i0 = IntVector.zero(I);
                IntVector i1 = IntVector.zero(I);
                IntVector i2 = IntVector.zero(I);
                IntVector i3 = IntVector.zero(I);
                for (int n = 0; n < 2; n++) {
                    ByteVector h = ByteVector.fromMemorySegment(B, w, bo + 128 + 32L * n, LE);
                    for (int k = 0; k < 4; k++) {
                        ByteVector l = ByteVector.fromMemorySegment(B, w, bo + 64L * n + 32 * (k & 1), LE);
                        ByteVector q = l.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4 * (k >> 1))
                                .reinterpretAsBytes().and((byte) 0x0F)
                                .or(h.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 2 * k)
                                        .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                                .sub((byte) 32);
                        ShortVector wa = (ShortVector) q.convertShape(VectorOperators.B2S, S, 0);
                        ShortVector wb = (ShortVector) q.convertShape(VectorOperators.B2S, S, 1);
                        long sc = bo + 192 + 8L * n + 2 * k;
                        int sa = w.get(BYTE, sc);
                        int sbScale = w.get(BYTE, sc + 1);
                        int x0 = token * cols + sb * 256 + 128 * n + 32 * k;
                        int x1 = x0 + cols;
                        int x2 = x1 + cols;
                        int x3 = x2 + cols;
                        IntVector pa = wa.mul(ShortVector.fromArray(S, xq, x0)).reinterpretAsInts();
                        IntVector pb = wb.mul(ShortVector.fromArray(S, xq, x0 + 16)).reinterpretAsInts();
                        i0 = i0.add(pa.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                .add(pa.lanewise(VectorOperators.ASHR, 16)).mul(sa))
                                .add(pb.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                        .add(pb.lanewise(VectorOperators.ASHR, 16)).mul(sbScale));
                        pa = wa.mul(ShortVector.fromArray(S, xq, x1)).reinterpretAsInts();
                        pb = wb.mul(ShortVector.fromArray(S, xq, x1 + 16)).reinterpretAsInts();
                        i1 = i1.add(pa.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                .add(pa.lanewise(VectorOperators.ASHR, 16)).mul(sa))
                                .add(pb.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                        .add(pb.lanewise(VectorOperators.ASHR, 16)).mul(sbScale));
                        pa = wa.mul(ShortVector.fromArray(S, xq, x2)).reinterpretAsInts();
                        pb = wb.mul(ShortVector.fromArray(S, xq, x2 + 16)).reinterpretAsInts();
                        i2 = i2.add(pa.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                .add(pa.lanewise(VectorOperators.ASHR, 16)).mul(sa))
                                .add(pb.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                        .add(pb.lanewise(VectorOperators.ASHR, 16)).mul(sbScale));
                        pa = wa.mul(ShortVector.fromArray(S, xq, x3)).reinterpretAsInts();
                        pb = wb.mul(ShortVector.fromArray(S, xq, x3 + 16)).reinterpretAsInts();
                        i3 = i3.add(pa.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                .add(pa.lanewise(VectorOperators.ASHR, 16)).mul(sa))
                                .add(pb.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                                        .add(pb.lanewise(VectorOperators.ASHR, 16)).mul(sbScale));
                    }
                }
                float dw = Halfs.f16ToFloat(w.get(HALF, bo + 208));
                int db = token * blocks + sb;
                acc0 = ((FloatVector) i0.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, dw * in.d[db]), acc0);
                acc1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, dw * in.d[db + blocks]), acc1);
                acc2 = ((FloatVector) i2.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, dw * in.d[db + 2 * blocks]), acc2);
                acc3 = ((FloatVector) i3.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, dw * in.d[db + 3 * blocks]), acc3);
            }
            out[outIndex] = (acc0.lane(0) + acc0.lane(1) + acc0.lane(2) + acc0.lane(3) + acc0.lane(4) + acc0.lane(5)
                    + acc0.lane(6) + acc0.lane(7));
            out[outIndex + outStride] = (acc1.lane(0) + acc1.lane(1) + acc1.lane(2) + acc1.lane(3) + acc1.lane(4)
                    + acc1.lane(5) + acc1.lane(6) + acc1.lane(7));
            out[outIndex + 2 * outStride] = (acc2.lane(0) + acc2.lane(1) + acc2.lane(2) + acc2.lane(3) + acc2.lane(4)
                    + acc2.lane(5) + acc2.lane(6) + acc2.lane(7));
            out[outIndex + 3 * outStride] = (acc3.lane(0) + acc3.lane(1) + acc3.lane(2) + acc3.lane(3) + acc3.lane(4)
                    + acc3.lane(5) + acc3.lane(6) + acc3.lane(7));
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
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                IntVector isum = IntVector.zero(I);
                for (int n = 0; n < 2; n++) {
                    ByteVector l0a = ByteVector.fromMemorySegment(B, w, bo + 64L * n, LE);
                    ByteVector l1a = ByteVector.fromMemorySegment(B, w, bo + 64L * n + 32, LE);
                    ByteVector ha = ByteVector.fromMemorySegment(B, w, bo + 128 + 32L * n, LE);
                    ByteVector q1a = l0a.and((byte) 0x0F).or(ha.and((byte) 0x03).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32);
                    ByteVector q2a = l1a.and((byte) 0x0F).or(ha.and((byte) 0x0C).lanewise(VectorOperators.LSHL, 2))
                            .sub((byte) 32);
                    ByteVector q3a = l0a.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0x0F).or(ha.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q4a = l1a.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0x0F)
                            .or(ha.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32);
                    ByteVector l0b = ByteVector.fromMemorySegment(B, w, bo + 64L * n + 16, LE);
                    ByteVector l1b = ByteVector.fromMemorySegment(B, w, bo + 64L * n + 48, LE);
                    ByteVector hb = ByteVector.fromMemorySegment(B, w, bo + 144 + 32L * n, LE);
                    ByteVector q1b = l0b.and((byte) 0x0F).or(hb.and((byte) 0x03).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32);
                    ByteVector q2b = l1b.and((byte) 0x0F).or(hb.and((byte) 0x0C).lanewise(VectorOperators.LSHL, 2))
                            .sub((byte) 32);
                    ByteVector q3b = l0b.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0x0F).or(hb.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q4b = l1b.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0x0F)
                            .or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32);
                    int x = (token * blocks + sb) * 256 + 128 * n;
                    long sc = bo + 192 + 8L * n;
                    // group g covers elements 16g..16g+15 of this half: plane g/2, byte half g%2 (suffix a/b)
                    IntVector p0 = ((ShortVector) q1a.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 0))
                            .add(((ShortVector) q1a.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 8))).reinterpretAsInts();
                    isum = isum.add(p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p0.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 0)));
                    IntVector p1 = ((ShortVector) q1b.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 16))
                            .add(((ShortVector) q1b.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 24))).reinterpretAsInts();
                    isum = isum.add(p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p1.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 1)));
                    IntVector p2 = ((ShortVector) q2a.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 32))
                            .add(((ShortVector) q2a.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 40))).reinterpretAsInts();
                    isum = isum.add(p2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p2.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 2)));
                    IntVector p3 = ((ShortVector) q2b.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 48))
                            .add(((ShortVector) q2b.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 56))).reinterpretAsInts();
                    isum = isum.add(p3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p3.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 3)));
                    IntVector p4 = ((ShortVector) q3a.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 64))
                            .add(((ShortVector) q3a.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 72))).reinterpretAsInts();
                    isum = isum.add(p4.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p4.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 4)));
                    IntVector p5 = ((ShortVector) q3b.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 80))
                            .add(((ShortVector) q3b.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 88))).reinterpretAsInts();
                    isum = isum.add(p5.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p5.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 5)));
                    IntVector p6 = ((ShortVector) q4a.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 96))
                            .add(((ShortVector) q4a.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 104))).reinterpretAsInts();
                    isum = isum.add(p6.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p6.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 6)));
                    IntVector p7 = ((ShortVector) q4b.convertShape(VectorOperators.B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xq, x + 112))
                            .add(((ShortVector) q4b.convertShape(VectorOperators.B2S, S, 1))
                                    .mul(ShortVector.fromArray(S, xq, x + 120))).reinterpretAsInts();
                    isum = isum.add(p7.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p7.lanewise(VectorOperators.ASHR, 16)).mul(w.get(BYTE, sc + 7)));
                }
                float d = Halfs.f16ToFloat(w.get(HALF, bo + 208)) * in.d[token * blocks + sb];
                acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
            }
            return (acc.lane(0) + acc.lane(1) + acc.lane(2) + acc.lane(3));
        }
    }
}
