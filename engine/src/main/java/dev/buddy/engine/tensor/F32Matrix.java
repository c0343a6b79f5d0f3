package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * F32 weights. The input stays F32 ({@code vec_dot_type} F32 in ggml-cpu); the kernels are plain float FMA with four
 * independent accumulators (decode) and a 4-token tile that loads each weight vector once (prefill).
 */
final class F32Matrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    F32Matrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.F32, rows, cols, data, width);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.F32;
    }

    static float weight(MemorySegment w, long off, int i) {
        return w.get(FLOAT, off + 4L * i);
    }

    @Override
    public void row(int r, float[] dst, int dstOffset) {
        MemorySegment.copy(data, FLOAT, rowOffset(r), dst, dstOffset, cols);
    }

    /** Products in float, summed in double: ggml's scalar {@code ggml_vec_dot_*} accumulates in ggml_float. */
    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        long off = rowOffset(r);
        float[] x = in.values;
        int xo = in.valuesOffset + token * cols;
        double sum = 0;
        for (int i = 0; i < cols; i++) {
            sum += weight(data, off, i) * x[xo + i];
        }
        return (float) sum;
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        long off = rowOffset(r);
        int xo = in.valuesOffset + token * cols;
        return switch (width) {
            case W128 -> V128.dot(data, off, cols, in.values, xo);
            case W256 -> V256.dot(data, off, cols, in.values, xo);
            case W512 -> V512.dot(data, off, cols, in.values, xo);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    @Override
    void simdDot4(int r, QuantizedInput in, int token, float[] out, int outIndex) {
        long off = rowOffset(r);
        int xo = in.valuesOffset + token * cols;
        switch (width) {
            case W128 -> V128.dot4(data, off, cols, in.values, xo, cols, out, outIndex, rows);
            case W256 -> V256.dot4(data, off, cols, in.values, xo, cols, out, outIndex, rows);
            case W512 -> V512.dot4(data, off, cols, in.values, xo, cols, out, outIndex, rows);
            case SCALAR -> super.simdDot4(r, in, token, out, outIndex);
        }
    }

    /** 128-bit kernels. */
    private static final class V128 {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
        static final int L = 4;

        // Conversions are written inline: a vector crossing a call C2 does not inline gets boxed.
        static float dot(MemorySegment w, long off, int n, float[] x, int xo) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            int i = 0;
            for (; i + 4 * L <= n; i += 4 * L) {
                FloatVector w0 = FloatVector.fromMemorySegment(F, w, off + 4L * (i), LE);
                FloatVector w1 = FloatVector.fromMemorySegment(F, w, off + 4L * (i + 1 * L), LE);
                FloatVector w2 = FloatVector.fromMemorySegment(F, w, off + 4L * (i + 2 * L), LE);
                FloatVector w3 = FloatVector.fromMemorySegment(F, w, off + 4L * (i + 3 * L), LE);
                a0 = w0.fma(FloatVector.fromArray(F, x, xo + i), a0);
                a1 = w1.fma(FloatVector.fromArray(F, x, xo + i + 1 * L), a1);
                a2 = w2.fma(FloatVector.fromArray(F, x, xo + i + 2 * L), a2);
                a3 = w3.fma(FloatVector.fromArray(F, x, xo + i + 3 * L), a3);
            }
            for (; i + L <= n; i += L) {
                FloatVector w0 = FloatVector.fromMemorySegment(F, w, off + 4L * (i), LE);
                a0 = w0.fma(FloatVector.fromArray(F, x, xo + i), a0);
            }
            FloatVector total = a0.add(a1).add(a2.add(a3));
            float sum = (total.lane(0) + total.lane(1) + total.lane(2) + total.lane(3));
            for (; i < n; i++) {
                sum += weight(w, off, i) * x[xo + i];
            }
            return sum;
        }

        static void dot4(MemorySegment w, long off, int n, float[] x, int xo, int stride, float[] out,
                int outIndex, int outStride) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            int x1 = xo + stride;
            int x2 = xo + 2 * stride;
            int x3 = xo + 3 * stride;
            int i = 0;
            for (; i + L <= n; i += L) {
                FloatVector wv = FloatVector.fromMemorySegment(F, w, off + 4L * (i), LE);
                a0 = wv.fma(FloatVector.fromArray(F, x, xo + i), a0);
                a1 = wv.fma(FloatVector.fromArray(F, x, x1 + i), a1);
                a2 = wv.fma(FloatVector.fromArray(F, x, x2 + i), a2);
                a3 = wv.fma(FloatVector.fromArray(F, x, x3 + i), a3);
            }
            float s0 = (a0.lane(0) + a0.lane(1) + a0.lane(2) + a0.lane(3));
            float s1 = (a1.lane(0) + a1.lane(1) + a1.lane(2) + a1.lane(3));
            float s2 = (a2.lane(0) + a2.lane(1) + a2.lane(2) + a2.lane(3));
            float s3 = (a3.lane(0) + a3.lane(1) + a3.lane(2) + a3.lane(3));
            for (; i < n; i++) {
                float wi = weight(w, off, i);
                s0 += wi * x[xo + i];
                s1 += wi * x[x1 + i];
                s2 += wi * x[x2 + i];
                s3 += wi * x[x3 + i];
            }
            out[outIndex] = s0;
            out[outIndex + outStride] = s1;
            out[outIndex + 2 * outStride] = s2;
            out[outIndex + 3 * outStride] = s3;
        }
    }

    /** 256-bit kernels. */
    private static final class V256 {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
        static final int L = 8;

        // Conversions are written inline: a vector crossing a call C2 does not inline gets boxed.
        static float dot(MemorySegment w, long off, int n, float[] x, int xo) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            int i = 0;
            for (; i + 4 * L <= n; i += 4 * L) {
                FloatVector w0 = FloatVector.fromMemorySegment(F, w, off + 4L * (i), LE);
                FloatVector w1 = FloatVector.fromMemorySegment(F, w, off + 4L * (i + 1 * L), LE);
                FloatVector w2 = FloatVector.fromMemorySegment(F, w, off + 4L * (i + 2 * L), LE);
                FloatVector w3 = FloatVector.fromMemorySegment(F, w, off + 4L * (i + 3 * L), LE);
                a0 = w0.fma(FloatVector.fromArray(F, x, xo + i), a0);
                a1 = w1.fma(FloatVector.fromArray(F, x, xo + i + 1 * L), a1);
                a2 = w2.fma(FloatVector.fromArray(F, x, xo + i + 2 * L), a2);
                a3 = w3.fma(FloatVector.fromArray(F, x, xo + i + 3 * L), a3);
            }
            for (; i + L <= n; i += L) {
                FloatVector w0 = FloatVector.fromMemorySegment(F, w, off + 4L * (i), LE);
                a0 = w0.fma(FloatVector.fromArray(F, x, xo + i), a0);
            }
            FloatVector total = a0.add(a1).add(a2.add(a3));
            float sum = (total.lane(0) + total.lane(1) + total.lane(2) + total.lane(3) + total.lane(4) + total.lane(5)
                    + total.lane(6) + total.lane(7));
            for (; i < n; i++) {
                sum += weight(w, off, i) * x[xo + i];
            }
            return sum;
        }

        static void dot4(MemorySegment w, long off, int n, float[] x, int xo, int stride, float[] out,
                int outIndex, int outStride) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            int x1 = xo + stride;
            int x2 = xo + 2 * stride;
            int x3 = xo + 3 * stride;
            int i = 0;
            for (; i + L <= n; i += L) {
                FloatVector wv = FloatVector.fromMemorySegment(F, w, off + 4L * (i), LE);
                a0 = wv.fma(FloatVector.fromArray(F, x, xo + i), a0);
                a1 = wv.fma(FloatVector.fromArray(F, x, x1 + i), a1);
                a2 = wv.fma(FloatVector.fromArray(F, x, x2 + i), a2);
                a3 = wv.fma(FloatVector.fromArray(F, x, x3 + i), a3);
            }
            float s0 = (a0.lane(0) + a0.lane(1) + a0.lane(2) + a0.lane(3) + a0.lane(4) + a0.lane(5) + a0.lane(6)
                    + a0.lane(7));
            float s1 = (a1.lane(0) + a1.lane(1) + a1.lane(2) + a1.lane(3) + a1.lane(4) + a1.lane(5) + a1.lane(6)
                    + a1.lane(7));
            float s2 = (a2.lane(0) + a2.lane(1) + a2.lane(2) + a2.lane(3) + a2.lane(4) + a2.lane(5) + a2.lane(6)
                    + a2.lane(7));
            float s3 = (a3.lane(0) + a3.lane(1) + a3.lane(2) + a3.lane(3) + a3.lane(4) + a3.lane(5) + a3.lane(6)
                    + a3.lane(7));
            for (; i < n; i++) {
                float wi = weight(w, off, i);
                s0 += wi * x[xo + i];
                s1 += wi * x[x1 + i];
                s2 += wi * x[x2 + i];
                s3 += wi * x[x3 + i];
            }
            out[outIndex] = s0;
            out[outIndex + outStride] = s1;
            out[outIndex + 2 * outStride] = s2;
            out[outIndex + 3 * outStride] = s3;
        }
    }

    /** 512-bit kernels. */
    private static final class V512 {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
        static final int L = 16;

        // Conversions are written inline: a vector crossing a call C2 does not inline gets boxed.
        static float dot(MemorySegment w, long off, int n, float[] x, int xo) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            int i = 0;
            for (; i + 4 * L <= n; i += 4 * L) {
                FloatVector w0 = FloatVector.fromMemorySegment(F, w, off + 4L * (i), LE);
                FloatVector w1 = FloatVector.fromMemorySegment(F, w, off + 4L * (i + 1 * L), LE);
                FloatVector w2 = FloatVector.fromMemorySegment(F, w, off + 4L * (i + 2 * L), LE);
                FloatVector w3 = FloatVector.fromMemorySegment(F, w, off + 4L * (i + 3 * L), LE);
                a0 = w0.fma(FloatVector.fromArray(F, x, xo + i), a0);
                a1 = w1.fma(FloatVector.fromArray(F, x, xo + i + 1 * L), a1);
                a2 = w2.fma(FloatVector.fromArray(F, x, xo + i + 2 * L), a2);
                a3 = w3.fma(FloatVector.fromArray(F, x, xo + i + 3 * L), a3);
            }
            for (; i + L <= n; i += L) {
                FloatVector w0 = FloatVector.fromMemorySegment(F, w, off + 4L * (i), LE);
                a0 = w0.fma(FloatVector.fromArray(F, x, xo + i), a0);
            }
            FloatVector total = a0.add(a1).add(a2.add(a3));
            float sum = (total.lane(0) + total.lane(1) + total.lane(2) + total.lane(3) + total.lane(4) + total.lane(5)
                    + total.lane(6) + total.lane(7) + total.lane(8) + total.lane(9) + total.lane(10) + total.lane(11)
                    + total.lane(12) + total.lane(13) + total.lane(14) + total.lane(15));
            for (; i < n; i++) {
                sum += weight(w, off, i) * x[xo + i];
            }
            return sum;
        }

        static void dot4(MemorySegment w, long off, int n, float[] x, int xo, int stride, float[] out,
                int outIndex, int outStride) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            int x1 = xo + stride;
            int x2 = xo + 2 * stride;
            int x3 = xo + 3 * stride;
            int i = 0;
            for (; i + L <= n; i += L) {
                FloatVector wv = FloatVector.fromMemorySegment(F, w, off + 4L * (i), LE);
                a0 = wv.fma(FloatVector.fromArray(F, x, xo + i), a0);
                a1 = wv.fma(FloatVector.fromArray(F, x, x1 + i), a1);
                a2 = wv.fma(FloatVector.fromArray(F, x, x2 + i), a2);
                a3 = wv.fma(FloatVector.fromArray(F, x, x3 + i), a3);
            }
            float s0 = (a0.lane(0) + a0.lane(1) + a0.lane(2) + a0.lane(3) + a0.lane(4) + a0.lane(5) + a0.lane(6)
                    + a0.lane(7) + a0.lane(8) + a0.lane(9) + a0.lane(10) + a0.lane(11) + a0.lane(12) + a0.lane(13)
                    + a0.lane(14) + a0.lane(15));
            float s1 = (a1.lane(0) + a1.lane(1) + a1.lane(2) + a1.lane(3) + a1.lane(4) + a1.lane(5) + a1.lane(6)
                    + a1.lane(7) + a1.lane(8) + a1.lane(9) + a1.lane(10) + a1.lane(11) + a1.lane(12) + a1.lane(13)
                    + a1.lane(14) + a1.lane(15));
            float s2 = (a2.lane(0) + a2.lane(1) + a2.lane(2) + a2.lane(3) + a2.lane(4) + a2.lane(5) + a2.lane(6)
                    + a2.lane(7) + a2.lane(8) + a2.lane(9) + a2.lane(10) + a2.lane(11) + a2.lane(12) + a2.lane(13)
                    + a2.lane(14) + a2.lane(15));
            float s3 = (a3.lane(0) + a3.lane(1) + a3.lane(2) + a3.lane(3) + a3.lane(4) + a3.lane(5) + a3.lane(6)
                    + a3.lane(7) + a3.lane(8) + a3.lane(9) + a3.lane(10) + a3.lane(11) + a3.lane(12) + a3.lane(13)
                    + a3.lane(14) + a3.lane(15));
            for (; i < n; i++) {
                float wi = weight(w, off, i);
                s0 += wi * x[xo + i];
                s1 += wi * x[x1 + i];
                s2 += wi * x[x2 + i];
                s3 += wi * x[x3 + i];
            }
            out[outIndex] = s0;
            out[outIndex + outStride] = s1;
            out[outIndex + 2 * outStride] = s2;
            out[outIndex + 3 * outStride] = s3;
        }
    }
}
