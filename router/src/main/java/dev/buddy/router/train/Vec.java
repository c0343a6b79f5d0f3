package dev.buddy.router.train;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The few dense vector loops the backward pass spends its time in (axpy and dot products over activation rows),
 * written once with the Vector API. Results depend only on the inputs and the machine's preferred vector width, so a
 * training run repeats bit for bit on the same machine.
 */
final class Vec {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private Vec() {}

    /** {@code y[yo..yo+n) += a · x[xo..xo+n)}. */
    static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        if (n >= LANES) {
            FloatVector va = FloatVector.broadcast(SPECIES, a);
            int bound = SPECIES.loopBound(n);
            for (; i < bound; i += LANES) {
                FloatVector vx = FloatVector.fromArray(SPECIES, x, xo + i);
                FloatVector vy = FloatVector.fromArray(SPECIES, y, yo + i);
                vx.fma(va, vy).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) {
            y[yo + i] = Math.fma(a, x[xo + i], y[yo + i]);
        }
    }

    /**
     * {@code Σ a[ao+i]·b[bo+i]} over n elements, in float with lane-parallel partial sums. Short vectors (tiny models'
     * attention heads) take a scalar loop: one vector multiply plus a cross-lane reduction costs more than a few
     * scalar fused multiply-adds.
     */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        if (n < 2 * LANES) {
            float s0 = 0f;
            float s1 = 0f;
            int i = 0;
            for (; i + 1 < n; i += 2) {
                s0 = Math.fma(a[ao + i], b[bo + i], s0);
                s1 = Math.fma(a[ao + i + 1], b[bo + i + 1], s1);
            }
            if (i < n) {
                s0 = Math.fma(a[ao + i], b[bo + i], s0);
            }
            return s0 + s1;
        }
        int i = 0;
        float sum = 0f;
        if (n >= LANES) {
            FloatVector acc = FloatVector.zero(SPECIES);
            int bound = SPECIES.loopBound(n);
            for (; i < bound; i += LANES) {
                acc = FloatVector.fromArray(SPECIES, a, ao + i).fma(FloatVector.fromArray(SPECIES, b, bo + i), acc);
            }
            sum = laneSum(acc);
        }
        for (; i < n; i++) {
            sum = Math.fma(a[ao + i], b[bo + i], sum);
        }
        return sum;
    }

    /**
     * In place {@code x[i] = exp(x[i] − shift)} over n elements, returning their sum (accumulated in double).
     *
     * <p>Scalar {@link Math#exp} on purpose: the Vector API's {@code EXP} is the platform's vector math library once
     * C2 has compiled the loop but a per-lane Java fallback before that, and the two round differently, so a run's
     * bits depended on JIT timing (same seed, different weights under load). HotSpot's interpreter and compilers
     * share one {@code Math.exp} stub, which keeps a seeded run bit-identical. The cost is about 1–2% of a SmolLM2
     * training step (the LM head's 49,152 exps per scored token against its forward and backward matmuls).
     */
    static double expShifted(float[] x, int off, int n, float shift) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - shift);
            x[off + i] = e;
            sum += e;
        }
        return sum;
    }

    /** {@code max(x[off..off+n))}. */
    static float max(float[] x, int off, int n) {
        int i = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (n >= LANES) {
            FloatVector acc = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
            int bound = SPECIES.loopBound(n);
            for (; i < bound; i += LANES) {
                acc = acc.max(FloatVector.fromArray(SPECIES, x, off + i));
            }
            max = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        return max;
    }

    /** In place {@code x[i] *= a}. */
    static void scale(float[] x, int off, int n, float a) {
        int i = 0;
        if (n >= LANES) {
            int bound = SPECIES.loopBound(n);
            for (; i < bound; i += LANES) {
                FloatVector.fromArray(SPECIES, x, off + i).mul(a).intoArray(x, off + i);
            }
        }
        for (; i < n; i++) {
            x[off + i] *= a;
        }
    }

    /** {@code Σ a[ao+i]·b[bo+i]} accumulated in double: for gate gradients, which sum many small products. */
    static double dotDouble(float[] a, int ao, float[] b, int bo, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) a[ao + i] * b[bo + i];
        }
        return sum;
    }

    /**
     * The lanes' sum in a fixed order. {@code reduceLanes(ADD)} leaves the order to the implementation, and the
     * intrinsic and the Java fallback (used until C2 compiles the caller) may differ in the last bit.
     */
    private static float laneSum(FloatVector v) {
        float sum = 0f;
        for (int lane = 0; lane < LANES; lane++) {
            sum += v.lane(lane);
        }
        return sum;
    }
}
