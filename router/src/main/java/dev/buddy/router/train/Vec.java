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

    /** {@code Σ a[ao+i]·b[bo+i]} over n elements, in float with lane-parallel partial sums. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= LANES) {
            FloatVector acc = FloatVector.zero(SPECIES);
            int bound = SPECIES.loopBound(n);
            for (; i < bound; i += LANES) {
                acc = FloatVector.fromArray(SPECIES, a, ao + i).fma(FloatVector.fromArray(SPECIES, b, bo + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum = Math.fma(a[ao + i], b[bo + i], sum);
        }
        return sum;
    }

    /** {@code Σ a[ao+i]·b[bo+i]} accumulated in double: for gate gradients, which sum many small products. */
    static double dotDouble(float[] a, int ao, float[] b, int bo, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) a[ao + i] * b[bo + i];
        }
        return sum;
    }
}
