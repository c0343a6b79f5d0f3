package dev.buddy.router;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.engine.model.LayerPlanContext;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class BuddyPlannerProperties {

    /** The engine's context as the forward pass presents it: rows for every position up to the current call. */
    private record Context(int layerCount, int startPosition, int tokenCount, int kvDim, float[][] keys,
                           float[][] values) implements LayerPlanContext {
        @Override
        public void layer0Value(int position, float[] dst, int dstOffset) {
            if (position >= startPosition + tokenCount) {
                throw new AssertionError("position " + position + " is not computed yet");
            }
            System.arraycopy(values[position], 0, dst, dstOffset, kvDim);
        }

        @Override
        public void layer0Key(int position, float[] dst, int dstOffset) {
            if (position >= startPosition + tokenCount) {
                throw new AssertionError("position " + position + " is not computed yet");
            }
            System.arraycopy(keys[position], 0, dst, dstOffset, kvDim);
        }
    }

    @Property(tries = 100)
    void theHookRoutesFromLayer0ValuesOfTheContext(@ForAll @IntRange(min = 3, max = 40) int layers,
                                                   @ForAll @IntRange(min = 1, max = 12) int kvDim,
                                                   @ForAll @IntRange(min = 1, max = 8) int promptLength,
                                                   @ForAll long seed) {
        DynamicRouter router = TestRouters.router(layers, kvDim, seed, Pooling.MEAN, false);
        int total = promptLength + 12;
        float[][] keys = TestRouters.features(total, kvDim, seed + 5);
        float[][] values = TestRouters.features(total, kvDim, seed);
        BuddyPlanner planner = BuddyPlanner.open(router, Budget.fraction(0.6), Reroute.everyStep());
        List<String> trace = new ArrayList<>();
        planner.listener(PathTrace.printer(trace::add));
        RoutingSession reference = router.openSession(Budget.fraction(0.6), Reroute.everyStep());
        int k = Budget.fraction(0.6).middleBlocks(layers);
        int pos = 0;
        while (pos < total) {
            int n = pos == 0 ? promptLength : 1;
            boolean[] runBlock = new boolean[layers];
            Arrays.fill(runBlock, true);
            planner.plan(new Context(layers, pos, n, kvDim, keys, values), runBlock);
            for (int p = pos; p < pos + n; p++) {
                reference.append(values[p], 0);
            }
            reference.route(pos == 0 ? RoutingSession.Phase.PREFILL : RoutingSession.Phase.DECODE);
            assertArrayEquals(TestRouters.mask(reference), runBlock);
            assertEquals(k, TestRouters.countMiddle(runBlock));
            assertTrue(trace.getLast().endsWith(PathTrace.render(runBlock)), trace.getLast());
            pos += n;
        }
        assertEquals(1 + total - promptLength, trace.size(), "one trace line per forward call");
        assertEquals(k + 2, planner.stats().meanBlocksPerToken(), 1e-12);
    }

    @Example
    void aRouterOfAnotherWidthIsRefused() {
        BuddyPlanner planner = BuddyPlanner.open(TestRouters.router(6, 8, 1, Pooling.MEAN, false),
                Budget.fraction(0.5), Reroute.everyStep());
        float[][] rows = new float[1][4];
        IncompatibleRouterException e = assertThrows(IncompatibleRouterException.class,
                () -> planner.plan(new Context(6, 0, 1, 4, rows, rows), new boolean[6]));
        assertTrue(e.getMessage().contains("8-wide"), e.getMessage());
    }
}
