package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link TokenRouteClassifier}: its gradient against central finite differences of its expected loss, and, fitted on
 * tokens whose feature names their best route, it chooses that route for tokens it has not seen; a fold's choices do
 * not depend on that fold's own losses.
 */
class TokenRouteClassifierProperties {

    @Property(tries = 30)
    void theGradientIsTheSlopeOfTheExpectedLoss(@ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int width,
            @ForAll @IntRange(min = 1, max = 5) int hidden, @ForAll @IntRange(min = 2, max = 5) int candidates) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] rows = new float[width];
        float[] mean = new float[width];
        float[] scale = new float[width];
        for (int i = 0; i < width; i++) {
            rows[i] = (float) random.nextGaussian();
            mean[i] = (float) (0.3 * random.nextGaussian());
            scale[i] = (float) (0.5 + random.nextDouble());
        }
        float[] losses = new float[candidates];
        for (int c = 0; c < candidates; c++) {
            losses[c] = (float) (1 + 3 * random.nextDouble());
        }
        TokenRouteClassifier classifier = TokenRouteClassifier.random(width, hidden, candidates, mean, scale,
                random.nextLong());
        float[] params = classifier.parameters();
        double[] grad = new double[params.length];
        double loss = classifier.expectedLoss(classifier.module(), rows, losses, 0, grad);
        float[] x = classifier.input(rows, 0).clone();
        RouterParameters shape = classifier.shape();
        assertEquals(expectedLoss(shape, params, new float[params.length], 0, x, losses), loss, 1e-5);
        float[] direction = OpGradientProperties.gaussian(random, params.length, 1.0);
        double analytic = 0;
        for (int i = 0; i < params.length; i++) {
            analytic += grad[i] * direction[i];
        }
        double numeric = FiniteDifference.derivative(e -> expectedLoss(shape, params, direction, e, x, losses), 1e-4);
        double error = FiniteDifference.relativeError(analytic, numeric, 1e-3);
        assertTrue(error <= 1e-4, "analytic " + analytic + " vs numeric " + numeric);
    }

    /** Σ_c softmax(z)_c·L_c at θ + e·direction for the standardised input x, all in double. */
    private static double expectedLoss(RouterParameters shape, float[] params, float[] direction, double e,
                                       float[] x, float[] losses) {
        double[] z = mlpInDouble(shape, params, direction, e, x);
        int m = shape.outputDim;
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < m; j++) {
            max = Math.max(max, z[j]);
        }
        double sum = 0;
        double weighted = 0;
        for (int j = 0; j < m; j++) {
            double w = Math.exp(z[j] - max);
            sum += w;
            weighted += w * losses[j];
        }
        return weighted / sum;
    }

    @Property(tries = 10)
    void aFeatureThatNamesTheBestRouteIsLearnedAndNoFoldSeesItsOwnLosses(@ForAll long seed,
            @ForAll @IntRange(min = 2, max = 4) int candidates) {
        SplittableRandom random = new SplittableRandom(seed);
        int examples = 12;
        TokenRouteOracle t = TokenRouteOracleProperties.random(random, examples, candidates, candidates, 8);
        TokenRouteOracleProperties.plantBestRoutes(t, candidates, 0.05f, random);
        // A classifier can only learn a route its fitting half has seen.
        int[] oracle = t.oracleChoices();
        for (int f = 0; f < 2; f++) {
            Assume.that(TokenRouteOracleProperties.routesIn(t, oracle, f) == candidates);
        }
        // These halves hold 6 to 48 tokens, one mini-batch, so the default 40 epochs are only 40 Adam steps: too few
        // for a route named by a single token (seed -17195 with 4 candidates has one token of route 3 in a half and
        // chose route 1 for it). The real tables hold thousands of tokens, dozens of steps an epoch.
        TokenRouteClassifier.Settings settings = new TokenRouteClassifier.Settings(
                TokenRouteClassifier.Settings.DEFAULT.hidden(), 200, TokenRouteClassifier.Settings.DEFAULT.batch(),
                TokenRouteClassifier.Settings.DEFAULT.learningRate(),
                TokenRouteClassifier.Settings.DEFAULT.weightDecay(), TokenRouteClassifier.Settings.DEFAULT.seed());
        for (TokenRouteOracle.Feature feature : TokenRouteOracle.Feature.values()) {
            int[] choices = t.classifierChoices(feature, settings);
            assertArrayEquals(t.oracleChoices(), choices, feature.toString());
            assertArrayEquals(choices, t.classifierChoices(feature, settings), "the same seed, the same choices");
        }
        // Scrambling fold 0's losses changes nothing fold 0 is given (it is fitted on fold 1 only).
        int[] before = t.classifierChoices(TokenRouteOracle.Feature.NEWEST_VALUE, settings);
        for (int e = 0; e < examples; e += 2) {
            for (float[] l : t.losses()[e]) {
                Arrays.fill(l, (float) random.nextDouble());
            }
        }
        int[] after = t.classifierChoices(TokenRouteOracle.Feature.NEWEST_VALUE, settings);
        int[] offsets = t.offsets();
        for (int e = 0; e < examples; e += 2) {
            assertArrayEquals(Arrays.copyOfRange(before, offsets[e], offsets[e + 1]),
                    Arrays.copyOfRange(after, offsets[e], offsets[e + 1]), "example " + e);
        }
    }

    @Example
    void theHalfWithOneTokenOfARouteLearnsItToo() {
        aFeatureThatNamesTheBestRouteIsLearnedAndNoFoldSeesItsOwnLosses(-17195, 4);
    }

    /** The MLP's outputs (Linear, SiLU, Linear) at θ + e·direction for the input x, all in double. */
    static double[] mlpInDouble(RouterParameters shape, float[] params, float[] direction, double e, float[] x) {
        double[] p = new double[shape.size];
        for (int i = 0; i < p.length; i++) {
            p[i] = params[i] + e * direction[i];
        }
        int d = shape.inputDim;
        int r = shape.hiddenDim;
        double[] h = new double[r];
        for (int k = 0; k < r; k++) {
            double z = p[shape.b1Offset + k];
            for (int i = 0; i < d; i++) {
                z += p[shape.w1Offset + k * d + i] * x[i];
            }
            h[k] = z / (1 + Math.exp(-z));
        }
        double[] out = new double[shape.outputDim];
        for (int j = 0; j < out.length; j++) {
            out[j] = p[shape.b2Offset + j];
            for (int k = 0; k < r; k++) {
                out[j] += p[shape.w2Offset + j * r + k] * h[k];
            }
        }
        return out;
    }
}
