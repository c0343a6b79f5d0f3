package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;

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
        TokenRouteClassifier.Scratch scratch = classifier.new Scratch();
        double[] params = classifier.parameters();
        double[] grad = new double[params.length];
        classifier.expectedLoss(rows, losses, 0, grad, scratch);
        double h = 1e-5;
        for (int i = 0; i < params.length; i++) {
            double keep = params[i];
            params[i] = keep + h;
            double up = classifier.expectedLoss(rows, losses, 0, null, scratch);
            params[i] = keep - h;
            double down = classifier.expectedLoss(rows, losses, 0, null, scratch);
            params[i] = keep;
            double numeric = (up - down) / (2 * h);
            assertEquals(numeric, grad[i], 1e-6 * Math.max(1, Math.abs(numeric)), "parameter " + i);
        }
    }

    @Property(tries = 10)
    void aFeatureThatNamesTheBestRouteIsLearnedAndNoFoldSeesItsOwnLosses(@ForAll long seed,
            @ForAll @IntRange(min = 2, max = 4) int candidates) {
        SplittableRandom random = new SplittableRandom(seed);
        int examples = 12;
        TokenRouteOracle t = TokenRouteOracleProperties.random(random, examples, candidates, candidates, 8);
        TokenRouteOracleProperties.plantBestRoutes(t, candidates, 0.05f, random);
        TokenRouteClassifier.Settings settings = TokenRouteClassifier.Settings.DEFAULT;
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
}
