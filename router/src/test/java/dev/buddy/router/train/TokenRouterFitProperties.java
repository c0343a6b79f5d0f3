package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import dev.buddy.router.DecisionModule;
import dev.buddy.router.Pooling;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link TokenRouterFit}: its expected loss against a double-precision enumeration of every set of k middle blocks, its gradient
 * against finite differences of that reference, the saved module (standardisation folded in) scoring raw rows as the
 * fit scores standardised ones, and a planted per-token preference learned so that the engine's own top k runs it.
 */
class TokenRouterFitProperties {

    @Property(tries = 40)
    void theLossIsTheEnumeratedExpectedLossAndTheGradientItsSlope(@ForAll long seed,
            @ForAll @IntRange(min = 3, max = 8) int middle, @ForAll @IntRange(min = 1, max = 5) int width,
            @ForAll @IntRange(min = 1, max = 4) int hidden) {
        SplittableRandom random = new SplittableRandom(seed);
        int layers = middle + 2;
        int k = 1 + random.nextInt(middle - 1);
        TokenRouterFit.Tokens tokens = randomTokens(random, 1, width, middle, k);
        float[] mean = new float[width];
        float[] scale = new float[width];
        for (int i = 0; i < width; i++) {
            mean[i] = (float) (0.3 * random.nextGaussian());
            scale[i] = (float) (0.5 + random.nextDouble());
        }
        float[] prior = OpGradientProperties.gaussian(random, middle, 1.0);
        float omega = (float) random.nextDouble(0.1, 2);
        TokenRouterFit fit = TokenRouterFit.random(layers, width, hidden, prior, omega, mean, scale,
                random.nextLong());
        for (int i = 0; i < fit.parameters().length; i++) {
            fit.parameters()[i] *= 0.5f;
        }
        float[] params = fit.parameters();
        double[] grad = new double[params.length];
        double loss = fit.loss(fit.standardisedModule(), tokens, 0, grad);
        float[] x = fit.input(tokens, 0).clone();
        RouterParameters shape = new RouterParameters(width, hidden, middle);
        double reference = reference(shape, params, new float[params.length], 0, x, prior, omega, tokens);
        assertEquals(reference, loss, 1e-4 * Math.max(1, Math.abs(reference)));
        float[] direction = OpGradientProperties.gaussian(random, params.length, 1.0);
        double analytic = 0;
        for (int i = 0; i < params.length; i++) {
            analytic += grad[i] * direction[i];
        }
        double numeric = FiniteDifference.derivative(
                e -> reference(shape, params, direction, e, x, prior, omega, tokens), 1e-4);
        double error = FiniteDifference.relativeError(analytic, numeric, 1e-3);
        assertTrue(error <= 1e-3, "analytic " + analytic + " vs numeric " + numeric);
    }

    @Property(tries = 20)
    void theSavedModuleScoresRawRowsAsTheFitScoresStandardisedOnes(@ForAll long seed,
            @ForAll @IntRange(min = 2, max = 8) int middle, @ForAll @IntRange(min = 1, max = 6) int width) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] mean = new float[width];
        float[] scale = new float[width];
        for (int i = 0; i < width; i++) {
            mean[i] = (float) (2 * random.nextGaussian());
            scale[i] = (float) (0.2 + 2 * random.nextDouble());
        }
        TokenRouterFit fit = TokenRouterFit.random(middle + 2, width, 3, new float[middle], 1f, mean, scale,
                random.nextLong());
        TokenRouterFit.Tokens tokens = randomTokens(random, 4, width, middle, 1);
        DecisionModule saved = fit.module();
        assertEquals(Pooling.LAST, saved.pooling());
        float[] raw = new float[middle];
        float[] standardised = new float[middle];
        for (int g = 0; g < tokens.count(); g++) {
            saved.tokenScores(tokens.rows(), g * width, new float[3], raw);
            fit.standardisedModule().tokenScores(fit.input(tokens, g), 0, new float[3], standardised);
            for (int j = 0; j < middle; j++) {
                assertEquals(standardised[j], raw[j], 1e-4 * Math.max(1, Math.abs(standardised[j])), "block " + j);
            }
        }
    }

    /**
     * Tokens whose first feature's sign names their best route (the plan's or one swap), the others worse by 2 nats:
     * fitted on 400 of them, the engine's top k of the saved router runs the named route on fresh tokens, and never
     * a route that was not measured.
     */
    @Property(tries = 5)
    void aPlantedPreferenceIsLearnedAndTheTopKRunsIt(@ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int middle = 6;
        int layers = middle + 2;
        int width = 3;
        float[] prior = {0.3f, 0.18f, 0.06f, -0.06f, -0.18f, -0.3f}; // ranks 0.12 apart
        TokenRouterFit.Tokens train = planted(random, 400, width);
        TokenRouterFit fit = TokenRouterFit.fit(layers, prior, train, TokenRouterFit.Settings.DEFAULT);
        TokenRouterFit.Tokens fresh = planted(random, 100, width);
        DecisionModule saved = fit.module();
        float[] pooled = new float[middle];
        boolean[] mask = new boolean[layers];
        for (int g = 0; g < fresh.count(); g++) {
            float x0 = fresh.rows()[g * width];
            if (Math.abs(x0) < 0.5f) {
                continue;
            }
            int best = x0 > 0 ? 1 : 0;
            assertEquals(best, fit.choose(fresh, g), "token " + g + " with first feature " + x0);
            saved.tokenScores(fresh.rows(), g * width, new float[saved.mlp().hiddenDim()], pooled);
            saved.route(pooled, 3, new float[middle], mask);
            boolean[] expected = {true, true, true, best == 0, best == 1, false, false, true};
            assertArrayEquals(expected, mask, "the engine's top k for token " + g);
        }
        TokenRouterFit again = TokenRouterFit.fit(layers, prior, train, TokenRouterFit.Settings.DEFAULT);
        assertArrayEquals(fit.parameters(), again.parameters(), "a fixed seed gives the same router");
    }

    /**
     * Two-fold on a route-oracle result whose tokens' one-hot features name their best of three routes: every
     * token gets its best route, and a fold's choices do not depend on that fold's own losses.
     */
    @Property(tries = 5)
    void twoFoldChoicesLearnTheNamedRouteAndNoFoldSeesItsOwnLosses(@ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int examples = 12;
        int candidates = 3;
        TokenRouteOracle t = TokenRouteOracleProperties.random(random, examples, candidates, candidates, 8);
        TokenRouteOracleProperties.plantBestRoutes(t, candidates, 0.05f, random);
        int[][][] swaps = new int[examples][][];
        int[][] routes = new int[examples][];
        for (int e = 0; e < examples; e++) {
            swaps[e] = new int[][] {{-1, -1}, {2, 3}, {1, 4}};
            routes[e] = new int[] {1, 2};
        }
        RouteOracle.Result r = new RouteOracle.Result("plan", "data", 6, 0.67, 2,
                List.of(RouteOracle.Candidate.PLAN, new RouteOracle.Candidate(0, 0), new RouteOracle.Candidate(1, 1)),
                new int[examples], new int[examples], new double[examples][candidates],
                new double[examples][candidates][2], new float[examples][], new float[examples][], swaps, routes, t);
        float[] prior = {0.18f, 0.06f, -0.06f, -0.18f}; // ranks 0.12 apart, as on a standardised 28-block prior
        // ~25 tokens per fold make one batch per epoch: more epochs than the default, to take as many steps
        TokenRouterFit.Settings settings = new TokenRouterFit.Settings(32, 400, 64, 3e-3, 1e-4, 10f, 20);
        int[] before = TokenRouterFit.twoFoldChoices(r, prior, settings);
        assertArrayEquals(t.oracleChoices(), before);
        for (int e = 0; e < examples; e += 2) {
            for (float[] l : t.losses()[e]) {
                Arrays.fill(l, (float) random.nextDouble());
            }
        }
        int[] after = TokenRouterFit.twoFoldChoices(r, prior, settings);
        int[] offsets = t.offsets();
        for (int e = 0; e < examples; e += 2) {
            assertArrayEquals(Arrays.copyOfRange(before, offsets[e], offsets[e + 1]),
                    Arrays.copyOfRange(after, offsets[e], offsets[e + 1]), "example " + e);
        }
    }

    /** Plan {1,2,3} of 6 middle blocks; candidates: the plan, −3+4 (named when x0 > 0), −2+5, −3+5. */
    static TokenRouterFit.Tokens planted(SplittableRandom random, int count, int width) {
        float[] rows = OpGradientProperties.gaussian(random, count * width, 1.0);
        float[][] losses = new float[count][];
        int[][] off = new int[count][];
        int[][] on = new int[count][];
        int[][] plan = new int[count][];
        for (int g = 0; g < count; g++) {
            boolean swap = rows[g * width] > 0;
            losses[g] = new float[] {swap ? 3f : 1f, swap ? 1f : 3f, 3f, 3f};
            off[g] = new int[] {-1, 3, 2, 3};
            on[g] = new int[] {-1, 4, 5, 5};
            plan[g] = new int[] {1, 2, 3};
        }
        return new TokenRouterFit.Tokens(rows, width, losses, off, on, plan);
    }

    /** {@code count} tokens with a random plan of k middle blocks and every one-swap candidate (up to 6). */
    private static TokenRouterFit.Tokens randomTokens(SplittableRandom random, int count, int width, int middle,
                                                      int k) {
        float[] rows = OpGradientProperties.gaussian(random, count * width, 1.0);
        float[][] losses = new float[count][];
        int[][] off = new int[count][];
        int[][] on = new int[count][];
        int[][] plan = new int[count][];
        for (int g = 0; g < count; g++) {
            int[] blocks = IntStream.rangeClosed(1, middle).toArray();
            for (int i = blocks.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = blocks[i];
                blocks[i] = blocks[j];
                blocks[j] = t;
            }
            plan[g] = Arrays.copyOf(blocks, k);
            List<int[]> swaps = new ArrayList<>();
            swaps.add(new int[] {-1, -1});
            for (int a = 0; a < k && swaps.size() < 7; a++) {
                for (int b = k; b < middle && swaps.size() < 7; b++) {
                    swaps.add(new int[] {blocks[a], blocks[b]});
                }
            }
            losses[g] = new float[swaps.size()];
            off[g] = new int[swaps.size()];
            on[g] = new int[swaps.size()];
            for (int c = 0; c < swaps.size(); c++) {
                losses[g][c] = (float) (1 + 3 * random.nextDouble());
                off[g][c] = swaps.get(c)[0];
                on[g][c] = swaps.get(c)[1];
            }
        }
        return new TokenRouterFit.Tokens(rows, width, losses, off, on, plan);
    }

    /**
     * Σ_c p(S_c)·L_c + (1 − Σ_c p(S_c))·max L at θ + e·direction, in double, with p enumerated over every set of k
     * middle blocks.
     */
    private static double reference(RouterParameters shape, float[] params, float[] direction, double e, float[] x,
                                    float[] prior, float omega, TokenRouterFit.Tokens tokens) {
        double[] s = TokenRouteClassifierProperties.mlpInDouble(shape, params, direction, e, x);
        int m = shape.outputDim;
        for (int j = 0; j < m; j++) {
            s[j] += omega * prior[j];
        }
        int k = tokens.plan()[0].length;
        double max = Double.NEGATIVE_INFINITY;
        List<Double> scores = new ArrayList<>();
        for (int set = 0; set < 1 << m; set++) {
            if (Integer.bitCount(set) == k) {
                double v = 0;
                for (int j = 0; j < m; j++) {
                    v += (set >> j & 1) == 1 ? s[j] : 0;
                }
                scores.add(v);
                max = Math.max(max, v);
            }
        }
        double sum = 0;
        for (double v : scores) {
            sum += Math.exp(v - max);
        }
        double logZ = max + Math.log(sum);
        float[] losses = tokens.losses()[0];
        double worst = Double.NEGATIVE_INFINITY;
        for (float l : losses) {
            worst = Math.max(worst, l);
        }
        double measured = 0;
        double loss = 0;
        for (int c = 0; c < losses.length; c++) {
            double v = 0;
            for (int b : tokens.plan()[0]) {
                v += b == tokens.off()[0][c] ? 0 : s[b - 1];
            }
            v += tokens.on()[0][c] >= 0 ? s[tokens.on()[0][c] - 1] : 0;
            double pc = Math.exp(v - logZ);
            measured += pc;
            loss += pc * losses[c];
        }
        loss += (1 - measured) * worst;
        return loss;
    }
}
