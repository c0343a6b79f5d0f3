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
 * Q8_0 weights: blocks of 32 int8 quants with an fp16 scale ({@code block_q8_0}: d, qs[32]; 34 bytes), against a
 * Q8_0-quantised input as in {@code ggml_vec_dot_q8_0_q8_0}: per block the exact integer dot, scaled by
 * {@code d_w * d_x} and summed in float.
 *
 * <p>SIMD choice, measured with a throwaway timing loop on an AVX2 Zen 3 core (4096-column rows, one thread): the
 * integer path (bytes widened to 16-bit lanes, multiplied by the pre-widened input, adjacent 16-bit products summed
 * into 32-bit lanes with a shift pair) ran at ~6.3 GB/s of weights against ~4.9 GB/s for widening both sides to
 * float and using FMA, so the integer path is used. Two products of int8 values (at most 128*127 each) always fit a
 * 16-bit lane when added, which is what lets the block sum stay in short lanes before widening.
 *
 * <p>At 512 bits the 256-bit kernels run: one 32-quant block is exactly one 256-bit byte vector, and without a
 * byte multiply-add in the Vector API a 512-bit layout would need cross-block shuffles that cost more than they save.
 */
final class Q8_0Matrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 34;

    Q8_0Matrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q8_0, rows, cols, data, width);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_0;
    }

    /** {@code dequantize_row_q8_0}: {@code y = q * d}. */
    @Override
    public void row(int r, float[] dst, int dstOffset) {
        long off = rowOffset(r);
        for (int b = 0; b < cols / 32; b++) {
            long bo = off + (long) b * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo));
            for (int j = 0; j < 32; j++) {
                dst[dstOffset + b * 32 + j] = data.get(BYTE, bo + 2 + j) * d;
            }
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
            int isum = 0;
            for (int j = 0; j < 32; j++) {
                isum += data.get(BYTE, bo + 2 + j) * xq[xo + b * 32 + j];
            }
            sum += (Halfs.f16ToFloat(data.get(HALF, bo)) * in.d[dOff + b]) * isum;
        }
        return sum;
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        int blocks = cols / 32;
        return switch (width) {
            case W128 -> V128.dot(data, rowOffset(r), blocks, in.qs, token * cols, in.d, token * blocks);
            case W256, W512 -> V256.dot(data, rowOffset(r), blocks, in.qs, token * cols, in.d, token * blocks);
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

    @Override
    boolean hasFloatGemm() {
        return true;
    }

    /** Prefill dequantisation ({@code q * d}); 8 quants at a time widened straight to float lanes. */
    @Override
    void dequantizeBlocks(int r, int blockFrom, int blockTo, float[] dst, int dstOffset) {
        long off = rowOffset(r);
        if (width == VectorWidth.W256 || width == VectorWidth.W512) {
            Dequantize256.blocks(data, off, blockFrom, blockTo, dst, dstOffset);
            return;
        }
        for (int b = blockFrom; b < blockTo; b++) {
            long bo = off + (long) b * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo));
            int o = dstOffset + (b - blockFrom) * 32;
            for (int j = 0; j < 32; j++) {
                dst[o + j] = data.get(BYTE, bo + 2 + j) * d;
            }
        }
    }

    private static final class Dequantize256 {
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_64;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

        static void blocks(MemorySegment w, long off, int blockFrom, int blockTo, float[] dst, int dstOffset) {
            for (int b = blockFrom, o = dstOffset; b < blockTo; b++, o += 32) {
                long bo = off + (long) b * BLOCK;
                FloatVector d = FloatVector.broadcast(F, Halfs.f16ToFloat(w.get(HALF, bo)));
                for (int j = 0; j < 32; j += 8) {
                    ((FloatVector) ByteVector.fromMemorySegment(B, w, bo + 2 + j, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, o + j);
                }
            }
        }
    }

    private static final class V256 {
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

        // One method per kernel, vector values only in locals: a vector passed to or returned from a call that
        // C2 declines to inline is boxed, which made an earlier helper-based version 20x slower.
        static float dot(MemorySegment w, long off, int blocks, short[] xq, int xo, float[] xd, int dOff) {
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            int b = 0;
            for (; b + 2 <= blocks; b += 2) {
                long bo = off + (long) b * BLOCK;
                int e = xo + b * 32;
                ByteVector q0 = ByteVector.fromMemorySegment(B, w, bo + 2, LE);
                ByteVector q1 = ByteVector.fromMemorySegment(B, w, bo + BLOCK + 2, LE);
                IntVector p0 = ((ShortVector) q0.convertShape(VectorOperators.B2S, S, 0))
                        .mul(ShortVector.fromArray(S, xq, e))
                        .add(((ShortVector) q0.convertShape(VectorOperators.B2S, S, 1))
                                .mul(ShortVector.fromArray(S, xq, e + 16))).reinterpretAsInts();
                IntVector p1 = ((ShortVector) q1.convertShape(VectorOperators.B2S, S, 0))
                        .mul(ShortVector.fromArray(S, xq, e + 32))
                        .add(((ShortVector) q1.convertShape(VectorOperators.B2S, S, 1))
                                .mul(ShortVector.fromArray(S, xq, e + 48))).reinterpretAsInts();
                IntVector s0 = p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p0.lanewise(VectorOperators.ASHR, 16));
                IntVector s1 = p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p1.lanewise(VectorOperators.ASHR, 16));
                float d0 = Halfs.f16ToFloat(w.get(HALF, bo)) * xd[dOff + b];
                float d1 = Halfs.f16ToFloat(w.get(HALF, bo + BLOCK)) * xd[dOff + b + 1];
                acc0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d0), acc0);
                acc1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d1), acc1);
            }
            if (b < blocks) {
                long bo = off + (long) b * BLOCK;
                int e = xo + b * 32;
                ByteVector q0 = ByteVector.fromMemorySegment(B, w, bo + 2, LE);
                IntVector p0 = ((ShortVector) q0.convertShape(VectorOperators.B2S, S, 0))
                        .mul(ShortVector.fromArray(S, xq, e))
                        .add(((ShortVector) q0.convertShape(VectorOperators.B2S, S, 1))
                                .mul(ShortVector.fromArray(S, xq, e + 16))).reinterpretAsInts();
                IntVector s0 = p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p0.lanewise(VectorOperators.ASHR, 16));
                float d0 = Halfs.f16ToFloat(w.get(HALF, bo)) * xd[dOff + b];
                acc0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d0), acc0);
            }
            FloatVector total = acc0.add(acc1);
            return (total.lane(0) + total.lane(1) + total.lane(2) + total.lane(3) + total.lane(4) + total.lane(5)
                    + total.lane(6) + total.lane(7));
        }

        static void dot4(MemorySegment w, long off, int blocks, QuantizedInput in, int token, float[] out,
                int outIndex, int outStride) {
            short[] xq = in.qs;
            float[] xd = in.d;
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
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * BLOCK;
                ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 2, LE);
                ShortVector lo = (ShortVector) q.convertShape(VectorOperators.B2S, S, 0);
                ShortVector hi = (ShortVector) q.convertShape(VectorOperators.B2S, S, 1);
                float dw = Halfs.f16ToFloat(w.get(HALF, bo));
                int e = b * 32;
                IntVector p0 = lo.mul(ShortVector.fromArray(S, xq, x0 + e))
                        .add(hi.mul(ShortVector.fromArray(S, xq, x0 + e + 16))).reinterpretAsInts();
                IntVector p1 = lo.mul(ShortVector.fromArray(S, xq, x1 + e))
                        .add(hi.mul(ShortVector.fromArray(S, xq, x1 + e + 16))).reinterpretAsInts();
                IntVector p2 = lo.mul(ShortVector.fromArray(S, xq, x2 + e))
                        .add(hi.mul(ShortVector.fromArray(S, xq, x2 + e + 16))).reinterpretAsInts();
                IntVector p3 = lo.mul(ShortVector.fromArray(S, xq, x3 + e))
                        .add(hi.mul(ShortVector.fromArray(S, xq, x3 + e + 16))).reinterpretAsInts();
                acc0 = ((FloatVector) p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p0.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.broadcast(F, dw * xd[d0 + b]), acc0);
                acc1 = ((FloatVector) p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p1.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.broadcast(F, dw * xd[d1 + b]), acc1);
                acc2 = ((FloatVector) p2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p2.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.broadcast(F, dw * xd[d2 + b]), acc2);
                acc3 = ((FloatVector) p3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p3.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.broadcast(F, dw * xd[d3 + b]), acc3);
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
        static final VectorSpecies<Float> F = FloatVector.SPECIES_128;

        static float dot(MemorySegment w, long off, int blocks, short[] xq, int xo, float[] xd, int dOff) {
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * BLOCK;
                int e = xo + b * 32;
                ByteVector q0 = ByteVector.fromMemorySegment(B, w, bo + 2, LE);
                ByteVector q1 = ByteVector.fromMemorySegment(B, w, bo + 18, LE);
                IntVector pa = ((ShortVector) q0.convertShape(VectorOperators.B2S, S, 0))
                        .mul(ShortVector.fromArray(S, xq, e))
                        .add(((ShortVector) q0.convertShape(VectorOperators.B2S, S, 1))
                                .mul(ShortVector.fromArray(S, xq, e + 8))).reinterpretAsInts();
                IntVector pb = ((ShortVector) q1.convertShape(VectorOperators.B2S, S, 0))
                        .mul(ShortVector.fromArray(S, xq, e + 16))
                        .add(((ShortVector) q1.convertShape(VectorOperators.B2S, S, 1))
                                .mul(ShortVector.fromArray(S, xq, e + 24))).reinterpretAsInts();
                IntVector sum = pa.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(pa.lanewise(VectorOperators.ASHR, 16))
                        .add(pb.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(pb.lanewise(VectorOperators.ASHR, 16));
                float d = Halfs.f16ToFloat(w.get(HALF, bo)) * xd[dOff + b];
                acc = ((FloatVector) sum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
            }
            return (acc.lane(0) + acc.lane(1) + acc.lane(2) + acc.lane(3));
        }
    }
}
