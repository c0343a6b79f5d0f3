package dev.buddy.router;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

class RoutingPlannerProperties {

    private static boolean[] allTrue(int n) {
        boolean[] a = new boolean[n];
        Arrays.fill(a, true);
        return a;
    }

    /** Prefill in chunks, then decode: the planner clears exactly the session's skipped blocks and counts honestly. */
    @Property(tries = 150)
    void plannerAppliesTheRouteAndCounts(@ForAll @IntRange(min = 3, max = 40) int layers,
                                         @ForAll @DoubleRange(min = 0.05, max = 1.0) double b,
                                         @ForAll @IntRange(min = 1, max = 10) int promptLength,
                                         @ForAll @IntRange(min = 1, max = 4) int chunk,
                                         @ForAll long seed) {
        int d = 6;
        int total = promptLength + 15;
        DynamicRouter router = TestRouters.router(layers, d, seed, Pooling.MEAN, false);
        TestRouters.ArrayCache cache = new TestRouters.ArrayCache(TestRouters.features(total, d, seed + 9),
                TestRouters.features(total, d, seed));
        RoutingPlanner planner = new RoutingPlanner(router.openSession(Budget.fraction(b), Reroute.everyStep()));
        RoutingSession reference = router.openSession(Budget.fraction(b), Reroute.everyStep());
        int k = Budget.fraction(b).middleBlocks(layers);
        Set<List<Boolean>> paths = new HashSet<>();
        Set<List<Boolean>> decodePaths = new HashSet<>();
        List<String> trace = new ArrayList<>();
        planner.listener((start, n, phase, mask) -> trace.add(PathTrace.render(mask)));
        int pos = 0;
        while (pos < total) {
            int n = pos < promptLength ? Math.min(chunk, promptLength - pos) : 1;
            boolean[] runBlock = allTrue(layers);
            planner.plan(layers, pos, n, cache, runBlock);
            for (int p = pos; p < pos + n; p++) {
                reference.observe(cache, p);
            }
            RoutingSession.Phase phase = n > 1 || pos == 0 ? RoutingSession.Phase.PREFILL
                    : RoutingSession.Phase.DECODE;
            reference.route(phase);
            boolean[] expected = TestRouters.mask(reference);
            assertArrayEquals(expected, runBlock);
            assertEquals(k, TestRouters.countMiddle(runBlock));
            List<Boolean> key = new ArrayList<>();
            for (boolean x : runBlock) {
                key.add(x);
            }
            paths.add(key);
            if (phase == RoutingSession.Phase.DECODE) {
                decodePaths.add(key);
            }
            assertEquals(PathTrace.render(runBlock), trace.getLast());
            pos += n;
        }
        RoutingStats stats = planner.stats();
        assertEquals(total, stats.tokens());
        assertEquals(k + 2, stats.meanBlocksPerToken(), 1e-12);
        assertEquals(paths.size(), stats.distinctPaths());
        assertEquals(decodePaths.size(), stats.distinctDecodePaths());
        assertTrue(stats.routerNanos() > 0);
        assertTrue(stats.routerShare() > 0 && stats.routerShare() <= 1.0);
    }

    /** Starting anywhere but where the session left off rebuilds the pool from the cache: same route as fresh. */
    @Property(tries = 100)
    void aRewindRebuildsFromTheCache(@ForAll @IntRange(min = 3, max = 30) int layers,
                                     @ForAll @IntRange(min = 1, max = 15) int rewindTo,
                                     @ForAll long seed) {
        int d = 5;
        DynamicRouter router = TestRouters.router(layers, d, seed, Pooling.MEAN, false);
        TestRouters.ArrayCache cache = new TestRouters.ArrayCache(TestRouters.features(20, d, seed + 1),
                TestRouters.features(20, d, seed));
        RoutingPlanner planner = new RoutingPlanner(router.openSession(Budget.fraction(0.5), Reroute.everyStep()));
        planner.plan(layers, 0, 16, cache, allTrue(layers));
        boolean[] afterRewind = allTrue(layers);
        planner.plan(layers, rewindTo, 1, cache, afterRewind);

        RoutingPlanner fresh = new RoutingPlanner(router.openSession(Budget.fraction(0.5), Reroute.everyStep()));
        boolean[] expected = allTrue(layers);
        fresh.plan(layers, 0, rewindTo + 1, cache, expected);
        assertArrayEquals(expected, afterRewind);
        assertEquals(rewindTo + 1, planner.session().positions());
    }

    @Example
    void staticPlansNeverReadTheCache() {
        StaticPlan plan = StaticPlan.fromScores("prior-only", new float[] {0.3f, 2f, -1f, 0.3f, 5f, 1f},
                new Provenance(TestRouters.FINGERPRINT, "llama", true, new float[0], "prior", "taylor"));
        assertArrayEquals(new int[] {5, 2, 6, 1, 4, 3}, plan.ranking());
        Layer0Features untouchable = new Layer0Features() {
            @Override
            public void key(int position, float[] dst, int offset) {
                throw new AssertionError("static plans must not read keys");
            }

            @Override
            public void value(int position, float[] dst, int offset) {
                throw new AssertionError("static plans must not read values");
            }
        };
        RoutingPlanner planner = new RoutingPlanner(plan.openSession(Budget.drop(3), Reroute.everyStep()));
        for (int pos = 0; pos < 10; pos++) {
            boolean[] runBlock = allTrue(8);
            planner.plan(8, pos, 1, untouchable, runBlock);
            // k = 3 of the ranking 5, 2, 6, …
            assertArrayEquals(new boolean[] {true, false, true, false, false, true, true, true}, runBlock);
        }
        assertEquals(1, planner.stats().distinctPaths());
        assertEquals(5.0, planner.stats().meanBlocksPerToken());
    }

    @Example
    void aRouterForAnotherDepthIsRefusedAtPlanTime() {
        RoutingPlanner planner = new RoutingPlanner(TestRouters.router(10, 4, 1, Pooling.MEAN, false)
                .openSession(Budget.fraction(0.5), Reroute.everyStep()));
        TestRouters.ArrayCache cache = new TestRouters.ArrayCache(new float[1][4], new float[1][4]);
        assertThrows(IncompatibleRouterException.class, () -> planner.plan(12, 0, 1, cache, allTrue(12)));
    }

    @Example
    void traceRendering() {
        assertEquals("█·█", PathTrace.render(new boolean[] {true, false, true}));
    }
}
