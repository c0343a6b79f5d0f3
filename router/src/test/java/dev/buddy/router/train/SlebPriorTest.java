package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import dev.buddy.router.DecisionModule;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.Priors;
import dev.buddy.router.Provenance;
import dev.buddy.router.RouterFormatException;
import dev.buddy.router.StaticPlan;
import dev.buddy.router.TwoLayerMlp;
import dev.buddy.router.baseline.SlebResult;
import dev.buddy.router.baseline.StaticBaselines;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The SLEB-order prior: with the output layer zero ({@code --init prior}) the router must run exactly SLEB's block
 * set at every k the search covered, for any input. The reference sets come from {@link StaticBaselines#slebPlan},
 * the code that writes {@code buddy prune --method sleb}'s plans.
 */
class SlebPriorTest {
    private static final Provenance PROVENANCE = new Provenance("0".repeat(64), "llama", true, new float[0], "sleb",
            "dppl");
    static final int FEATURES = 6;

    @Property(tries = 60)
    void priorOnlyRoutingSelectsSlebsBlockSetAtEveryCoveredK(@ForAll @IntRange(min = 2, max = 30) int middle,
                                                             @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] blocks = shuffledMiddleBlocks(middle, random);
        int depth = 1 + random.nextInt(middle - 1);
        int[] order = Arrays.copyOf(blocks, depth);
        double[] delta = new double[middle];
        for (int j = 0; j < middle; j++) {
            // Few distinct values, so ties among the never-removed blocks happen.
            delta[j] = random.nextInt(4) * 0.5;
        }
        StaticPlan plan = StaticBaselines.slebPlan("sleb", middle + 2, new SlebResult(order, new double[depth], 1.0),
                PROVENANCE);
        Prior prior = SlebPrior.prior(SlebPrior.indicator(middle, order, delta));
        DecisionModule priorOnly = new DecisionModule(middle + 2, zeroMlp(middle), prior.values(),
                DecisionModule.DEFAULT_OMEGA, FeatureSource.VALUE, Pooling.MEAN);
        float[][] features = new float[1 + random.nextInt(5)][FEATURES];
        for (float[] row : features) {
            for (int i = 0; i < FEATURES; i++) {
                row[i] = (float) random.nextGaussian() * 5;
            }
        }
        for (int k = middle - depth; k <= middle; k++) {
            assertArrayEquals(plan.maskFor(k), priorOnly.routeSequence(features, k), "k=" + k + ", order "
                    + Arrays.toString(order));
        }
        assertArrayEquals(order, SlebPrior.removalOrder(plan));
    }

    @Test
    void neverRemovedBlocksRankAboveRemovedOnesByTheirDeltaPerplexityTiesToTheLowerBlock() {
        // 6 middle blocks; SLEB removed 4 then 2. Survivors 1, 3, 5, 6 with ΔPPL 2, 0.5, 0.5, 9.
        double[] raw = SlebPrior.indicator(6, new int[] {4, 2}, new double[] {2, 99, 0.5, 99, 0.5, 9});
        int[] ranking = new PriorEstimator.Estimate(PriorKind.SLEB, raw, SlebPrior.prior(raw), 1, 1).ranking();
        assertArrayEquals(new int[] {6, 1, 3, 5, 2, 4}, ranking);
        assertEquals("sleb", SlebPrior.prior(raw).kind());
        assertArrayEquals(Priors.normalize(raw, false), SlebPrior.prior(raw).values());
        float[] values = SlebPrior.prior(raw).values();
        assertEquals(6, Arrays.stream(ranking).map(b -> Float.floatToIntBits(values[b - 1])).distinct().count(),
                "every block needs its own prior value, or top-k would break ties by block index");
    }

    @Test
    void badRemovalOrdersAreRefused() {
        double[] delta = new double[4];
        assertThrows(IllegalArgumentException.class, () -> SlebPrior.indicator(4, new int[] {1, 2, 3, 4}, delta));
        assertThrows(IllegalArgumentException.class, () -> SlebPrior.indicator(4, new int[] {2, 2}, delta));
        assertThrows(IllegalArgumentException.class, () -> SlebPrior.indicator(4, new int[] {5}, delta));
        assertThrows(IllegalArgumentException.class, () -> SlebPrior.indicator(4, new int[] {1}, new double[3]));
    }

    @Test
    void plansThatAreNotOneNestedSearchAreRefused() {
        Map<Integer, int[]> notNested = new LinkedHashMap<>();
        notNested.put(3, new int[] {1, 2, 3});
        notNested.put(2, new int[] {1, 4});
        RouterFormatException e = assertThrows(RouterFormatException.class, () -> SlebPrior.removalOrder(
                new StaticPlan("x", 6, new int[0], notNested, PROVENANCE)));
        assertTrue(e.getMessage().contains("nested"), e.getMessage());
        Map<Integer, int[]> gap = new LinkedHashMap<>();
        gap.put(3, new int[] {1, 2, 3});
        gap.put(1, new int[] {1});
        assertThrows(RouterFormatException.class, () -> SlebPrior.removalOrder(
                new StaticPlan("x", 6, new int[0], gap, PROVENANCE)));
        StaticPlan rankingOnly = new StaticPlan("r", 6, new int[] {1, 2, 3, 4}, Map.of(), PROVENANCE);
        assertThrows(RouterFormatException.class, () -> SlebPrior.removalOrder(rankingOnly));
    }

    static int[] shuffledMiddleBlocks(int middle, SplittableRandom random) {
        int[] blocks = new int[middle];
        for (int i = 0; i < middle; i++) {
            blocks[i] = i + 1;
        }
        for (int i = middle - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = blocks[i];
            blocks[i] = blocks[j];
            blocks[j] = t;
        }
        return blocks;
    }

    /** The {@code --init prior} start: random first layer, output layer zero, so every score is 0. */
    static TwoLayerMlp zeroMlp(int middle) {
        int hidden = 4;
        float[] w1 = new float[hidden * FEATURES];
        for (int i = 0; i < w1.length; i++) {
            w1[i] = (i % 7 - 3) * 0.25f;
        }
        return new TwoLayerMlp(FEATURES, hidden, middle, w1, new float[hidden], new float[middle * hidden],
                new float[middle]);
    }
}
