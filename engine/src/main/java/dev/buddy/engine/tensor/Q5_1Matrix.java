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
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q5_1 weights: {@code block_q5_1}: fp16 d, fp16 m, qh[4], qs[16] (as in Q5_0); 24 bytes per 32 elements, dequantised
 * as {@code q * d + m}. Products follow {@code ggml_vec_dot_q5_1_q8_1}: the input is quantised to Q8_1, each block is
 * an exact integer dot of the unpacked quants with the input quants, scaled by {@code d_w * d_x}, plus {@code m_w *
 * s_x} for the block offset ({@code s_x} is Q8_1's fp16 {@code d * sum(q)}).
 *
 * <p>SIMD: the 16 quant bytes are unpacked in byte lanes (nibble mask and shift; the fifth bits are spread to byte
 * lanes with one shuffle and turned into 0x10 with a compare), widened to 16-bit lanes and multiplied by the
 * pre-widened input; products of these small quants with int8 stay far inside 16 bits, so a whole block is summed in
 * 16-bit lanes before one widening to 32 bits. The integer path beat widening to float and FMA for Q8_0 (6.3 vs 4.9
 * GB/s single-threaded on AVX2), and the unpacking here is the same byte work either way. At 512 bits the 256-bit
 * kernels run (a block is 32 quants).
 */
final class Q5_1Matrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 24;
    /** Byte lane j tests bit j%8 of its qh byte. */
    private static final byte[] BITS = {1, 2, 4, 8, 16, 32, 64, (byte) 128, 1, 2, 4, 8, 16, 32, 64, (byte) 128};
    /** Lanes 0-7 take qh byte 0, lanes 8-15 byte 1: the fifth bits of elements 0-15. */
    private static final int[] SPREAD_LO = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    /** Bytes 2 and 3 of qh: the fifth bits of elements 16-31. */
    private static final int[] SPREAD_HI = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};

    Q5_1Matrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q5_1, rows, cols, data, width);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_1;
    }

    /** The two quants held by byte j of the block at {@code bo}: element j (low) and element j+16 (high). */
    private int lowQuant(long bo, int j) {
        int qh = data.get(INT, bo + 4);
        return ((data.get(BYTE, bo + 8 + j) & 0x0F) | (((qh >>> j) << 4) & 0x10));
    }

    private int highQuant(long bo, int j) {
        int qh = data.get(INT, bo + 4);
        return (((data.get(BYTE, bo + 8 + j) >> 4) & 0x0F) | ((qh >>> (j + 12)) & 0x10));
    }

    /** {@code dequantize_row_q5_1}: {@code q * d + m}. */
    @Override
    public void row(int r, float[] dst, int dstOffset) {
        long off = rowOffset(r);
        for (int b = 0; b < cols / 32; b++) {
            long bo = off + (long) b * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo));
            float m = Halfs.f16ToFloat(data.get(HALF, bo + 2));
            int o = dstOffset + b * 32;
            for (int j = 0; j < 16; j++) {
                dst[o + j] = lowQuant(bo, j) * d + m;
                dst[o + j + 16] = highQuant(bo, j) * d + m;
            }
        }
    }

    @Override
    boolean hasFloatGemm() {
        return true;
    }

    /** {@code q * d}; the block offset {@code m} goes through {@link #blockOffsets}. */
    @Override
    void dequantizeBlocks(int r, int blockFrom, int blockTo, float[] dst, int dstOffset) {
        long off = rowOffset(r);
        for (int b = blockFrom; b < blockTo; b++) {
            long bo = off + (long) b * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo));
            int o = dstOffset + (b - blockFrom) * 32;
            for (int j = 0; j < 16; j++) {
                dst[o + j] = lowQuant(bo, j) * d;
                dst[o + j + 16] = highQuant(bo, j) * d;
            }
        }
    }

    @Override
    boolean hasBlockOffsets() {
        return true;
    }

    @Override
    void blockOffsets(int r, float[] dst, int dstOffset) {
        long off = rowOffset(r);
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            dst[dstOffset + b] = Halfs.f16ToFloat(data.get(HALF, off + (long) b * BLOCK + 2));
        }
    }

    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        long off = rowOffset(r);
        int blocks = cols / 32;
        short[] xq = in.qs;
        int xo = token * cols;
        int dOff = token * blocks;
        float sum = 0f;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) b * BLOCK;
            int e = xo + b * 32;
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                isum += lowQuant(bo, j) * xq[e + j] + highQuant(bo, j) * xq[e + j + 16];
            }
            sum += (Halfs.f16ToFloat(data.get(HALF, bo)) * in.d[dOff + b]) * isum
                    + Halfs.f16ToFloat(data.get(HALF, bo + 2)) * in.s[dOff + b];
        }
        return sum;
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        int blocks = cols / 32;
        return switch (width) {
            case W128 -> V128.dot(data, rowOffset(r), blocks, in.qs, token * cols, in.d, in.s, token * blocks);
            case W256, W512 -> V256.dot(data, rowOffset(r), blocks, in.qs, token * cols, in.d, in.s, token * blocks);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    @Override
    void simdDot4(int r, QuantizedInput in, int token, float[] out, int outIndex) {
        switch (width) {
            case W256, W512 -> V256.dot4(data, rowOffset(r), cols / 32, in, token, out, outIndex, rows);
            default -> super.simdDot4(r, in, token, out, outIndex);
        }
    }

    // One method per kernel, vectors only in locals: a vector passed to a call C2 does not inline gets boxed.
    private static final class V256 {
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

        static float dot(MemorySegment w, long off, int blocks, short[] xq, int xo, float[] xd, float[] xs, int dOff) {
            FloatVector acc = FloatVector.zero(F);
            float offsets = 0f;
            ByteVector bits = ByteVector.fromArray(B, BITS, 0);
            VectorShuffle<Byte> spreadLo = VectorShuffle.fromArray(B, SPREAD_LO, 0);
            VectorShuffle<Byte> spreadHi = VectorShuffle.fromArray(B, SPREAD_HI, 0);
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * BLOCK;
                int e = xo + b * 32;
                ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 8, LE);
                ByteVector lo = q.and((byte) 0x0F);
                // x86 has no byte shift: shift 16-bit lanes and mask off what crossed from the neighbour byte
                ByteVector hi = q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 0x0F);
                ByteVector h = ByteVector.fromMemorySegment(B, w, bo + 4, LE);
                lo = lo.or(((ByteVector) h.rearrange(spreadLo).and(bits).eq(bits).toVector()).and((byte) 0x10));
                hi = hi.or(((ByteVector) h.rearrange(spreadHi).and(bits).eq(bits).toVector()).and((byte) 0x10));
                IntVector p = ((ShortVector) lo.convertShape(VectorOperators.B2S, S, 0))
                        .mul(ShortVector.fromArray(S, xq, e))
                        .add(((ShortVector) hi.convertShape(VectorOperators.B2S, S, 0))
                                .mul(ShortVector.fromArray(S, xq, e + 16))).reinterpretAsInts();
                IntVector sum = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p.lanewise(VectorOperators.ASHR, 16));
                float d = Halfs.f16ToFloat(w.get(HALF, bo)) * xd[dOff + b];
                acc = ((FloatVector) sum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
                offsets += Halfs.f16ToFloat(w.get(HALF, bo + 2)) * xs[dOff + b];
            }
            return (acc.lane(0) + acc.lane(1) + acc.lane(2) + acc.lane(3) + acc.lane(4) + acc.lane(5) + acc.lane(6)
                    + acc.lane(7)) + offsets;
        }

        static void dot4(MemorySegment w, long off, int blocks, QuantizedInput in, int token, float[] out,
                int outIndex, int outStride) {
            short[] xq = in.qs;
            float[] xd = in.d;
            float[] xs = in.s;
            int cols = blocks * 32;
            int x0 = token * cols;
            int x1 = x0 + cols;
            int x2 = x1 + cols;
            int x3 = x2 + cols;
            int d0 = token * blocks;
            int d1 = d0 + blocks;
            int d2 = d1 + blocks;
            int d3 = d2 + blocks;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F);
            FloatVector acc3 = FloatVector.zero(F);
            float offsets0 = 0f;
            float offsets1 = 0f;
            float offsets2 = 0f;
            float offsets3 = 0f;
            ByteVector bits = ByteVector.fromArray(B, BITS, 0);
            VectorShuffle<Byte> spreadLo = VectorShuffle.fromArray(B, SPREAD_LO, 0);
            VectorShuffle<Byte> spreadHi = VectorShuffle.fromArray(B, SPREAD_HI, 0);
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * BLOCK;
                int e = b * 32;
                ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 8, LE);
                ByteVector lo = q.and((byte) 0x0F);
                // x86 has no byte shift: shift 16-bit lanes and mask off what crossed from the neighbour byte
                ByteVector hi = q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 0x0F);
                ByteVector h = ByteVector.fromMemorySegment(B, w, bo + 4, LE);
                lo = lo.or(((ByteVector) h.rearrange(spreadLo).and(bits).eq(bits).toVector()).and((byte) 0x10));
                hi = hi.or(((ByteVector) h.rearrange(spreadHi).and(bits).eq(bits).toVector()).and((byte) 0x10));
                ShortVector lo16 = (ShortVector) lo.convertShape(VectorOperators.B2S, S, 0);
                ShortVector hi16 = (ShortVector) hi.convertShape(VectorOperators.B2S, S, 0);
                float dw = Halfs.f16ToFloat(w.get(HALF, bo));
                float mw = Halfs.f16ToFloat(w.get(HALF, bo + 2));
                IntVector p0 = lo16.mul(ShortVector.fromArray(S, xq, x0 + e))
                        .add(hi16.mul(ShortVector.fromArray(S, xq, x0 + e + 16))).reinterpretAsInts();
                IntVector p1 = lo16.mul(ShortVector.fromArray(S, xq, x1 + e))
                        .add(hi16.mul(ShortVector.fromArray(S, xq, x1 + e + 16))).reinterpretAsInts();
                IntVector p2 = lo16.mul(ShortVector.fromArray(S, xq, x2 + e))
                        .add(hi16.mul(ShortVector.fromArray(S, xq, x2 + e + 16))).reinterpretAsInts();
                IntVector p3 = lo16.mul(ShortVector.fromArray(S, xq, x3 + e))
                        .add(hi16.mul(ShortVector.fromArray(S, xq, x3 + e + 16))).reinterpretAsInts();
                IntVector s0 = p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p0.lanewise(VectorOperators.ASHR, 16));
                IntVector s1 = p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p1.lanewise(VectorOperators.ASHR, 16));
                IntVector s2 = p2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p2.lanewise(VectorOperators.ASHR, 16));
                IntVector s3 = p3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p3.lanewise(VectorOperators.ASHR, 16));
                acc0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, dw * xd[d0 + b]), acc0);
                acc1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, dw * xd[d1 + b]), acc1);
                acc2 = ((FloatVector) s2.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, dw * xd[d2 + b]), acc2);
                acc3 = ((FloatVector) s3.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, dw * xd[d3 + b]), acc3);
                offsets0 += mw * xs[d0 + b];
                offsets1 += mw * xs[d1 + b];
                offsets2 += mw * xs[d2 + b];
                offsets3 += mw * xs[d3 + b];
            }
            out[outIndex] = (acc0.lane(0) + acc0.lane(1) + acc0.lane(2) + acc0.lane(3) + acc0.lane(4) + acc0.lane(5)
                    + acc0.lane(6) + acc0.lane(7)) + offsets0;
            out[outIndex + outStride] = (acc1.lane(0) + acc1.lane(1) + acc1.lane(2) + acc1.lane(3) + acc1.lane(4)
                    + acc1.lane(5) + acc1.lane(6) + acc1.lane(7)) + offsets1;
            out[outIndex + 2 * outStride] = (acc2.lane(0) + acc2.lane(1) + acc2.lane(2) + acc2.lane(3) + acc2.lane(4)
                    + acc2.lane(5) + acc2.lane(6) + acc2.lane(7)) + offsets2;
            out[outIndex + 3 * outStride] = (acc3.lane(0) + acc3.lane(1) + acc3.lane(2) + acc3.lane(3) + acc3.lane(4)
                    + acc3.lane(5) + acc3.lane(6) + acc3.lane(7)) + offsets3;
        }
    }

    private static final class V128 {
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_128;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_128;

        static float dot(MemorySegment w, long off, int blocks, short[] xq, int xo, float[] xd, float[] xs, int dOff) {
            FloatVector acc = FloatVector.zero(F);
            float offsets = 0f;
            ByteVector bits = ByteVector.fromArray(B, BITS, 0);
            VectorShuffle<Byte> spreadLo = VectorShuffle.fromArray(B, SPREAD_LO, 0);
            VectorShuffle<Byte> spreadHi = VectorShuffle.fromArray(B, SPREAD_HI, 0);
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * BLOCK;
                int e = xo + b * 32;
                ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 8, LE);
                ByteVector lo = q.and((byte) 0x0F);
                // x86 has no byte shift: shift 16-bit lanes and mask off what crossed from the neighbour byte
                ByteVector hi = q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 0x0F);
                ByteVector h = ByteVector.fromMemorySegment(B, w, bo + 4, LE);
                lo = lo.or(((ByteVector) h.rearrange(spreadLo).and(bits).eq(bits).toVector()).and((byte) 0x10));
                hi = hi.or(((ByteVector) h.rearrange(spreadHi).and(bits).eq(bits).toVector()).and((byte) 0x10));
                // four products of at most 31*128 each still fit a 16-bit lane
                IntVector p = ((ShortVector) lo.convertShape(VectorOperators.B2S, S, 0))
                        .mul(ShortVector.fromArray(S, xq, e))
                        .add(((ShortVector) lo.convertShape(VectorOperators.B2S, S, 1))
                                .mul(ShortVector.fromArray(S, xq, e + 8)))
                        .add(((ShortVector) hi.convertShape(VectorOperators.B2S, S, 0))
                                .mul(ShortVector.fromArray(S, xq, e + 16)))
                        .add(((ShortVector) hi.convertShape(VectorOperators.B2S, S, 1))
                                .mul(ShortVector.fromArray(S, xq, e + 24))).reinterpretAsInts();
                IntVector sum = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p.lanewise(VectorOperators.ASHR, 16));
                float d = Halfs.f16ToFloat(w.get(HALF, bo)) * xd[dOff + b];
                acc = ((FloatVector) sum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
                offsets += Halfs.f16ToFloat(w.get(HALF, bo + 2)) * xs[dOff + b];
            }
            return (acc.lane(0) + acc.lane(1) + acc.lane(2) + acc.lane(3)) + offsets;
        }
    }
}
