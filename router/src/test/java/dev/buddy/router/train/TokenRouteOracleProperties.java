package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import dev.buddy.engine.tensor.Parallel;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * {@link TokenRouteOracle}'s choices on random per-token tables, against plain reference loops: the token oracle is
 * never beaten, a neighbourhood as large as the other half is the best single route by its summed loss, the nearest
 * tokens are the other half's by cosine and nothing nearer is left out, and a feature that names each token's best
 * route is learned exactly.
 */
class TokenRouteOracleProperties {
    private static final Parallel POOL = new Parallel(2);

    @AfterContainer
    static void close() {
        POOL.close();
    }

    /**
     * Random examples of 1..{@code maxTokens} scored tokens, losses multiples of 1/4 (so sums are exact and ties
     * happen), Gaussian features of {@code width} (newest and pooled) and {@code width + 1} (hidden) values.
     */
    static TokenRouteOracle random(SplittableRandom random, int examples, int candidates, int width, int maxTokens) {
        int[][] positions = new int[examples][];
        int[][] inputs = new int[examples][];
        int[][] targets = new int[examples][];
        float[][][] losses = new float[examples][candidates][];
        float[][] newest = new float[examples][];
        float[][] pooled = new float[examples][];
        float[][] hidden = new float[examples][];
        for (int e = 0; e < examples; e++) {
            int n = 1 + random.nextInt(maxTokens);
            int first = random.nextInt(4);
            positions[e] = IntStream.range(first, first + n).toArray();
            inputs[e] = random.ints(n, 0, 50).toArray();
            targets[e] = random.ints(n, 0, 50).toArray();
            for (int c = 0; c < candidates; c++) {
                losses[e][c] = new float[n];
                for (int j = 0; j < n; j++) {
                    losses[e][c][j] = 1 + random.nextInt(8) * 0.25f;
                }
            }
            newest[e] = gaussian(random, n * width);
            pooled[e] = gaussian(random, n * width);
            hidden[e] = gaussian(random, n * (width + 1));
        }
        return new TokenRouteOracle(positions, inputs, targets, losses, newest, pooled, hidden);
    }

    /**
     * Overwrites a {@link #random} table (features {@code candidates} wide) so that token g of example e has
     * candidate {@code (g + e) mod candidates} as its one best (loss 1, the others 2 or more), named one-hot in all
     * three features, plus Gaussian noise of {@code noise} (the hidden rows' last value is a constant).
     */
    static void plantBestRoutes(TokenRouteOracle t, int candidates, float noise, SplittableRandom random) {
        int g = 0;
        for (int e = 0; e < t.exampleCount(); e++) {
            for (int j = 0; j < t.positions()[e].length; j++, g++) {
                int best = (g + e) % candidates;
                for (int c = 0; c < candidates; c++) {
                    t.losses()[e][c][j] = c == best ? 1f : 2f + random.nextInt(4) * 0.25f;
                }
                for (float[][] rows : new float[][][] {t.newest(), t.pooled()}) {
                    for (int i = 0; i < candidates; i++) {
                        rows[e][j * candidates + i] = (i == best ? 1f : 0f) + noise * (float) random.nextGaussian();
                    }
                }
                for (int i = 0; i < candidates; i++) {
                    t.hidden()[e][j * (candidates + 1) + i] = (i == best ? 1f : 0f)
                            + noise * (float) random.nextGaussian();
                }
                // the hidden rows' extra value is constant: noise there would be as loud as the signal once a
                // classifier standardises its inputs
                t.hidden()[e][j * (candidates + 1) + candidates] = 0.5f;
            }
        }
    }

    private static float[] gaussian(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static float loss(TokenRouteOracle t, int g, int c) {
        int[] offsets = t.offsets();
        int e = 0;
        while (offsets[e + 1] <= g) {
            e++;
        }
        return t.losses()[e][c][g - offsets[e]];
    }

    /** Global token indices of the examples in fold f (example index mod 2). */
    private static int[] fold(TokenRouteOracle t, int f) {
        int[] offsets = t.offsets();
        return IntStream.range(0, t.exampleCount()).filter(e -> e % 2 == f)
                .flatMap(e -> IntStream.range(offsets[e], offsets[e + 1])).toArray();
    }

    /** How many different routes are some token's best (by {@code oracle}) in half f. */
    static int routesIn(TokenRouteOracle t, int[] oracle, int f) {
        return (int) IntStream.of(fold(t, f)).map(g -> oracle[g]).distinct().count();
    }

    private static int foldOf(TokenRouteOracle t, int g) {
        int[] offsets = t.offsets();
        int e = 0;
        while (offsets[e + 1] <= g) {
            e++;
        }
        return e % 2;
    }

    @Property(tries = 100)
    void theTokenOracleIsNeverBeatenAndAFullNeighbourhoodIsTheBestSingleRoute(@ForAll long seed,
            @ForAll @IntRange(min = 2, max = 12) int examples, @ForAll @IntRange(min = 1, max = 6) int candidates,
            @ForAll @IntRange(min = 1, max = 30) int neighbours) {
        TokenRouteOracle t = random(new SplittableRandom(seed), examples, candidates, 4, 8);
        double[] oracle = t.chosen(t.oracleChoices());
        int total = t.tokenCount();
        for (TokenRouteOracle.Feature feature : TokenRouteOracle.Feature.values()) {
            int[][] nearest = t.nearest(feature, total, POOL);
            double[] chosen = t.chosen(t.neighbourChoices(nearest, neighbours));
            for (int e = 0; e < examples; e++) {
                assertTrue(oracle[e] <= chosen[e], feature + " beat the token oracle on example " + e);
            }
            int[] all = t.neighbourChoices(nearest, total);
            for (int g = 0; g < total; g++) {
                int[] fit = fold(t, 1 - foldOf(t, g));
                int best = 0;
                double bestSum = Double.POSITIVE_INFINITY;
                for (int c = 0; c < candidates; c++) {
                    double sum = 0;
                    for (int h : fit) {
                        sum += loss(t, h, c);
                    }
                    if (sum < bestSum) {
                        bestSum = sum;
                        best = c;
                    }
                }
                assertEquals(best, all[g], "every neighbour of token " + g);
            }
        }
        for (int c = 0; c < candidates; c++) {
            int[] constant = new int[total];
            Arrays.fill(constant, c);
            assertArrayEquals(t.fixed(c), t.chosen(constant), "candidate " + c + " for every token");
            for (int e = 0; e < examples; e++) {
                assertTrue(oracle[e] <= t.fixed(c)[e], "candidate " + c + " beat the token oracle");
            }
        }
    }

    @Property(tries = 100)
    void theNearestTokensAreTheOtherHalfsByCosine(@ForAll long seed,
            @ForAll @IntRange(min = 2, max = 12) int examples, @ForAll @IntRange(min = 1, max = 20) int count) {
        TokenRouteOracle t = random(new SplittableRandom(seed), examples, 2, 5, 6);
        for (TokenRouteOracle.Feature feature : TokenRouteOracle.Feature.values()) {
            float[][] rows = switch (feature) {
                case NEWEST_VALUE -> t.newest();
                case POOLED_VALUE -> t.pooled();
                case HIDDEN -> t.hidden();
            };
            int width = feature == TokenRouteOracle.Feature.HIDDEN ? 6 : 5;
            float[][] byToken = new float[t.tokenCount()][];
            int g = 0;
            for (int e = 0; e < examples; e++) {
                for (int j = 0; j < t.positions()[e].length; j++) {
                    byToken[g++] = Arrays.copyOfRange(rows[e], j * width, (j + 1) * width);
                }
            }
            int[][] nearest = t.nearest(feature, count, POOL);
            for (int q = 0; q < byToken.length; q++) {
                int[] fit = fold(t, 1 - foldOf(t, q));
                assertEquals(Math.min(count, fit.length), nearest[q].length, "token " + q);
                Set<Integer> chosen = new HashSet<>();
                double last = Double.POSITIVE_INFINITY;
                for (int h : nearest[q]) {
                    assertNotEquals(foldOf(t, q), foldOf(t, h), "token " + h + " is in the same half as " + q);
                    assertTrue(chosen.add(h), "token " + h + " twice");
                    double cos = RouteOracle.cosine(byToken[q], byToken[h]);
                    assertTrue(cos <= last + 1e-6, "not nearest first at token " + h);
                    last = cos;
                }
                for (int h : fit) {
                    if (!chosen.contains(h)) {
                        assertTrue(RouteOracle.cosine(byToken[q], byToken[h]) <= last + 1e-6,
                                "token " + h + " is nearer to " + q + " than the ones chosen");
                    }
                }
            }
        }
    }

    @Property(tries = 50)
    void aFeatureThatNamesTheBestRouteIsLearnedExactly(@ForAll long seed,
            @ForAll @IntRange(min = 4, max = 12) int examples, @ForAll @IntRange(min = 2, max = 4) int candidates) {
        SplittableRandom random = new SplittableRandom(seed);
        TokenRouteOracle t = random(random, examples, candidates, candidates, 6);
        // Each token's best candidate is one-hot in all three features (plus small noise); every candidate is some
        // token's best in both halves, so the nearest token of the other half always shares the best candidate.
        plantBestRoutes(t, candidates, 0.01f, random);
        int[] oracle = t.oracleChoices();
        for (int f = 0; f < 2; f++) {
            Assume.that(routesIn(t, oracle, f) == candidates);
        }
        for (TokenRouteOracle.Feature feature : TokenRouteOracle.Feature.values()) {
            int[] choices = t.neighbourChoices(t.nearest(feature, 1, POOL), 1);
            assertArrayEquals(oracle, choices, feature.toString());
            assertArrayEquals(t.chosen(oracle), t.chosen(choices));
        }
    }

    @Property(tries = 100)
    void aShuffleKeepsEachExamplesRoutesAndMovesThemOnlyInsideIt(@ForAll long seed,
            @ForAll @IntRange(min = 1, max = 10) int examples) {
        SplittableRandom random = new SplittableRandom(seed);
        TokenRouteOracle t = random(random, examples, 5, 2, 9);
        int[] choices = random.ints(t.tokenCount(), 0, 5).toArray();
        int[] shuffled = t.shuffledWithinExamples(choices, seed);
        assertArrayEquals(shuffled, t.shuffledWithinExamples(choices, seed), "the same seed, the same shuffle");
        int[] offsets = t.offsets();
        for (int e = 0; e < examples; e++) {
            int[] a = Arrays.copyOfRange(choices, offsets[e], offsets[e + 1]);
            int[] b = Arrays.copyOfRange(shuffled, offsets[e], offsets[e + 1]);
            Arrays.sort(a);
            Arrays.sort(b);
            assertArrayEquals(a, b, "example " + e + " keeps its routes");
        }
        // a constant choice per example shuffles to itself
        int[] perExample = new int[t.tokenCount()];
        for (int e = 0; e < examples; e++) {
            Arrays.fill(perExample, offsets[e], offsets[e + 1], e % 5);
        }
        assertArrayEquals(perExample, t.shuffledWithinExamples(perExample, seed));
    }

    @Example
    void theShareOffARouteAndTheChangeRateCountTokens() {
        int[][] positions = {{0, 1, 2, 3}, {5, 6}};
        TokenRouteOracle shaped = new TokenRouteOracle(positions, new int[][] {new int[4], new int[2]},
                new int[][] {new int[4], new int[2]}, new float[][][] {new float[3][4], new float[3][2]},
                new float[][] {new float[8], new float[4]}, new float[][] {new float[8], new float[4]},
                new float[][] {new float[12], new float[6]});
        int[] choices = {0, 0, 2, 2, 1, 0};
        // example 0 (reference 0): 2 of 4 off; example 1 (reference 1): 1 of 2 off
        assertEquals(3.0 / 6, shaped.shareOff(choices, new int[] {0, 1}), 0.0);
        // changes inside example 0: 0->0, 0->2, 2->2 (1 of 3); example 1: 1->0 (1 of 1); never across examples
        assertEquals(2.0 / 4, shaped.changeRate(choices), 0.0);
    }
}
