package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

/**
 * The GRPO policy loss {@code −(1/G)·Σ_j A_j·log π(k_j) − β·H(π)} and its gradient with respect to every predictor
 * weight, against finite differences of an independent double-precision transcription (MLP per prompt token, mean
 * pool, softmax, the loss); and the group statistics and sampler against their definitions.
 */
class PredictorPolicyProperties {

    private static final int LAYERS = 8;
    private static final int ACTIONS = LAYERS - 2;

    /** A random predictor (feature width 10, hidden 5) and n random prompt feature rows. */
    private record PolicyCase(SplittableRandom random, RouterParameters shape, float[] params, float[] features,
                              int n) {
        static PolicyCase draw(long seed, int n) {
            SplittableRandom random = new SplittableRandom(seed);
            RouterParameters shape = new RouterParameters(10, 5, ACTIONS);
            return new PolicyCase(random, shape, OpGradientProperties.gaussian(random, shape.size, 0.5),
                    OpGradientProperties.gaussian(random, n * 10, 1.0), n);
        }

        /**
         * The relative error of the analytic directional derivative {@code gradient·v} against the central
         * difference of {@code scale·lossAt(e)} along a random direction v, measured against the larger of
         * {@code floor} and the terms' summed magnitude ({@link FiniteDifference#absoluteTerms}): the gradient comes
         * from float arithmetic, and a CI run drew a case whose terms cancelled to 5.48e-4, where the analytic
         * 5.482320e-4 and the double-precision reference's converged 5.481142e-4 (steps 1e-2 to 1e-5) differed by
         * 1.2e-7, float rounding that the floor of 1e-3 alone turned into a relative error of 1.2e-4.
         */
        double directionalError(double[] gradient, double scale, DirectionalLoss lossAt, double floor) {
            float[] direction = OpGradientProperties.gaussian(random, shape.size, 1.0);
            double analytic = 0;
            for (int i = 0; i < shape.size; i++) {
                analytic += gradient[i] * direction[i];
            }
            double numeric = scale * FiniteDifference.derivative(e -> lossAt.at(direction, e), 1e-3);
            return FiniteDifference.relativeError(analytic, numeric,
                    Math.max(floor, FiniteDifference.absoluteTerms(gradient, direction, shape.size)));
        }
    }

    /** A loss at θ + e·direction. */
    @FunctionalInterface
    private interface DirectionalLoss {
        double at(float[] direction, double e);
    }

    @Property(tries = 80)
    void lossGradientMatchesFiniteDifferences(@ForAll long seed, @ForAll @IntRange(min = 1, max = 7) int n,
                                              @ForAll @IntRange(min = 2, max = 6) int group,
                                              @ForAll @DoubleRange(min = 0.0, max = 0.5) double beta) {
        PolicyCase c = PolicyCase.draw(seed, n);
        int[] chosen = new int[group];
        double[] advantages = new double[group];
        for (int j = 0; j < group; j++) {
            chosen[j] = 1 + c.random().nextInt(ACTIONS);
            advantages[j] = SyntheticModel.gaussian(c.random());
        }
        double scale = 0.5;
        PredictorPolicy policy = new PredictorPolicy(c.shape(), LAYERS, 8);
        policy.forward(c.params(), c.features(), n);
        double[] gradient = new double[c.shape().size];
        double loss = policy.backward(c.params(), c.features(), chosen, advantages, beta, scale, gradient);
        assertEquals(reference(c.shape(), c.params(), null, 0, c.features(), n, chosen, advantages, beta), loss, 1e-5);
        double error = c.directionalError(gradient, scale, (direction, e) -> reference(c.shape(), c.params(),
                direction, e, c.features(), n, chosen, advantages, beta), 1e-3);
        // 1e-4, not 1e-5: the analytic gradient comes from the float32 policy, whose absolute error is about 1e-7;
        // against a directional derivative of 4.4e-3 that alone is 1.7e-5 relative, and a CI run drew exactly that
        // case (analytic 0.0044250573 vs numeric 0.0044251304). 1e-4 is still ten times tighter than the model-level
        // gradient checks (OpGradientProperties, 1e-3), and a wrong term in the gradient is off by far more.
        assertTrue(error <= 1e-4, "relative error " + error);
    }

    @Property(tries = 80)
    void targetCrossEntropyGradientMatchesFiniteDifferences(@ForAll long seed,
                                                            @ForAll @IntRange(min = 1, max = 7) int n) {
        PolicyCase c = PolicyCase.draw(seed, n);
        double[] target = new double[ACTIONS];
        double sum = 0;
        for (int a = 0; a < ACTIONS; a++) {
            target[a] = c.random().nextDouble();
            sum += target[a];
        }
        for (int a = 0; a < ACTIONS; a++) {
            target[a] /= sum;
        }
        double scale = 0.5;
        PredictorPolicy policy = new PredictorPolicy(c.shape(), LAYERS, 8);
        policy.forward(c.params(), c.features(), n);
        double[] gradient = new double[c.shape().size];
        double loss = policy.backwardTowards(c.params(), c.features(), target, scale, gradient);
        assertEquals(crossEntropyReference(c.shape(), c.params(), null, 0, c.features(), n, target), loss, 1e-5);
        double error = c.directionalError(gradient, scale, (direction, e) -> crossEntropyReference(c.shape(),
                c.params(), direction, e, c.features(), n, target), 1e-3);
        assertTrue(error <= 1e-4, "relative error " + error);
    }

    /** −Σ_a q_a·log π_a at θ + e·direction, all in double. */
    private static double crossEntropyReference(RouterParameters shape, float[] params, float[] direction, double e,
                                                float[] x, int n, double[] target) {
        double[] logPi = referenceLogPolicy(shape, params, direction, e, x, n);
        double loss = 0;
        for (int a = 0; a < logPi.length; a++) {
            loss -= target[a] * logPi[a];
        }
        return loss;
    }

    /** log π at θ + e·direction, all in double: MLP per token, mean pool, log-softmax. */
    private static double[] referenceLogPolicy(RouterParameters shape, float[] params, float[] direction, double e,
                                               float[] x, int n) {
        int d = shape.inputDim;
        int r = shape.hiddenDim;
        int m = shape.outputDim;
        double[] p = new double[shape.size];
        for (int i = 0; i < p.length; i++) {
            p[i] = params[i] + (direction == null ? 0 : e * direction[i]);
        }
        double[] z = new double[m];
        for (int t = 0; t < n; t++) {
            double[] h = new double[r];
            for (int k = 0; k < r; k++) {
                double a = p[shape.b1Offset + k];
                for (int i = 0; i < d; i++) {
                    a += p[shape.w1Offset + k * d + i] * x[t * d + i];
                }
                h[k] = a / (1 + Math.exp(-a));
            }
            for (int j = 0; j < m; j++) {
                double u = p[shape.b2Offset + j];
                for (int k = 0; k < r; k++) {
                    u += p[shape.w2Offset + j * r + k] * h[k];
                }
                z[j] += u / n;
            }
        }
        double max = java.util.Arrays.stream(z).max().orElseThrow();
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - max);
        }
        double logSum = max + Math.log(sum);
        double[] logPi = new double[m];
        for (int j = 0; j < m; j++) {
            logPi[j] = z[j] - logSum;
        }
        return logPi;
    }

    /** The loss at θ + e·direction, all in double. */
    private static double reference(RouterParameters shape, float[] params, float[] direction, double e, float[] x,
                                    int n, int[] chosen, double[] advantages, double beta) {
        double[] logPi = referenceLogPolicy(shape, params, direction, e, x, n);
        double entropy = 0;
        for (double logP : logPi) {
            entropy -= Math.exp(logP) * logP;
        }
        double loss = -beta * entropy;
        for (int j = 0; j < chosen.length; j++) {
            loss -= advantages[j] / chosen.length * logPi[chosen[j] - 1];
        }
        return loss;
    }

    @Property(tries = 100)
    void boltzmannTargetsFollowTheirDefinition(@ForAll long seed, @ForAll @IntRange(min = 1, max = 30) int actions,
                                               @ForAll @DoubleRange(min = 0.01, max = 100) double temperature) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] rewards = new double[actions];
        for (int a = 0; a < actions; a++) {
            rewards[a] = -60 + 50 * random.nextDouble();
        }
        double[] q = TablePredictorTrainer.boltzmann(rewards, temperature);
        double sum = 0;
        for (double v : q) {
            sum += v;
        }
        assertEquals(1.0, sum, 1e-12);
        for (int a = 0; a < actions; a++) {
            for (int b = 0; b < actions; b++) {
                // q_a / q_b = exp((r_a − r_b)/τ), in logs so that neither side underflows.
                if (q[a] > 1e-300 && q[b] > 1e-300) {
                    assertEquals((rewards[a] - rewards[b]) / temperature, Math.log(q[a]) - Math.log(q[b]), 1e-9);
                }
            }
        }
        // A reward scale where exp(r/τ) alone overflows still gives finite targets. Adding 1e6 rounds each reward
        // by up to half an ulp of 1e6, which moves every exponent (r_a − r_max)/τ by up to ulp/τ, so q_a by that
        // relative amount twice over (its own exponent and the normaliser's): at τ = 0.01 about 1e-8.
        double[] huge = new double[actions];
        for (int a = 0; a < actions; a++) {
            huge[a] = 1e6 + rewards[a];
        }
        double[] qHuge = TablePredictorTrainer.boltzmann(huge, temperature);
        double shift = 2 * Math.ulp(1e6) / temperature;
        for (int a = 0; a < actions; a++) {
            assertEquals(q[a], qHuge[a], 2 * shift * q[a] + 1e-12);
        }
    }

    /** The draw CI met (session 18), where the old bound of 1e-9 was below the rounding of the shifted rewards. */
    @Example
    void boltzmannTargetsAtASmallTemperatureOnAShiftedScale() {
        boltzmannTargetsFollowTheirDefinition(-9274, 13, 0.01);
    }

    @Property(tries = 100)
    void advantagesAreGroupNormalised(@ForAll long seed, @ForAll @IntRange(min = 2, max = 8) int group) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] rewards = new double[group];
        for (int j = 0; j < group; j++) {
            rewards[j] = -20 + 10 * random.nextDouble();
        }
        rewards[0] = rewards[1] + 1.0; // never a constant group
        double[] a = new double[group];
        PredictorTrainer.groupAdvantages(rewards, 1e-12, a);
        double mean = 0;
        double sq = 0;
        for (double v : a) {
            mean += v / group;
            sq += v * v / group;
        }
        assertEquals(0.0, mean, 1e-9);
        assertEquals(1.0, sq - mean * mean, 1e-9);
        for (int i = 0; i < group; i++) {
            for (int j = 0; j < group; j++) {
                assertEquals(Double.compare(rewards[i], rewards[j]), Double.compare(a[i], a[j]));
            }
        }
    }

    @Property(tries = 50)
    void aConstantGroupHasNoAdvantage(@ForAll @DoubleRange(min = -50, max = 0) double reward) {
        double[] a = new double[4];
        PredictorTrainer.groupAdvantages(new double[] {reward, reward, reward, reward}, 1e-6, a);
        assertEquals(0.0, a[0] * a[0] + a[1] * a[1] + a[2] * a[2] + a[3] * a[3], 0.0);
    }

    @Property(tries = 30)
    void samplerFollowsThePolicy(@ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] pi = new double[5];
        double total = 0;
        for (int i = 0; i < pi.length; i++) {
            pi[i] = random.nextDouble();
            total += pi[i];
        }
        for (int i = 0; i < pi.length; i++) {
            pi[i] /= total;
        }
        int draws = 20_000;
        int[] counts = new int[pi.length];
        for (int i = 0; i < draws; i++) {
            counts[PredictorTrainer.sample(pi, random.nextDouble())]++;
        }
        for (int i = 0; i < pi.length; i++) {
            // Five binomial standard deviations: a false failure about once in 3.5 million.
            double sd = Math.sqrt(draws * pi[i] * (1 - pi[i]));
            assertTrue(Math.abs(counts[i] - draws * pi[i]) <= 5 * sd + 1, "action " + i + ": " + counts[i]
                    + " draws, expected " + draws * pi[i]);
        }
    }
}
