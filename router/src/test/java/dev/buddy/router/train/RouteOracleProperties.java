package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link RouteOracle.Result}'s choices on random tables of cross-entropies and features, against plain reference
 * loops: the oracle is never beaten, a neighbourhood as large as the other half is the best single route, one
 * neighbour is the nearest example's own best, and the paired difference is the textbook mean and standard error.
 */
class RouteOracleProperties {

    /**
     * A table of {@code examples} x {@code candidates} cross-entropies, multiples of 1/4 per half so that ties
     * happen and every sum is exact; the whole is the halves' token-weighted mean.
     */
    private static RouteOracle.Result table(long seed, int examples, int candidates, int width) {
        SplittableRandom random = new SplittableRandom(seed);
        List<RouteOracle.Candidate> list = new ArrayList<>();
        list.add(RouteOracle.Candidate.PLAN);
        for (int c = 1; c < candidates; c++) {
            list.add(new RouteOracle.Candidate(c - 1, 0));
        }
        double[][] ce = new double[examples][candidates];
        double[][][] halves = new double[examples][candidates][2];
        int[] tokens = new int[examples];
        float[][] features = new float[examples][width];
        int[][][] swaps = new int[examples][candidates][];
        int[][] routes = new int[examples][];
        for (int e = 0; e < examples; e++) {
            // 1 token (no second half) or an even count: the whole is then a multiple of 1/8, so sums are exact
            tokens[e] = random.nextInt(4) == 0 ? 1 : 2 * (1 + random.nextInt(3));
            int n0 = (tokens[e] + 1) / 2;
            int n1 = tokens[e] / 2;
            for (int c = 0; c < candidates; c++) {
                halves[e][c][0] = 2 + random.nextInt(6) * 0.25;
                halves[e][c][1] = n1 == 0 ? Double.NaN : 2 + random.nextInt(6) * 0.25;
                ce[e][c] = (n0 * halves[e][c][0] + (n1 == 0 ? 0 : n1 * halves[e][c][1])) / tokens[e];
                swaps[e][c] = c == 0 ? new int[] {-1, -1} : new int[] {c, 20 + c};
            }
            for (int i = 0; i < width; i++) {
                features[e][i] = (float) random.nextGaussian();
            }
            routes[e] = new int[] {1, 2, 3};
        }
        return new RouteOracle.Result("r", "d", 10, 0.5, 3, List.copyOf(list),
                java.util.stream.IntStream.range(0, examples).toArray(), tokens, ce, halves, features,
                features, swaps, routes, TokenRouteOracleProperties.random(random, examples, candidates, width, 4));
    }

    @Property(tries = 200)
    void theOracleIsNeverBeatenAndAFullNeighbourhoodIsTheBestSingleRoute(@ForAll long seed,
            @ForAll @IntRange(min = 2, max = 30) int examples, @ForAll @IntRange(min = 1, max = 9) int candidates,
            @ForAll @IntRange(min = 1, max = 40) int neighbours) {
        RouteOracle.Result r = table(seed, examples, candidates, 5);
        double[] oracle = r.chosen(RouteOracle.Strategy.ORACLE, 0);
        for (RouteOracle.Strategy s : RouteOracle.Strategy.values()) {
            double[] chosen = r.chosen(s, neighbours);
            for (int e = 0; e < examples; e++) {
                assertTrue(oracle[e] <= chosen[e], s + " beat the oracle on example " + e);
            }
        }
        for (int f = 0; f < 2; f++) {
            int[] fit = r.fold(1 - f);
            int single = r.bestSingle(fit);
            for (int c = 0; c < candidates; c++) {
                assertTrue(r.mean(single, fit) <= r.mean(c, fit), "candidate " + c + " beats the best single one");
            }
            for (int e : r.fold(f)) {
                assertEquals(single, r.neighbourChoice(r.features(), e, fit, fit.length + neighbours),
                        "every neighbour of example " + e);
            }
        }
    }

    @Property(tries = 200)
    void oneNeighbourIsTheNearestExamplesOwnBest(@ForAll long seed, @ForAll @IntRange(min = 2, max = 30) int examples,
                                                 @ForAll @IntRange(min = 1, max = 9) int candidates) {
        RouteOracle.Result r = table(seed, examples, candidates, 4);
        for (int f = 0; f < 2; f++) {
            int[] fit = r.fold(1 - f);
            for (int e : r.fold(f)) {
                int nearest = fit[0];
                double best = cosine(r.features()[e], r.features()[nearest]);
                for (int m : fit) {
                    double s = cosine(r.features()[e], r.features()[m]);
                    if (s > best) {
                        best = s;
                        nearest = m;
                    }
                }
                // Its best by the change against its own plan route is its best outright (the lowest index on ties).
                int expected = 0;
                for (int c = 1; c < candidates; c++) {
                    if (r.crossEntropy()[nearest][c] < r.crossEntropy()[nearest][expected]) {
                        expected = c;
                    }
                }
                assertEquals(expected, r.neighbourChoice(r.features(), e, fit, 1),
                        "example " + e + ", nearest " + nearest);
            }
        }
    }

    @Property(tries = 200)
    void theSplitHalfOracleScoresEachHalfsChoiceOnTheOtherHalf(@ForAll long seed,
            @ForAll @IntRange(min = 2, max = 30) int examples, @ForAll @IntRange(min = 1, max = 9) int candidates) {
        RouteOracle.Result r = table(seed, examples, candidates, 3);
        double[] split = r.chosen(RouteOracle.Strategy.SPLIT_HALF_ORACLE, 0);
        for (int e = 0; e < examples; e++) {
            int n0 = (r.tokens()[e] + 1) / 2;
            int n1 = r.tokens()[e] / 2;
            int[] best = new int[2];
            double[] lowest = {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
            for (int h = 0; h < 2; h++) {
                for (int c = 0; c < candidates; c++) {
                    if (r.halves()[e][c][h] < lowest[h]) {
                        lowest[h] = r.halves()[e][c][h];
                        best[h] = c;
                    }
                }
            }
            // No second half (one scored token): the first half's tokens are scored under the plan's route.
            double expected = n1 == 0 ? r.halves()[e][0][0]
                    : (n1 * r.halves()[e][best[0]][1] + n0 * r.halves()[e][best[1]][0]) / (n0 + n1);
            assertEquals(expected, split[e], 1e-12, "example " + e);
            if (best[0] == best[1]) {
                assertEquals(r.crossEntropy()[e][best[0]], split[e], 1e-12, "both halves agree on one route");
            }
        }
    }

    @Property(tries = 100)
    void halvesThatAgreeCorrelateFullyAndMirroredOnesNegatively(@ForAll long seed,
            @ForAll @IntRange(min = 3, max = 30) int examples, @ForAll @IntRange(min = 2, max = 6) int candidates,
            @ForAll boolean mirrored) {
        RouteOracle.Result r = table(seed, examples, candidates, 2);
        for (int e = 0; e < examples; e++) {
            r.tokens()[e] = 2; // every example has both halves
            if (Double.isNaN(r.halves()[e][0][1])) {
                r.halves()[e][0][1] = 2.5;
            }
            for (int c = 0; c < candidates; c++) {
                // the even tokens' change against the plan is the odd tokens' (or its negative)
                double change = r.halves()[e][c][0] - r.halves()[e][0][0];
                r.halves()[e][c][1] = r.halves()[e][0][1] + (mirrored ? -change : change);
            }
        }
        double[] agreement = r.halfAgreement();
        assertEquals(candidates - 1, agreement.length);
        for (int c = 1; c < candidates; c++) {
            boolean varies = false;
            for (int e = 1; e < examples; e++) {
                varies |= r.halves()[e][c][0] - r.halves()[e][0][0] != r.halves()[0][c][0] - r.halves()[0][0][0];
            }
            if (varies) {
                assertEquals(mirrored ? -1 : 1, agreement[c - 1], 1e-9, "candidate " + c);
            } else {
                assertTrue(Double.isNaN(agreement[c - 1]), "a constant change has no correlation");
            }
        }
    }

    @Property(tries = 100)
    void thePairedDifferenceIsTheMeanAndStandardErrorOfTheDifferences(@ForAll long seed,
            @ForAll @IntRange(min = 2, max = 50) int n) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] a = new double[n];
        double[] b = new double[n];
        double sum = 0;
        double sumSquares = 0;
        for (int i = 0; i < n; i++) {
            a[i] = random.nextDouble() * 4;
            b[i] = random.nextDouble() * 4;
            sum += a[i] - b[i];
            sumSquares += (a[i] - b[i]) * (a[i] - b[i]);
        }
        double mean = sum / n;
        double variance = (sumSquares - n * mean * mean) / (n - 1);
        double[] d = RouteOracle.pairedDifference(a, b);
        assertEquals(mean, d[0], 1e-12);
        assertEquals(Math.sqrt(Math.max(0, variance) / n), d[1], 1e-9);
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * (double) b[i];
            na += a[i] * (double) a[i];
            nb += b[i] * (double) b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
