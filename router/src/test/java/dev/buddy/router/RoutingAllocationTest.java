package dev.buddy.router;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The per-token path (observe, reroute, apply, count) allocates nothing once warmed up. Tagged {@code allocation}: runs
 * in its own JVM with the launcher's -Xbatch (see the parent POM).
 */
@Tag("allocation")
class RoutingAllocationTest {

    @Test
    void decodeStepsAllocateNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int layers = 32;
        int d = 64;
        int steps = 4000;
        DynamicRouter router = TestRouters.router(layers, d, 11, Pooling.MEAN, true);
        TestRouters.ArrayCache cache = new TestRouters.ArrayCache(stationary(2 * steps + 8, d, 3),
                stationary(2 * steps + 8, d, 4));
        RoutingPlanner planner = new RoutingPlanner(router.openSession(Budget.fraction(0.6), Reroute.everyStep()));
        boolean[] runBlock = new boolean[layers];
        planner.plan(layers, 0, 8, cache, fill(runBlock));
        for (int p = 8; p < 8 + steps; p++) {
            planner.plan(layers, p, 1, cache, fill(runBlock)); // warm-up: JIT, and the path set settling
        }
        long tid = Thread.currentThread().threadId();
        threads.getThreadAllocatedBytes(tid);
        long before = threads.getThreadAllocatedBytes(tid);
        for (int p = 8 + steps; p < 8 + 2 * steps; p++) {
            planner.plan(layers, p, 1, cache, fill(runBlock));
        }
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        // One allocation per step would be at least 16 bytes a step. The JVM itself can allocate a few hundred bytes
        // now and then (deoptimisation re-materialising objects, a first-seen path growing the path table), so the
        // bound is under one byte per step rather than exactly zero.
        assertTrue(allocated < steps, allocated + " bytes allocated over " + steps + " decode steps");
    }

    @Test
    void perTokenCallsAllocateNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int layers = 32;
        int d = 64;
        int batch = 16;
        int calls = 250;
        DynamicRouter router = TestRouters.router(layers, d, 12, Pooling.MEAN, false);
        int total = 8 + 2 * calls * batch;
        TestRouters.ArrayCache cache = new TestRouters.ArrayCache(stationary(total, d, 5), stationary(total, d, 6));
        RoutingPlanner planner = new RoutingPlanner(router.openSession(Budget.fraction(0.6), Reroute.everyStep()));
        boolean[] rows = new boolean[batch * layers];
        planner.plan(layers, 0, 8, cache, fill(new boolean[layers]));
        int p = 8;
        for (int c = 0; c < calls; c++, p += batch) {
            planner.planTokens(layers, p, batch, cache, fill(rows)); // warm-up
        }
        long tid = Thread.currentThread().threadId();
        threads.getThreadAllocatedBytes(tid);
        long before = threads.getThreadAllocatedBytes(tid);
        for (int c = 0; c < calls; c++, p += batch) {
            planner.planTokens(layers, p, batch, cache, fill(rows));
        }
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        assertTrue(allocated < calls * batch, allocated + " bytes allocated over " + calls * batch + " tokens");
    }

    /** Features without drift, so the mean-pooled route settles during warm-up. */
    private static float[][] stationary(int n, int d, long seed) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        float[][] f = new float[n][d];
        for (float[] row : f) {
            for (int i = 0; i < d; i++) {
                row[i] = (float) random.nextGaussian();
            }
        }
        return f;
    }

    private static boolean[] fill(boolean[] a) {
        java.util.Arrays.fill(a, true);
        return a;
    }
}
