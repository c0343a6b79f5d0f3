package dev.buddy.router.train;

import java.util.function.DoubleUnaryOperator;

/**
 * Numerical derivatives for the gradient checks. The fourth-order central stencil
 * {@code (8(f(h) − f(−h)) − (f(2h) − f(−2h))) / 12h} has truncation error O(h⁴), which allows a step large enough
 * that the float rounding of the forward pass (about 1e-7 relative) divided by h stays far below the tolerance.
 */
final class FiniteDifference {
    private FiniteDifference() {}

    /**
     * The scale a directional derivative is judged against: {@code Σ|g_i·d_i|}. Terms of both signs cancel in
     * {@code Σ g_i·d_i}, and the float noise of the forward pass scales with the terms, not with their sum.
     */
    static double absoluteTerms(float[] gradient, float[] direction, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.abs((double) gradient[i] * direction[i]);
        }
        return s;
    }

    /** {@link #absoluteTerms(float[], float[], int)} for a gradient kept in double. */
    static double absoluteTerms(double[] gradient, float[] direction, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.abs(gradient[i] * direction[i]);
        }
        return s;
    }

    /** d/dε f(ε) at ε = 0. */
    static double derivative(DoubleUnaryOperator f, double h) {
        return (8 * (f.applyAsDouble(h) - f.applyAsDouble(-h)) - (f.applyAsDouble(2 * h) - f.applyAsDouble(-2 * h)))
                / (12 * h);
    }

    /** Relative error with a floor, so a gradient near zero is compared absolutely against the scale given. */
    static double relativeError(double analytic, double numeric, double scale) {
        return Math.abs(analytic - numeric) / Math.max(scale, Math.max(Math.abs(analytic), Math.abs(numeric)));
    }

    static double dot(float[] a, float[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
