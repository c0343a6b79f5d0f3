package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * BF16 weights. As in ggml-cpu ({@code vec_dot_type} BF16) the input is rounded to bf16 first; a bf16 lane widens to
 * float with a 16-bit shift. Both of llama.cpp's summation orders are reproduced bit for bit (see {@link GgmlSums}): a
 * single token goes through {@code ggml_vec_dot_bf16} (AVX2 build): 4 × 8 lanes over the first {@code cols & ~31}
 * elements (GCC fused the multiply-adds; products of two bf16 values are exact in float anyway), combined (0+2)+(1+3)
 * and reduced by the {@code hsum} shape (halves, movehl, movehdup), then the remaining products added in double; a
 * prompt batch goes through tinyBLAS (one 8-lane FMA accumulator, then its {@code hsum}) when {@link #tinyBlasOrder}
 * says llama.cpp would use it. 128-bit kernels hold each 8-lane ggml register as two halves; at 512 bits the 256-bit
 * kernels run.
 */
final class BF16Matrix extends FloatFormatMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    BF16Matrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.BF16, rows, cols, data, width);
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.BF16;
    }

    static float weight(MemorySegment w, long off, int i) {
        return Halfs.bf16ToFloat(w.get(HALF, off + 2L * i));
    }

    @Override
    float element(long off, int i) {
        return weight(data, off, i);
    }

    @Override
    float finishVecDot(long off, float[] x, int xo, int np, float l0, float l1, float l2, float l3, float l4,
            float l5, float l6, float l7) {
        return tail(data, off, x, xo, np, cols, GgmlSums.tinyBlasHsum(l0, l1, l2, l3, l4, l5, l6, l7));
    }

    /** The vec_dot tail: the reduced lanes and every remaining (exact) product summed in double. */
    static float tail(MemorySegment w, long off, float[] x, int xo, int i, int n, float lanes) {
        double sum = lanes;
        for (; i < n; i++) {
            sum += weight(w, off, i) * x[xo + i];
        }
        return (float) sum;
    }

    @Override
    float vecDot128(long off, float[] x, int xo) {
        return V128.vecDot(data, off, cols, x, xo);
    }

    @Override
    float vecDot256(long off, float[] x, int xo) {
        return V256.vecDot(data, off, cols, x, xo);
    }

    @Override
    float tinyBlas128(long off, float[] x, int xo) {
        return V128.tinyBlas(data, off, cols, x, xo);
    }

    @Override
    float tinyBlas256(long off, float[] x, int xo) {
        return V256.tinyBlas(data, off, cols, x, xo);
    }

    @Override
    void tinyBlas4x128(long off, float[] x, int xo, float[] out, int outIndex) {
        V128.tinyBlas4(data, off, cols, x, xo, cols, out, outIndex, rows);
    }

    @Override
    void tinyBlas4x256(long off, float[] x, int xo, float[] out, int outIndex) {
        V256.tinyBlas4(data, off, cols, x, xo, cols, out, outIndex, rows);
    }

    /** 128-bit kernels: each 8-lane ggml register is a low (lanes 0-3) and a high (lanes 4-7) half. */
    private static final class V128 {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_64;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_128;

        // Widening is written out in each kernel: a vector returned from a helper that C2 declines to inline is
        // boxed, which made decode allocate (ForwardPassTest.decodingAllocatesNothingPerToken).
        static float vecDot(MemorySegment w, long off, int n, float[] x, int xo) {
            FloatVector a0l = FloatVector.zero(F), a0h = FloatVector.zero(F);
            FloatVector a1l = FloatVector.zero(F), a1h = FloatVector.zero(F);
            FloatVector a2l = FloatVector.zero(F), a2h = FloatVector.zero(F);
            FloatVector a3l = FloatVector.zero(F), a3h = FloatVector.zero(F);
            int np = n & ~31;
            for (int i = 0; i < np; i += 32) {
                FloatVector wa0l = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 0), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a0l = wa0l.fma(FloatVector.fromArray(F, x, xo + i + 0), a0l);
                FloatVector wa0h = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 4), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a0h = wa0h.fma(FloatVector.fromArray(F, x, xo + i + 4), a0h);
                FloatVector wa1l = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 8), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a1l = wa1l.fma(FloatVector.fromArray(F, x, xo + i + 8), a1l);
                FloatVector wa1h = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 12), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a1h = wa1h.fma(FloatVector.fromArray(F, x, xo + i + 12), a1h);
                FloatVector wa2l = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 16), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a2l = wa2l.fma(FloatVector.fromArray(F, x, xo + i + 16), a2l);
                FloatVector wa2h = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 20), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a2h = wa2h.fma(FloatVector.fromArray(F, x, xo + i + 20), a2h);
                FloatVector wa3l = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 24), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a3l = wa3l.fma(FloatVector.fromArray(F, x, xo + i + 24), a3l);
                FloatVector wa3h = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 28), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a3h = wa3h.fma(FloatVector.fromArray(F, x, xo + i + 28), a3h);
            }
            FloatVector lo = a0l.add(a2l).add(a1l.add(a3l));
            FloatVector hi = a0h.add(a2h).add(a1h.add(a3h));
            float lanes = GgmlSums.tinyBlasHsum(lo.lane(0), lo.lane(1), lo.lane(2), lo.lane(3), hi.lane(0),
                    hi.lane(1), hi.lane(2), hi.lane(3));
            return tail(w, off, x, xo, np, n, lanes);
        }

        static float tinyBlas(MemorySegment w, long off, int n, float[] x, int xo) {
            FloatVector lo = FloatVector.zero(F);
            FloatVector hi = FloatVector.zero(F);
            for (int i = 0; i < n; i += 8) {
                FloatVector wl = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * i, LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                FloatVector wh = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 4), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                lo = wl.fma(FloatVector.fromArray(F, x, xo + i), lo);
                hi = wh.fma(FloatVector.fromArray(F, x, xo + i + 4), hi);
            }
            return GgmlSums.tinyBlasHsum(lo.lane(0), lo.lane(1), lo.lane(2), lo.lane(3), hi.lane(0), hi.lane(1),
                    hi.lane(2), hi.lane(3));
        }

        static void tinyBlas4(MemorySegment w, long off, int n, float[] x, int xo, int stride, float[] out,
                int outIndex, int outStride) {
            FloatVector l0 = FloatVector.zero(F), h0 = FloatVector.zero(F);
            FloatVector l1 = FloatVector.zero(F), h1 = FloatVector.zero(F);
            FloatVector l2 = FloatVector.zero(F), h2 = FloatVector.zero(F);
            FloatVector l3 = FloatVector.zero(F), h3 = FloatVector.zero(F);
            int x1 = xo + stride;
            int x2 = xo + 2 * stride;
            int x3 = xo + 3 * stride;
            for (int i = 0; i < n; i += 8) {
                FloatVector wl = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * i, LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                FloatVector wh = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 4), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                l0 = wl.fma(FloatVector.fromArray(F, x, xo + i), l0);
                h0 = wh.fma(FloatVector.fromArray(F, x, xo + i + 4), h0);
                l1 = wl.fma(FloatVector.fromArray(F, x, x1 + i), l1);
                h1 = wh.fma(FloatVector.fromArray(F, x, x1 + i + 4), h1);
                l2 = wl.fma(FloatVector.fromArray(F, x, x2 + i), l2);
                h2 = wh.fma(FloatVector.fromArray(F, x, x2 + i + 4), h2);
                l3 = wl.fma(FloatVector.fromArray(F, x, x3 + i), l3);
                h3 = wh.fma(FloatVector.fromArray(F, x, x3 + i + 4), h3);
            }
            out[outIndex] = GgmlSums.tinyBlasHsum(l0.lane(0), l0.lane(1), l0.lane(2), l0.lane(3),
                    h0.lane(0), h0.lane(1), h0.lane(2), h0.lane(3));
            out[outIndex + outStride] = GgmlSums.tinyBlasHsum(l1.lane(0), l1.lane(1), l1.lane(2), l1.lane(3),
                    h1.lane(0), h1.lane(1), h1.lane(2), h1.lane(3));
            out[outIndex + 2 * outStride] = GgmlSums.tinyBlasHsum(l2.lane(0), l2.lane(1), l2.lane(2), l2.lane(3),
                    h2.lane(0), h2.lane(1), h2.lane(2), h2.lane(3));
            out[outIndex + 3 * outStride] = GgmlSums.tinyBlasHsum(l3.lane(0), l3.lane(1), l3.lane(2), l3.lane(3),
                    h3.lane(0), h3.lane(1), h3.lane(2), h3.lane(3));
        }
    }

    /** 256-bit kernels: one vector is one ggml register. */
    private static final class V256 {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_128;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_256;

        // Widening is written out in each kernel, as in V128.
        static float vecDot(MemorySegment w, long off, int n, float[] x, int xo) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            int np = n & ~31;
            for (int i = 0; i < np; i += 32) {
                FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 0), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a0 = w0.fma(FloatVector.fromArray(F, x, xo + i + 0), a0);
                FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 8), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a1 = w1.fma(FloatVector.fromArray(F, x, xo + i + 8), a1);
                FloatVector w2 = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 16), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a2 = w2.fma(FloatVector.fromArray(F, x, xo + i + 16), a2);
                FloatVector w3 = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + 24), LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a3 = w3.fma(FloatVector.fromArray(F, x, xo + i + 24), a3);
            }
            FloatVector v = a0.add(a2).add(a1.add(a3));
            float lanes = GgmlSums.tinyBlasHsum(v.lane(0), v.lane(1), v.lane(2), v.lane(3), v.lane(4), v.lane(5),
                    v.lane(6), v.lane(7));
            return tail(w, off, x, xo, np, n, lanes);
        }

        static float tinyBlas(MemorySegment w, long off, int n, float[] x, int xo) {
            FloatVector acc = FloatVector.zero(F);
            for (int i = 0; i < n; i += 8) {
                FloatVector wv = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * i, LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                acc = wv.fma(FloatVector.fromArray(F, x, xo + i), acc);
            }
            return GgmlSums.tinyBlasHsum(acc.lane(0), acc.lane(1), acc.lane(2), acc.lane(3), acc.lane(4),
                    acc.lane(5), acc.lane(6), acc.lane(7));
        }

        static void tinyBlas4(MemorySegment w, long off, int n, float[] x, int xo, int stride, float[] out,
                int outIndex, int outStride) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            int x1 = xo + stride;
            int x2 = xo + 2 * stride;
            int x3 = xo + 3 * stride;
            for (int i = 0; i < n; i += 8) {
                FloatVector wv = ((IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * i, LE)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats();
                a0 = wv.fma(FloatVector.fromArray(F, x, xo + i), a0);
                a1 = wv.fma(FloatVector.fromArray(F, x, x1 + i), a1);
                a2 = wv.fma(FloatVector.fromArray(F, x, x2 + i), a2);
                a3 = wv.fma(FloatVector.fromArray(F, x, x3 + i), a3);
            }
            out[outIndex] = GgmlSums.tinyBlasHsum(a0.lane(0), a0.lane(1), a0.lane(2), a0.lane(3),
                    a0.lane(4), a0.lane(5), a0.lane(6), a0.lane(7));
            out[outIndex + outStride] = GgmlSums.tinyBlasHsum(a1.lane(0), a1.lane(1), a1.lane(2), a1.lane(3),
                    a1.lane(4), a1.lane(5), a1.lane(6), a1.lane(7));
            out[outIndex + 2 * outStride] = GgmlSums.tinyBlasHsum(a2.lane(0), a2.lane(1), a2.lane(2), a2.lane(3),
                    a2.lane(4), a2.lane(5), a2.lane(6), a2.lane(7));
            out[outIndex + 3 * outStride] = GgmlSums.tinyBlasHsum(a3.lane(0), a3.lane(1), a3.lane(2), a3.lane(3),
                    a3.lane(4), a3.lane(5), a3.lane(6), a3.lane(7));
        }
    }
}
