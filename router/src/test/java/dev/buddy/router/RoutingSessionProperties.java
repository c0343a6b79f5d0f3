package dev.buddy.router;

import static dev.buddy.router.TestRouters.countMiddle;
import static dev.buddy.router.TestRouters.mask;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

class RoutingSessionProperties {

    @Property(tries = 300)
    void everyStepRunsExactlyKMiddleBlocksAndBothEnds(
            @ForAll @IntRange(min = 3, max = 40) int layers,
            @ForAll @DoubleRange(min = 0.0, minIncluded = false, max = 1.0) double b,
            @ForAll @IntRange(min = 1, max = 24) int featureDim,
            @ForAll @IntRange(min = 1, max = 12) int promptLength,
            @ForAll long seed) {
        DynamicRouter router = TestRouters.router(layers, featureDim, seed, Pooling.MEAN, false);
        int k = Budget.fraction(b).middleBlocks(layers);
        RoutingSession session = router.openSession(Budget.fraction(b), Reroute.everyStep());
        float[][] f = TestRouters.features(promptLength + 20, featureDim, seed);
        for (int t = 0; t < f.length; t++) {
            session.append(f[t], 0);
            if (t >= promptLength - 1) {
                session.route(t == promptLength - 1 ? RoutingSession.Phase.PREFILL : RoutingSession.Phase.DECODE);
                boolean[] m = mask(session);
                assertTrue(m[0] && m[layers - 1], "first and last block always run");
                assertEquals(k, countMiddle(m));
                assertEquals(k, session.middleBlocks());
            }
        }
    }

    /** Pooling a running state gives what pooling all cached per-token outputs from scratch gives, at every step. */
    @Property(tries = 200)
    void runningPoolEqualsFreshPoolAtEveryStep(@ForAll @IntRange(min = 3, max = 40) int layers,
                                               @ForAll @IntRange(min = 1, max = 24) int featureDim,
                                               @ForAll Pooling pooling,
                                               @ForAll long seed) {
        DynamicRouter router = TestRouters.router(layers, featureDim, seed, pooling, false);
        DecisionModule dm = router.decision();
        int middle = layers - 2;
        DynamicRoutingSession session = router.openSession(Budget.fraction(0.6), Reroute.everyStep());
        float[][] f = TestRouters.features(60, featureDim, seed);
        float[][] outs = new float[f.length][middle];
        float[] hidden = new float[32];
        float[] incremental = new float[middle];
        for (int t = 0; t < f.length; t++) {
            session.append(f[t], 0);
            session.route(t == 0 ? RoutingSession.Phase.PREFILL : RoutingSession.Phase.DECODE);
            dm.tokenScores(f[t], 0, hidden, outs[t]);
            session.pooledScores(incremental);
            for (int j = 0; j < middle; j++) {
                double fresh = freshPool(outs, t + 1, j, pooling);
                assertEquals(fresh, incremental[j], 1e-5 * Math.max(1, Math.abs(fresh)),
                        "step " + t + ", block " + (j + 1));
            }
        }
    }

    private static double freshPool(float[][] outs, int n, int j, Pooling pooling) {
        return switch (pooling) {
            case MEAN -> IntStream.range(0, n).mapToDouble(t -> outs[t][j]).average().orElseThrow();
            case LAST -> outs[n - 1][j];
            case MAX -> IntStream.range(0, n).mapToDouble(t -> outs[t][j]).max().orElseThrow();
        };
    }

    /** The incremental session routes exactly as routing the whole prefix at once would. */
    @Property(tries = 200)
    void incrementalRouteEqualsWholePrefixRoute(@ForAll @IntRange(min = 3, max = 40) int layers,
                                                @ForAll @IntRange(min = 1, max = 16) int featureDim,
                                                @ForAll @IntRange(min = 0, max = 40) int drop,
                                                @ForAll Pooling pooling,
                                                @ForAll long seed) {
        DynamicRouter router = TestRouters.router(layers, featureDim, seed, pooling, false);
        Budget budget = Budget.drop(drop % (layers - 2));
        int k = budget.middleBlocks(layers);
        RoutingSession session = router.openSession(budget, Reroute.everyStep());
        float[][] f = TestRouters.features(30, featureDim, seed);
        for (int t = 0; t < f.length; t++) {
            session.append(f[t], 0);
            session.route(t == 0 ? RoutingSession.Phase.PREFILL : RoutingSession.Phase.DECODE);
            assertArrayEquals(router.decision().routeSequence(Arrays.copyOf(f, t + 1), k), mask(session));
        }
    }

    @Property(tries = 200)
    void reuseNeverChangesThePathAfterPrefill(@ForAll @IntRange(min = 3, max = 40) int layers,
                                              @ForAll @IntRange(min = 1, max = 16) int featureDim,
                                              @ForAll @DoubleRange(min = 0.05, max = 1.0) double b,
                                              @ForAll long seed) {
        DynamicRouter router = TestRouters.router(layers, featureDim, seed, Pooling.LAST, false);
        RoutingSession session = router.openSession(Budget.fraction(b), Reroute.reuse());
        float[][] f = TestRouters.features(40, featureDim, seed);
        for (int t = 0; t < 5; t++) {
            session.append(f[t], 0);
        }
        assertTrue(session.route(RoutingSession.Phase.PREFILL));
        boolean[] prefill = mask(session);
        for (int t = 5; t < f.length; t++) {
            session.append(f[t], 0);
            assertFalse(session.route(RoutingSession.Phase.DECODE));
            assertArrayEquals(prefill, mask(session));
        }
    }

    /**
     * A hand-built router: hidden = silu(x), score(block 1) = h0, score(block 3) = h1, block 2 scores 0. The prompt
     * points at block 1; decode tokens point at block 3, so with k = 1 the mean moves over to block 3 after two
     * generated tokens (mean 4.97/3 vs 9.93/3).
     */
    private static DynamicRouter steerableRouter(Pooling pooling) {
        float[] w1 = {1, 0, 0, 1};
        float[] w2 = {1, 0, 0, 0, 0, 1};
        TwoLayerMlp mlp = new TwoLayerMlp(2, 2, 3, w1, new float[2], w2, new float[3]);
        DecisionModule dm = new DecisionModule(5, mlp, new float[3], 0.1f, FeatureSource.VALUE, pooling);
        return new DynamicRouter("steerable", dm, java.util.Optional.empty(),
                new Provenance(TestRouters.FINGERPRINT, "llama", true, new float[0], "buddy", "none"));
    }

    @Example
    void everyStepCanChangeThePathWhileReuseKeepsIt() {
        float[] prompt = {5, 0};
        float[] generated = {0, 5};
        boolean[] block1 = {true, true, false, false, true};
        boolean[] block3 = {true, false, false, true, true};
        for (Reroute policy : new Reroute[] {Reroute.everyStep(), Reroute.reuse(), Reroute.every(3)}) {
            RoutingSession s = steerableRouter(Pooling.MEAN).openSession(Budget.drop(2), policy);
            s.append(prompt, 0);
            s.route(RoutingSession.Phase.PREFILL);
            assertArrayEquals(block1, mask(s));
            s.append(generated, 0);
            assertFalse(s.route(RoutingSession.Phase.DECODE), policy + ": one generated token is not enough");
            s.append(generated, 0);
            boolean changed = s.route(RoutingSession.Phase.DECODE);
            switch (policy.kind()) {
                case EVERY_STEP -> {
                    assertTrue(changed);
                    assertArrayEquals(block3, mask(s));
                }
                case REUSE, EVERY_N -> {
                    assertFalse(changed);
                    assertArrayEquals(block1, mask(s));
                }
            }
            s.append(generated, 0);
            boolean changedAtThree = s.route(RoutingSession.Phase.DECODE);
            assertEquals(policy.kind() == Reroute.Kind.EVERY_N, changedAtThree, policy + " at decode step 3");
            assertArrayEquals(policy.kind() == Reroute.Kind.REUSE ? block1 : block3, mask(s));
        }
    }

    @Property(tries = 100)
    void everyNOnlyReroutesOnMultiplesOfN(@ForAll @IntRange(min = 3, max = 40) int layers,
                                          @ForAll @IntRange(min = 2, max = 6) int n,
                                          @ForAll long seed) {
        DynamicRouter router = TestRouters.router(layers, 4, seed, Pooling.LAST, false);
        RoutingSession session = router.openSession(Budget.fraction(0.5), Reroute.every(n));
        RoutingSession reference = router.openSession(Budget.fraction(0.5), Reroute.everyStep());
        float[][] f = TestRouters.features(40, 4, seed);
        session.append(f[0], 0);
        reference.append(f[0], 0);
        session.route(RoutingSession.Phase.PREFILL);
        reference.route(RoutingSession.Phase.PREFILL);
        boolean[] held = mask(session);
        for (int step = 1; step < f.length; step++) {
            session.append(f[step], 0);
            reference.append(f[step], 0);
            boolean changed = session.route(RoutingSession.Phase.DECODE);
            reference.route(RoutingSession.Phase.DECODE);
            if (step % n == 0) {
                held = mask(reference);
            } else {
                assertFalse(changed);
            }
            assertArrayEquals(held, mask(session), "decode step " + step);
        }
    }

    @Property(tries = 300)
    void topKBreaksTiesByLowerIndex(@ForAll @IntRange(min = 1, max = 38) int n,
                                    @ForAll @IntRange(min = 0, max = 38) int kRaw,
                                    @ForAll @IntRange(min = 1, max = 4) int distinctValues,
                                    @ForAll long seed) {
        int k = kRaw % (n + 1);
        SplittableRandom random = new SplittableRandom(seed);
        float[] scores = new float[n];
        for (int i = 0; i < n; i++) {
            int v = random.nextInt(distinctValues + 1);
            scores[i] = v == distinctValues ? Float.NaN : v;
        }
        boolean[] selected = new boolean[n];
        TopK.select(scores, n, k, selected, 0);
        // Reference: order indices by score descending (NaN lowest), then index ascending; take the first k.
        int[] expected = IntStream.range(0, n).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> Float.isNaN(scores[i]) ? Double.NEGATIVE_INFINITY
                        : scores[i]).reversed().thenComparing(i -> i))
                .limit(k).mapToInt(Integer::intValue).sorted().toArray();
        int[] actual = IntStream.range(0, n).filter(i -> selected[i]).toArray();
        assertArrayEquals(expected, actual);
    }

    @Property(tries = 50)
    void constantScoresPickTheLowestBlocks(@ForAll @IntRange(min = 3, max = 40) int layers,
                                           @ForAll @IntRange(min = 1, max = 40) int kRaw) {
        int middle = layers - 2;
        int k = 1 + (kRaw - 1) % middle;
        TwoLayerMlp zero = new TwoLayerMlp(3, 2, middle, new float[6], new float[2], new float[2 * middle],
                new float[middle]);
        DecisionModule dm = new DecisionModule(layers, zero, new float[middle], 0.1f, FeatureSource.VALUE,
                Pooling.MEAN);
        boolean[] m = dm.routeSequence(new float[][] {{1, 2, 3}}, k);
        for (int b = 0; b < layers; b++) {
            assertEquals(b == 0 || b == layers - 1 || b <= k, m[b], "block " + b);
        }
    }

    @Property(tries = 100)
    void theSessionReadsTheConfiguredFeatureSource(@ForAll @IntRange(min = 3, max = 20) int layers,
                                                   @ForAll FeatureSource source,
                                                   @ForAll long seed) {
        int d = 6;
        DynamicRouter base = TestRouters.router(layers, d, seed, Pooling.MEAN, false);
        DecisionModule dm = base.decision();
        DynamicRouter router = new DynamicRouter("src", new DecisionModule(layers, dm.mlp(), dm.prior(), dm.omega(),
                source, Pooling.MEAN), java.util.Optional.empty(), base.provenance());
        float[][] keys = TestRouters.features(8, d, seed + 1);
        float[][] values = TestRouters.features(8, d, seed + 2);
        float[][] expected = new float[8][d];
        for (int t = 0; t < 8; t++) {
            for (int i = 0; i < d; i++) {
                expected[t][i] = switch (source) {
                    case KEY -> keys[t][i];
                    case VALUE -> values[t][i];
                    case KEY_PLUS_VALUE -> keys[t][i] + values[t][i];
                };
            }
        }
        RoutingSession viaCache = router.openSession(Budget.fraction(0.5), Reroute.everyStep());
        RoutingSession viaFeatures = router.openSession(Budget.fraction(0.5), Reroute.everyStep());
        TestRouters.ArrayCache cache = new TestRouters.ArrayCache(keys, values);
        float[] a = new float[layers - 2];
        float[] b = new float[layers - 2];
        for (int t = 0; t < 8; t++) {
            viaCache.observe(cache, t);
            viaFeatures.append(expected[t], 0);
            ((DynamicRoutingSession) viaCache).pooledScores(a);
            ((DynamicRoutingSession) viaFeatures).pooledScores(b);
            assertArrayEquals(b, a);
        }
    }
}
