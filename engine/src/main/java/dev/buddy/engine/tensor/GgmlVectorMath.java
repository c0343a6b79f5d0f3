package dev.buddy.engine.tensor;

import static jdk.incubator.vector.VectorOperators.ABS;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.DIV;
import static jdk.incubator.vector.VectorOperators.FMA;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.MAX;
import static jdk.incubator.vector.VectorOperators.MUL;
import static jdk.incubator.vector.VectorOperators.NEG;
import static jdk.incubator.vector.VectorOperators.SUB;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link GgmlMath}'s softmax and SiLU eight lanes at a time, as ggml's AVX2 build runs them: {@code ggml_v_expf} is
 * a sequence of lane-wise IEEE operations (fused multiply-adds, integer shifts on the float bits, compares and
 * blends), so evaluating it in 256-bit vectors gives every lane the scalar {@link GgmlMath#expf}'s bits, only without
 * a call per element. Softmax of a prompt's attention rows and SiLU of its feed-forward rows spent about 4% of a
 * two-thread SmolLM2 pp512 profile in the scalar version.
 */
final class GgmlVectorMath {
    private GgmlVectorMath() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorShuffle<Float> HALVES = VectorShuffle.fromValues(F, 4, 5, 6, 7, 0, 1, 2, 3);
    private static final VectorShuffle<Float> PAIRS = VectorShuffle.fromValues(F, 2, 3, 0, 1, 6, 7, 4, 5);
    private static final int ONE_BITS = Float.floatToRawIntBits(1f);

    /** ggml's AVX2 {@code ggml_v_expf} on 8 lanes, {@link GgmlMath#expf} in each (for tests; the loops use run8). */
    static FloatVector expf(FloatVector x) {
        float[] lanes = x.toArray();
        run8(lanes, 0, 0f, null, EXP);
        return FloatVector.fromArray(F, lanes, 0);
    }

    private static final int EXP = 0;
    private static final int SOFTMAX = 1;
    private static final int SILU = 2;

    /**
     * One run of 8 lanes from {@code x[at]}, all vectors local to this method (a vector handed to or returned from a
     * call C2 does not inline is boxed, and compiled vector code soon outgrows C2's inlining limits): {@code mode}
     * {@link #EXP} replaces each lane by {@code expf(x)}; {@link #SOFTMAX} by {@code expf(x - max)} and returns the
     * run's sum in ggml's {@code hsum} order, {@code (l0 + l4) + (l2 + l6)} plus {@code (l1 + l5) + (l3 + l7)};
     * {@link #SILU} by {@code x / (1 + expf(0 - x)) * up}.
     */
    private static float run8(float[] x, int at, float max, float[] up, int mode) {
        // Vector API calls only of the kind this method's own call sites dispatch (see Constants512): 256-bit code
        // calling the JDK's conveniences both boxes itself and puts its classes into the profiles that the 512-bit
        // kernels would read
        FloatVector v = FloatVector.fromArray(F, x, at);
        FloatVector arg = mode == SILU ? FloatVector.zero(F).lanewise(SUB, v)
                : mode == SOFTMAX ? v.lanewise(SUB, FloatVector.broadcast(F, max)) : v;
        // ggml_v_expf, step by step
        FloatVector r = FloatVector.broadcast(F, 0x1.8p23f);
        FloatVector z = arg.lanewise(FMA, FloatVector.broadcast(F, 0x1.715476p+0f), r);
        FloatVector n = z.lanewise(SUB, r);
        FloatVector minusN = n.lanewise(NEG);
        FloatVector b = minusN.lanewise(FMA, FloatVector.broadcast(F, 0x1.7f7d1cp-20f),
                minusN.lanewise(FMA, FloatVector.broadcast(F, 0x1.62e4p-1f), arg));
        IntVector e = ((IntVector) z.reinterpretShape(I, 0)).lanewise(LSHL, IntVector.broadcast(I, 23));
        FloatVector k = (FloatVector) e.lanewise(ADD, IntVector.broadcast(I, ONE_BITS)).reinterpretShape(F, 0);
        FloatVector u = b.lanewise(MUL, b);
        FloatVector j = FloatVector.broadcast(F, 0x1.0e4020p-7f)
                .lanewise(FMA, b, FloatVector.broadcast(F, 0x1.573e2ep-5f))
                .lanewise(FMA, u, FloatVector.broadcast(F, 0x1.555e66p-3f)
                        .lanewise(FMA, b, FloatVector.broadcast(F, 0x1.fffdb6p-2f)))
                .lanewise(FMA, u, b.lanewise(MUL, FloatVector.broadcast(F, 0x1.ffffecp-1f)));
        FloatVector exp = k.lanewise(FMA, j, k);
        FloatVector magnitude = n.lanewise(ABS);
        VectorMask<Float> big = magnitude.compare(GT, FloatVector.broadcast(F, 126f));
        if (big.anyTrue()) {
            // Lanes whose result over- or underflows the fast path's scale: ggml's two-factor form, or its square.
            IntVector g = IntVector.zero(I).blend(IntVector.broadcast(I, 0x82000000),
                    n.compare(LE, FloatVector.zero(F)).cast(I));
            FloatVector s1 = (FloatVector) g.lanewise(ADD, IntVector.broadcast(I, 0x7f000000)).reinterpretShape(F, 0);
            FloatVector s2 = (FloatVector) e.lanewise(SUB, g).reinterpretShape(F, 0);
            exp = exp.blend(s2.lanewise(FMA, j, s2).lanewise(MUL, s1), big)
                    .blend(s1.lanewise(MUL, s1), magnitude.compare(GT, FloatVector.broadcast(F, 192f)));
        }
        if (mode == SILU) {
            v.lanewise(DIV, FloatVector.broadcast(F, 1f).lanewise(ADD, exp))
                    .lanewise(MUL, FloatVector.fromArray(F, up, at)).intoArray(x, at);
            return 0f;
        }
        exp.intoArray(x, at);
        if (mode == EXP) {
            return 0f;
        }
        FloatVector t = exp.lanewise(ADD, exp.rearrange(HALVES));
        FloatVector w = t.lanewise(ADD, t.rearrange(PAIRS));
        return w.lane(0) + w.lane(1);
    }

    /**
     * {@link GgmlMath#softmax} with the exponentials and each run's {@code hsum} in vector lanes: the maximum (order
     * does not matter to it), then every full run of 8 as one {@link #expf} and two lane-wise adds that form
     * {@code (l0 + l4) + (l2 + l6)} and {@code (l1 + l5) + (l3 + l7)}, their float sum accumulated in double as
     * there; a last partial run goes through the scalar code.
     */
    static void softmax(float[] x, int offset, int n) {
        int full = n & ~7;
        FloatVector maxLanes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < full; i += 8) {
            maxLanes = maxLanes.lanewise(MAX, FloatVector.fromArray(F, x, offset + i));
        }
        float max = maxLanes.reduceLanes(MAX);
        for (int i = full; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < full; i += 8) {
            sum += run8(x, offset + i, max, null, SOFTMAX);
        }
        if (full < n) {
            sum += GgmlMath.expRun(x, offset, full, n, max);
        }
        float inverse = (float) (1.0 / sum);
        FloatVector scale = FloatVector.broadcast(F, inverse);
        for (int i = 0; i < full; i += 8) {
            FloatVector.fromArray(F, x, offset + i).lanewise(MUL, scale).intoArray(x, offset + i);
        }
        for (int i = full; i < n; i++) {
            x[offset + i] *= inverse;
        }
    }

    /** {@link GgmlMath#siluTimes} with ggml's 8-lane runs in vectors; the 0-7 left over per row stay scalar. */
    static void siluTimes(float[] gate, float[] up, int rows, int width) {
        int vectorPart = width & ~7;
        for (int r = 0; r < rows; r++) {
            int o = r * width;
            for (int i = o; i < o + vectorPart; i += 8) {
                run8(gate, i, 0f, up, SILU);
            }
            GgmlMath.siluTimesTail(gate, up, o + vectorPart, o + width);
        }
    }
}
