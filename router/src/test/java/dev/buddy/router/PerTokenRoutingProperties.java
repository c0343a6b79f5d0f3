package dev.buddy.router;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link RoutingPlanner#planTokens}: a call of several tokens routed per token gets exactly what one-token calls give,
 * route by route, with the same statistics and listener calls; and token t's route is the top-k of the running mean of
 * the decision MLP over positions ≤ t (plus ω·p̃), computed here from scratch.
 */
class PerTokenRoutingProperties {

    private static boolean[] allTrue(int n) {
        boolean[] a = new boolean[n];
        Arrays.fill(a, true);
        return a;
    }

    @Property(tries = 120)
    void perTokenCallsEqualOneTokenCalls(@ForAll @IntRange(min = 3, max = 40) int layers,
            @ForAll @DoubleRange(min = 0.05, max = 1.0) double b, @ForAll @IntRange(min = 0, max = 8) int prompt,
            @ForAll @IntRange(min = 1, max = 12) int batch, @ForAll @IntRange(min = 0, max = 3) int rerouteKind,
            @ForAll boolean predicted, @ForAll long seed) {
        int d = 6;
        int total = prompt + 20;
        DynamicRouter router = TestRouters.router(layers, d, seed, Pooling.MEAN, predicted);
        TestRouters.ArrayCache cache = new TestRouters.ArrayCache(TestRouters.features(total, d, seed + 9),
                TestRouters.features(total, d, seed));
        Reroute reroute = switch (rerouteKind) {
            case 0 -> Reroute.everyStep();
            case 1 -> Reroute.every(2);
            case 2 -> Reroute.every(5);
            default -> Reroute.reuse();
        };
        Budget budget = predicted ? null : Budget.fraction(b);
        RoutingPlanner stepped = new RoutingPlanner(router.openSession(budget, reroute));
        RoutingPlanner batched = new RoutingPlanner(router.openSession(budget, reroute));
        List<String> steppedTrace = new ArrayList<>();
        List<String> batchedTrace = new ArrayList<>();
        stepped.listener((start, n, phase, mask) -> steppedTrace.add(start + "+" + n + " " + phase + " "
                + PathTrace.render(mask)));
        batched.listener((start, n, phase, mask) -> batchedTrace.add(start + "+" + n + " " + phase + " "
                + PathTrace.render(mask)));
        if (prompt > 0) {
            stepped.plan(layers, 0, prompt, cache, allTrue(layers));
            batched.plan(layers, 0, prompt, cache, allTrue(layers));
        }
        for (int pos = prompt; pos < total; ) {
            int n = Math.min(batch, total - pos);
            boolean[] rows = allTrue(n * layers);
            batched.planTokens(layers, pos, n, cache, rows);
            for (int t = 0; t < n; t++) {
                boolean[] one = allTrue(layers);
                stepped.plan(layers, pos + t, 1, cache, one);
                assertArrayEquals(one, Arrays.copyOfRange(rows, t * layers, (t + 1) * layers), "position "
                        + (pos + t));
            }
            pos += n;
        }
        assertEquals(steppedTrace, batchedTrace);
        assertEquals(stepped.stats().tokens(), batched.stats().tokens());
        assertEquals(stepped.stats().decodeTokens(), batched.stats().decodeTokens());
        assertEquals(stepped.stats().distinctPaths(), batched.stats().distinctPaths());
        assertEquals(stepped.stats().distinctDecodePaths(), batched.stats().distinctDecodePaths());
        assertEquals(stepped.stats().pathChanges(), batched.stats().pathChanges());
        assertEquals(stepped.stats().meanBlocksPerToken(), batched.stats().meanBlocksPerToken(), 1e-12);
    }

    /** Every-step rerouting: token t's route is the whole-prefix route of positions 0..t, as the decision module defines. */
    @Property(tries = 80)
    void tokenRoutesPoolThePrefix(@ForAll @IntRange(min = 3, max = 40) int layers,
            @ForAll @DoubleRange(min = 0.05, max = 1.0) double b, @ForAll @IntRange(min = 1, max = 16) int n,
            @ForAll @IntRange(min = 0, max = 5) int start, @ForAll long seed) {
        int d = 5;
        DynamicRouter router = TestRouters.router(layers, d, seed, Pooling.MEAN, false);
        float[][] values = TestRouters.features(start + n, d, seed);
        TestRouters.ArrayCache cache = new TestRouters.ArrayCache(TestRouters.features(start + n, d, seed + 1),
                values);
        RoutingPlanner planner = new RoutingPlanner(router.openSession(Budget.fraction(b), Reroute.everyStep()));
        boolean[] rows = allTrue(n * layers);
        // Starting past 0 on a fresh session makes the planner catch up from the cached rows first.
        planner.planTokens(layers, start, n, cache, rows);
        int k = Budget.fraction(b).middleBlocks(layers);
        for (int t = 0; t < n; t++) {
            boolean[] expected = router.decision().routeSequence(Arrays.copyOfRange(values, 0, start + t + 1), k);
            assertArrayEquals(expected, Arrays.copyOfRange(rows, t * layers, (t + 1) * layers), "token " + t);
        }
    }
}
