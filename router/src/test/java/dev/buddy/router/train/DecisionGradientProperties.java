package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import dev.buddy.router.DecisionModule;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.RandomRouter;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The router half of the chain: from gate gradients through the relaxation, the pooling and the two-layer MLP to
 * the weights, against finite differences of the surrogate {@code S(θ) = Σ_j g_j·relax(s'(θ))_j} computed in double
 * by an independent transcription; and the training-time route against {@link DecisionModule#routeSequence}, the
 * inference reference, so a trained router is used the way it was trained.
 */
class DecisionGradientProperties {

    @Property(tries = 60)
    void weightGradientsMatchFiniteDifferencesOfTheRelaxedGates(@ForAll long seed,
                                                                @ForAll Pooling pooling,
                                                                @ForAll GateRelaxation relaxation,
                                                                @ForAll @IntRange(min = 1, max = 6) int n) {
        SplittableRandom random = new SplittableRandom(seed);
        int layers = 7;
        int middle = layers - 2;
        int d = 12;
        int hidden = 5;
        RouterParameters shape = new RouterParameters(d, hidden, middle);
        float[] params = OpGradientProperties.gaussian(random, shape.size, 0.5);
        float[] prior = OpGradientProperties.gaussian(random, middle, 1.0);
        float omega = 0.3f;
        float[] features = OpGradientProperties.gaussian(random, n * d, 1.0);
        double[] gates = new double[middle];
        for (int j = 0; j < middle; j++) {
            gates[j] = SyntheticModel.gaussian(random);
        }
        DecisionModule module = new DecisionModule(layers, shape.toMlp(params), prior, omega, FeatureSource.VALUE,
                pooling);
        if (pooling == Pooling.MAX) {
            // Max pooling has a kink wherever two tokens tie for a block's maximum; a central difference straddling
            // it measures neither side's slope (a CI run drew such a case: analytic -0.1764, numeric -0.1818).
            // Keep only inputs whose top two token scores per block are further apart than the step can move them.
            net.jqwik.api.Assume.that(maxPoolingMargin(module, features, n, d, hidden, middle) > 2e-2);
        }
        DecisionPass pass = new DecisionPass(shape, layers, 8);
        pass.forward(module, features, n, 2);
        double[] dFused = new double[middle];
        relaxation.scoreGradient(pass.fused(), gates, middle, dFused);
        double[] gradient = new double[shape.size];
        pass.backward(params, features, dFused, gradient);

        float[] direction = OpGradientProperties.gaussian(random, shape.size, 1.0);
        double analytic = 0;
        for (int i = 0; i < shape.size; i++) {
            analytic += gradient[i] * direction[i];
        }
        double numeric = FiniteDifference.derivative(e -> surrogate(shape, params, direction, e, features, n, prior,
                omega, pooling, relaxation, gates), 1e-4);
        double error = FiniteDifference.relativeError(analytic, numeric, 1e-3);
        assertTrue(error <= 1e-4, pooling + "/" + relaxation + ": analytic " + analytic + " vs numeric " + numeric);
    }

    /** The smallest gap, over blocks, between the largest and second-largest per-token score (∞ for one token). */
    private static double maxPoolingMargin(DecisionModule module, float[] features, int n, int d, int hidden,
                                           int middle) {
        float[][] scores = new float[n][middle];
        float[] h = new float[hidden];
        for (int t = 0; t < n; t++) {
            module.tokenScores(java.util.Arrays.copyOfRange(features, t * d, (t + 1) * d), 0, h, scores[t]);
        }
        double margin = Double.POSITIVE_INFINITY;
        for (int j = 0; j < middle; j++) {
            double first = Double.NEGATIVE_INFINITY;
            double second = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < n; t++) {
                double v = scores[t][j];
                if (v > first) {
                    second = first;
                    first = v;
                } else if (v > second) {
                    second = v;
                }
            }
            margin = Math.min(margin, first - second);
        }
        return margin;
    }

    /** Σ_j g_j·relax(s'_j) at θ + e·direction, all in double. */
    private static double surrogate(RouterParameters shape, float[] params, float[] direction, double e,
                                    float[] x, int n, float[] prior, float omega, Pooling pooling,
                                    GateRelaxation relaxation, double[] gates) {
        int d = shape.inputDim;
        int r = shape.hiddenDim;
        int m = shape.outputDim;
        double[] p = new double[shape.size];
        for (int i = 0; i < p.length; i++) {
            p[i] = params[i] + e * direction[i];
        }
        double[] pooled = new double[m];
        java.util.Arrays.fill(pooled, pooling == Pooling.MAX ? Double.NEGATIVE_INFINITY : 0.0);
        for (int t = 0; t < n; t++) {
            double[] h = new double[r];
            for (int k = 0; k < r; k++) {
                double z = p[shape.b1Offset + k];
                for (int i = 0; i < d; i++) {
                    z += p[shape.w1Offset + k * d + i] * x[t * d + i];
                }
                h[k] = z / (1 + Math.exp(-z));
            }
            for (int j = 0; j < m; j++) {
                double u = p[shape.b2Offset + j];
                for (int k = 0; k < r; k++) {
                    u += p[shape.w2Offset + j * r + k] * h[k];
                }
                switch (pooling) {
                    case MEAN -> pooled[j] += u / n;
                    case LAST -> pooled[j] = t == n - 1 ? u : pooled[j];
                    case MAX -> pooled[j] = Math.max(pooled[j], u);
                }
            }
        }
        double[] s = new double[m];
        for (int j = 0; j < m; j++) {
            s[j] = pooled[j] + omega * prior[j];
        }
        double total = 0;
        if (relaxation == GateRelaxation.SOFTMAX) {
            double max = java.util.Arrays.stream(s).max().orElseThrow();
            double sum = 0;
            for (double v : s) {
                sum += Math.exp(v - max);
            }
            for (int j = 0; j < m; j++) {
                total += gates[j] * Math.exp(s[j] - max) / sum;
            }
        } else {
            for (int j = 0; j < m; j++) {
                total += gates[j] / (1 + Math.exp(-s[j]));
            }
        }
        return total;
    }

    @Property(tries = 40)
    void trainingRouteIsTheInferenceRoute(@ForAll long seed, @ForAll Pooling pooling,
                                          @ForAll @IntRange(min = 1, max = 20) int n,
                                          @ForAll @IntRange(min = 1, max = 6) int k) {
        SplittableRandom random = new SplittableRandom(seed);
        int layers = 8;
        int d = 16;
        var router = RandomRouter.create(layers, d, "f", "llama", seed, FeatureSource.VALUE, pooling, false);
        float[] prior = OpGradientProperties.gaussian(random, layers - 2, 1.0);
        DecisionModule module = new DecisionModule(layers, router.decision().mlp(), prior, 0.1f,
                FeatureSource.VALUE, pooling);
        float[] flat = OpGradientProperties.gaussian(random, n * d, 1.0);
        float[][] rows = new float[n][];
        for (int t = 0; t < n; t++) {
            rows[t] = java.util.Arrays.copyOfRange(flat, t * d, (t + 1) * d);
        }
        RouterParameters shape = new RouterParameters(d, DecisionModule.DEFAULT_HIDDEN, layers - 2);
        DecisionPass pass = new DecisionPass(shape, layers, 20);
        pass.forward(module, flat, n, k);
        assertArrayEquals(module.routeSequence(rows, k), pass.mask());
    }
}
