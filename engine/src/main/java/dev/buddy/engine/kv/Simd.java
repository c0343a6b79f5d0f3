package dev.buddy.engine.kv;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.FMA;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.MUL;

import dev.buddy.engine.tensor.GgmlSums;
import dev.buddy.engine.tensor.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * 256-bit Vector API versions of the attention loops. ggml's kernels are 8 float lanes wide, so one 256-bit vector
 * is one ggml register and every lane does exactly the scalar reference's arithmetic; results are bit-identical to
 * the scalar paths (checked by jqwik properties). Used when the preferred vector width is at least 256 bits.
 *
 * <p>F16 rows widen to float by moving exponent and mantissa into place and rescaling by 2^112 (exact for normal
 * and subnormal halves). An F16 infinity or NaN would come out finite; a KV value only becomes one when it overflows
 * F16, where llama.cpp's own results are meaningless too. The widening is written out at every use instead of in a
 * helper returning a vector: when C2 inlined such a helper late it could not intrinsify its operations on the
 * abstract {@code FloatVector} type, and decoding a synthetic Q4_K model allocated through it at every step
 * ({@code RowGroupDecodeAllocationTest}). For the same reason every loop calls only Vector API methods that its own
 * call sites dispatch ({@code lanewise}, {@code convertShape}, {@code reinterpretShape}; see
 * {@code dev.buddy.engine.tensor.Constants512}): the JDK's conveniences would put this code's 256-bit classes into the
 * type profiles that the 512-bit matrix kernels share.
 */
final class Simd {
    private Simd() {}

    static final boolean ENABLED = VectorWidth.preferred().bits() >= 256;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_128;
    private static final VectorShuffle<Float> SWAP_HALVES = VectorShuffle.fromValues(F, 4, 5, 6, 7, 0, 1, 2, 3);
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromValues(F, 2, 3, 0, 1, 6, 7, 4, 5);
    /** The half widening's shift, bits and rebias (as {@code dev.buddy.engine.tensor.Constants512}'s, 256 bits). */
    private static final IntVector I13 = IntVector.broadcast(I, 13);
    private static final IntVector HALF_BITS = IntVector.broadcast(I, 0x8FFF_E000);
    private static final FloatVector HALF_SCALE = FloatVector.broadcast(F, 0x1p112f);

    /** {@link F32KvCache#vecDotF32Lanes}. */
    static float vecDotF32Lanes(float[] x, int xo, float[] y, int yo, int np) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int i = 0; i < np; i += 32) {
            a0 = FloatVector.fromArray(F, x, xo + i).lanewise(FMA, FloatVector.fromArray(F, y, yo + i), a0);
            a1 = FloatVector.fromArray(F, x, xo + i + 8).lanewise(FMA, FloatVector.fromArray(F, y, yo + i + 8), a1);
            a2 = FloatVector.fromArray(F, x, xo + i + 16).lanewise(FMA, FloatVector.fromArray(F, y, yo + i + 16), a2);
            a3 = FloatVector.fromArray(F, x, xo + i + 24).lanewise(FMA, FloatVector.fromArray(F, y, yo + i + 24), a3);
        }
        FloatVector v = a0.lanewise(ADD, a2).lanewise(ADD, a1.lanewise(ADD, a3));
        return GgmlSums.finishReduce(v.lane(0), v.lane(1), v.lane(2), v.lane(3), v.lane(4), v.lane(5), v.lane(6),
                v.lane(7));
    }

    /** {@code acc[ao + i] = fma(w, v[vo + i], acc[ao + i])} for i in [0, n). */
    static void fmaRow(float w, float[] v, int vo, float[] acc, int ao, int n) {
        FloatVector wv = FloatVector.broadcast(F, w);
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            wv.lanewise(FMA, FloatVector.fromArray(F, v, vo + i), FloatVector.fromArray(F, acc, ao + i))
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
            a0 = ((FloatVector) ((IntVector) ShortVector.fromArray(S, x, xo + i)
                    .convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(LSHL, I13).lanewise(AND, HALF_BITS).reinterpretShape(F, 0)).lanewise(MUL, HALF_SCALE)
                    .lanewise(FMA, FloatVector.fromArray(F, y, yo + i), a0);
            a1 = ((FloatVector) ((IntVector) ShortVector.fromArray(S, x, xo + i + 8)
                    .convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(LSHL, I13).lanewise(AND, HALF_BITS).reinterpretShape(F, 0)).lanewise(MUL, HALF_SCALE)
                    .lanewise(FMA, FloatVector.fromArray(F, y, yo + i + 8), a1);
            a2 = ((FloatVector) ((IntVector) ShortVector.fromArray(S, x, xo + i + 16)
                    .convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(LSHL, I13).lanewise(AND, HALF_BITS).reinterpretShape(F, 0)).lanewise(MUL, HALF_SCALE)
                    .lanewise(FMA, FloatVector.fromArray(F, y, yo + i + 16), a2);
            a3 = ((FloatVector) ((IntVector) ShortVector.fromArray(S, x, xo + i + 24)
                    .convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(LSHL, I13).lanewise(AND, HALF_BITS).reinterpretShape(F, 0)).lanewise(MUL, HALF_SCALE)
                    .lanewise(FMA, FloatVector.fromArray(F, y, yo + i + 24), a3);
        }
        FloatVector v = a0.lanewise(ADD, a2).lanewise(ADD, a1.lanewise(ADD, a3));
        return GgmlSums.finishReduce(v.lane(0), v.lane(1), v.lane(2), v.lane(3), v.lane(4), v.lane(5), v.lane(6),
                v.lane(7));
    }

    /** {@link F16KvCache#tinyBlasDot}: one 8-lane accumulator over n (a multiple of 8) elements, then its hsum. */
    static float tinyBlasDotF16(short[] x, int xo, float[] y, int yo, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += 8) {
            acc = ((FloatVector) ((IntVector) ShortVector.fromArray(S, x, xo + i)
                    .convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(LSHL, I13).lanewise(AND, HALF_BITS).reinterpretShape(F, 0)).lanewise(MUL, HALF_SCALE)
                    .lanewise(FMA, FloatVector.fromArray(F, y, yo + i), acc);
        }
        return hsum(acc);
    }

    /**
     * Four queries' {@link #tinyBlasDotF16} against each key row in turn: {@code scores[sj + p] = dot(K_p, q_j) *
     * scale} for p in [0, positions), K_p the n halves (n a multiple of 8) from {@code kBase + p * kStride}. Each key
     * chunk is widened once for all four queries, and each query keeps its own accumulator with exactly
     * tinyBlasDotF16's lanes and order, so every score has its bits. A group of fewer than four queries repeats one
     * (same offsets, same score written twice): measured, that costs less than leaving the fourth query out behind
     * a branch, which made a three-query group's scores slower.
     */
    static void tinyBlasScoresF16x4(short[] k, int kBase, int kStride, int positions, int n, float[] q, int q0,
            int q1, int q2, int q3, float scale, float[] scores, int s0, int s1, int s2, int s3) {
        for (int p = 0; p < positions; p++) {
            int base = kBase + p * kStride;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            for (int i = 0; i < n; i += 8) {
                FloatVector f = ((FloatVector) ((IntVector) ShortVector.fromArray(S, k, base + i)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(LSHL, I13).lanewise(AND, HALF_BITS)
                        .reinterpretShape(F, 0)).lanewise(MUL, HALF_SCALE);
                a0 = f.lanewise(FMA, FloatVector.fromArray(F, q, q0 + i), a0);
                a1 = f.lanewise(FMA, FloatVector.fromArray(F, q, q1 + i), a1);
                a2 = f.lanewise(FMA, FloatVector.fromArray(F, q, q2 + i), a2);
                a3 = f.lanewise(FMA, FloatVector.fromArray(F, q, q3 + i), a3);
            }
            scores[s0 + p] = hsum(a0) * scale;
            scores[s1 + p] = hsum(a1) * scale;
            scores[s2 + p] = hsum(a2) * scale;
            scores[s3 + p] = hsum(a3) * scale;
        }
    }

    /**
     * Up to four queries' {@link #addScaledHalfRow} per value row: for p in [0, positions), the weight w_j[p] =
     * half(w[wj + p]) (rounded to F16 as llama.cpp converts the softmax to the V cache's type) and {@code
     * acc[cj + slot(p) * n + i] += w_j[p] * half(V_p[i])}, slot(p) = p & slotMask, V_p the n halves (n a multiple of
     * 8) from {@code vBase + p * vStride}. Each value chunk is widened once for all queries. Queries from
     * {@code active} on get weight zero (their offsets may repeat an active one's): a zero weight adds {@code 0 * v},
     * which leaves a slot's bits unchanged, since slots start at +0, sums of exact F16 products never reach -0, and
     * widened halves are finite. A position whose weights are all zero is skipped outright, and with {@code active}
     * below 4 the fourth query's rows are not touched at all.
     */
    static void addScaledHalfRowsx4(short[] v, int vBase, int vStride, int positions, int n, int slotMask,
            float[] w, int active, int w0, int w1, int w2, int w3, float[] acc, int c0, int c1, int c2, int c3) {
        boolean four = active > 3;
        for (int p = 0; p < positions; p++) {
            float x0 = half(w[w0 + p]);
            float x1 = active > 1 ? half(w[w1 + p]) : 0f;
            float x2 = active > 2 ? half(w[w2 + p]) : 0f;
            float x3 = active > 3 ? half(w[w3 + p]) : 0f;
            if (x0 == 0f && x1 == 0f && x2 == 0f && x3 == 0f) {
                continue;
            }
            FloatVector b0 = FloatVector.broadcast(F, x0);
            FloatVector b1 = FloatVector.broadcast(F, x1);
            FloatVector b2 = FloatVector.broadcast(F, x2);
            FloatVector b3 = FloatVector.broadcast(F, x3);
            int base = vBase + p * vStride;
            int slot = (p & slotMask) * n;
            for (int i = 0; i < n; i += 8) {
                FloatVector f = ((FloatVector) ((IntVector) ShortVector.fromArray(S, v, base + i)
                        .convertShape(VectorOperators.S2I, I, 0)).lanewise(LSHL, I13).lanewise(AND, HALF_BITS)
                        .reinterpretShape(F, 0)).lanewise(MUL, HALF_SCALE);
                int o = slot + i;
                b0.lanewise(FMA, f, FloatVector.fromArray(F, acc, c0 + o)).intoArray(acc, c0 + o);
                b1.lanewise(FMA, f, FloatVector.fromArray(F, acc, c1 + o)).intoArray(acc, c1 + o);
                b2.lanewise(FMA, f, FloatVector.fromArray(F, acc, c2 + o)).intoArray(acc, c2 + o);
                if (four) {
                    b3.lanewise(FMA, f, FloatVector.fromArray(F, acc, c3 + o)).intoArray(acc, c3 + o);
                }
            }
        }
    }

    /**
     * {@code out[outOffset + i] = tinyBlasHsum(slot 0..7 of dimension i)} for i in [0, n), slot j of dimension i at
     * {@code s[o + j * n + i]}, n a multiple of 8: the eight slots of eight dimensions are eight vectors, so the hsum's
     * additions run lane-wise, each lane one dimension's, in its order.
     */
    static void tinyBlasSlotSums(float[] s, int o, int n, float[] out, int outOffset) {
        for (int i = 0; i < n; i += 8) {
            int b = o + i;
            FloatVector t0 = FloatVector.fromArray(F, s, b).lanewise(ADD, FloatVector.fromArray(F, s, b + 4 * n));
            FloatVector t1 = FloatVector.fromArray(F, s, b + n).lanewise(ADD, FloatVector.fromArray(F, s, b + 5 * n));
            FloatVector t2 = FloatVector.fromArray(F, s, b + 2 * n)
                    .lanewise(ADD, FloatVector.fromArray(F, s, b + 6 * n));
            FloatVector t3 = FloatVector.fromArray(F, s, b + 3 * n)
                    .lanewise(ADD, FloatVector.fromArray(F, s, b + 7 * n));
            t0.lanewise(ADD, t2).lanewise(ADD, t1.lanewise(ADD, t3)).intoArray(out, outOffset + i);
        }
    }

    private static float half(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    /**
     * tinyBLAS's hsum of one 8-lane accumulator, in its own vector steps: the two 128-bit halves added (t_i = l_i +
     * l_{i+4}), then t's halves ((t0 + t2), (t1 + t3)), then those two: {@link GgmlSums#tinyBlasHsum}'s additions,
     * without extracting eight lanes.
     */
    private static float hsum(FloatVector a) {
        FloatVector t = a.lanewise(ADD, a.rearrange(SWAP_HALVES));
        FloatVector u = t.lanewise(ADD, t.rearrange(SWAP_PAIRS));
        return u.lane(0) + u.lane(1);
    }

    /** {@code acc[ao + i] += w * half(v[vo + i])} for i in [0, n) (the product of two F16 values is exact). */
    static void addScaledHalfRow(float w, short[] v, int vo, float[] acc, int ao, int n) {
        FloatVector wv = FloatVector.broadcast(F, w);
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            FloatVector f = ((FloatVector) ((IntVector) ShortVector.fromArray(S, v, vo + i)
                    .convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(LSHL, I13).lanewise(AND, HALF_BITS).reinterpretShape(F, 0)).lanewise(MUL, HALF_SCALE);
            wv.lanewise(FMA, f, FloatVector.fromArray(F, acc, ao + i)).intoArray(acc, ao + i);
        }
        for (; i < n; i++) {
            acc[ao + i] += w * Float.float16ToFloat(v[vo + i]);
        }
    }
}
