package dev.buddy.engine.kv;

import dev.buddy.engine.tensor.GgmlSums;
import dev.buddy.engine.tensor.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * 256-bit Vector API versions of the attention loops. ggml's kernels are 8 float lanes wide, so one 256-bit vector
 * is one ggml register and every lane does exactly the scalar reference's arithmetic; results are bit-identical to
 * the scalar paths (checked by jqwik properties). Used when the preferred vector width is at least 256 bits.
 *
 * <p>F16 rows widen to float by moving exponent and mantissa into place and rescaling by 2^112 (exact for normal
 * and subnormal halves). An F16 infinity or NaN would come out finite; a KV value only becomes one when it overflows
 * F16, where llama.cpp's own results are meaningless too.
 */
final class Simd {
    private Simd() {}

    static final boolean ENABLED = VectorWidth.preferred().bits() >= 256;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_128;

    /** {@link F32KvCache#vecDotF32Lanes}. */
    static float vecDotF32Lanes(float[] x, int xo, float[] y, int yo, int np) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int i = 0; i < np; i += 32) {
            a0 = FloatVector.fromArray(F, x, xo + i).fma(FloatVector.fromArray(F, y, yo + i), a0);
            a1 = FloatVector.fromArray(F, x, xo + i + 8).fma(FloatVector.fromArray(F, y, yo + i + 8), a1);
            a2 = FloatVector.fromArray(F, x, xo + i + 16).fma(FloatVector.fromArray(F, y, yo + i + 16), a2);
            a3 = FloatVector.fromArray(F, x, xo + i + 24).fma(FloatVector.fromArray(F, y, yo + i + 24), a3);
        }
        FloatVector v = a0.add(a2).add(a1.add(a3));
        return GgmlSums.finishReduce(v.lane(0), v.lane(1), v.lane(2), v.lane(3), v.lane(4), v.lane(5), v.lane(6),
                v.lane(7));
    }

    /** {@code acc[ao + i] = fma(w, v[vo + i], acc[ao + i])} for i in [0, n). */
    static void fmaRow(float w, float[] v, int vo, float[] acc, int ao, int n) {
        FloatVector wv = FloatVector.broadcast(F, w);
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            wv.fma(FloatVector.fromArray(F, v, vo + i), FloatVector.fromArray(F, acc, ao + i))
                    .intoArray(acc, ao + i);
        }
        for (; i < n; i++) {
            acc[ao + i] = Math.fma(w, v[vo + i], acc[ao + i]);
        }
    }

    /** {@link F16KvCache#reduce}: ggml_vec_dot_f16's 4 × 8 lanes over the first np elements. */
    static float vecDotF16Lanes(short[] x, int xo, float[] y, int yo, int np) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int i = 0; i < np; i += 32) {
            IntVector h0 = (IntVector) ShortVector.fromArray(S, x, xo + i).convertShape(VectorOperators.S2I, I, 0);
            IntVector h1 = (IntVector) ShortVector.fromArray(S, x, xo + i + 8)
                    .convertShape(VectorOperators.S2I, I, 0);
            IntVector h2 = (IntVector) ShortVector.fromArray(S, x, xo + i + 16)
                    .convertShape(VectorOperators.S2I, I, 0);
            IntVector h3 = (IntVector) ShortVector.fromArray(S, x, xo + i + 24)
                    .convertShape(VectorOperators.S2I, I, 0);
            FloatVector f0 = h0.and(0x7fff).lanewise(VectorOperators.LSHL, 13).or(h0.and(0x80000000))
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector f1 = h1.and(0x7fff).lanewise(VectorOperators.LSHL, 13).or(h1.and(0x80000000))
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector f2 = h2.and(0x7fff).lanewise(VectorOperators.LSHL, 13).or(h2.and(0x80000000))
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector f3 = h3.and(0x7fff).lanewise(VectorOperators.LSHL, 13).or(h3.and(0x80000000))
                    .reinterpretAsFloats().mul(0x1p112f);
            a0 = f0.fma(FloatVector.fromArray(F, y, yo + i), a0);
            a1 = f1.fma(FloatVector.fromArray(F, y, yo + i + 8), a1);
            a2 = f2.fma(FloatVector.fromArray(F, y, yo + i + 16), a2);
            a3 = f3.fma(FloatVector.fromArray(F, y, yo + i + 24), a3);
        }
        FloatVector v = a0.add(a2).add(a1.add(a3));
        return GgmlSums.finishReduce(v.lane(0), v.lane(1), v.lane(2), v.lane(3), v.lane(4), v.lane(5), v.lane(6),
                v.lane(7));
    }

    /** {@link F16KvCache#tinyBlasDot}: one 8-lane accumulator over n (a multiple of 8) elements, then its hsum. */
    static float tinyBlasDotF16(short[] x, int xo, float[] y, int yo, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += 8) {
            IntVector h = (IntVector) ShortVector.fromArray(S, x, xo + i).convertShape(VectorOperators.S2I, I, 0);
            FloatVector f = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13).or(h.and(0x80000000))
                    .reinterpretAsFloats().mul(0x1p112f);
            acc = f.fma(FloatVector.fromArray(F, y, yo + i), acc);
        }
        return GgmlSums.tinyBlasHsum(acc.lane(0), acc.lane(1), acc.lane(2), acc.lane(3), acc.lane(4), acc.lane(5),
                acc.lane(6), acc.lane(7));
    }

    /** {@code acc[ao + i] += w * half(v[vo + i])} for i in [0, n) (the product of two F16 values is exact). */
    static void addScaledHalfRow(float w, short[] v, int vo, float[] acc, int ao, int n) {
        FloatVector wv = FloatVector.broadcast(F, w);
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            IntVector h = (IntVector) ShortVector.fromArray(S, v, vo + i).convertShape(VectorOperators.S2I, I, 0);
            FloatVector f = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13).or(h.and(0x80000000))
                    .reinterpretAsFloats().mul(0x1p112f);
            wv.fma(f, FloatVector.fromArray(F, acc, ao + i)).intoArray(acc, ao + i);
        }
        for (; i < n; i++) {
            acc[ao + i] += w * Float.float16ToFloat(v[vo + i]);
        }
    }
}
