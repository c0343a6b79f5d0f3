package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import dev.buddy.router.DecisionModule;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.Priors;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * {@code buddy prior --from FILE --removal-order LIST}: the untrained router ({@code --init prior}) of a re-ranked
 * prior must remove the listed blocks first, in the listed order, and below that follow the base prior's order; the
 * values stay the base's (to rounding), reassigned by rank.
 */
class PriorReorderTest {
    @Property(tries = 80)
    void priorOnlyRoutingRemovesTheListedBlocksFirstThenFollowsTheBase(
            @ForAll @IntRange(min = 2, max = 30) int middle, @ForAll boolean taylorBase, @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] raw = new double[middle];
        for (int j = 0; j < middle; j++) {
            raw[j] = taylorBase ? random.nextDouble() * 100 : j; // distinct values either way
        }
        if (!taylorBase) {
            int[] order = SlebPriorTest.shuffledMiddleBlocks(middle, random);
            for (int j = 0; j < middle; j++) {
                raw[order[j] - 1] = j;
            }
        }
        Prior base = new Prior(taylorBase ? "taylor" : "sleb", Priors.normalize(raw, taylorBase));
        int[] listed = Arrays.copyOf(SlebPriorTest.shuffledMiddleBlocks(middle, random), 1 + random.nextInt(middle - 1));
        Prior reranked = PriorReorder.prior(base, listed);
        assertEquals(base.kind(), reranked.kind());

        // The removal sequence the new prior implies: listed blocks first, then the base's order without them.
        int[] baseOrder = leastImportantFirst(base.values());
        int[] expected = new int[middle];
        System.arraycopy(listed, 0, expected, 0, listed.length);
        int at = listed.length;
        for (int block : baseOrder) {
            if (Arrays.stream(listed).noneMatch(b -> b == block)) {
                expected[at++] = block;
            }
        }
        assertArrayEquals(expected, leastImportantFirst(reranked.values()), "listed " + Arrays.toString(listed));

        DecisionModule priorOnly = new DecisionModule(middle + 2, SlebPriorTest.zeroMlp(middle), reranked.values(),
                DecisionModule.DEFAULT_OMEGA, FeatureSource.VALUE, Pooling.MEAN);
        float[][] features = new float[2][SlebPriorTest.FEATURES];
        for (float[] row : features) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) random.nextGaussian() * 5;
            }
        }
        for (int removed = 0; removed < middle; removed++) {
            boolean[] mask = priorOnly.routeSequence(features, middle - removed);
            for (int r = 0; r < middle; r++) {
                assertEquals(r >= removed, mask[expected[r]], "block " + expected[r] + " with " + removed
                        + " removed, listed " + Arrays.toString(listed));
            }
        }

        float[] sortedBase = base.values();
        float[] sortedNew = reranked.values();
        Arrays.sort(sortedBase);
        Arrays.sort(sortedNew);
        // The standardisation's mean is summed in block order, so a moved value can differ in its last bits.
        assertArrayEquals(sortedBase, sortedNew, 1e-6f, "re-ranking only moves the base's values between blocks");
    }

    @Test
    void listingTheBasesOwnFirstRemovalsGivesTheBaseBack() {
        double[] raw = {3.5, 0.25, 9.0, 1.0, 4.0, 0.5};
        Prior base = new Prior("dppl", Priors.normalize(raw, true));
        assertEquals(base, PriorReorder.prior(base, new int[] {2, 6, 4}));
        // Blocks 4 then 2 first (the base removes 2, 6, 4): 6 moves to third.
        assertArrayEquals(new int[] {4, 2, 6, 1, 5, 3}, leastImportantFirst(PriorReorder.prior(base,
                new int[] {4, 2}).values()));
    }

    @Test
    void badListsAreTypedUserErrors() {
        Prior base = new Prior("sleb", Priors.normalize(new double[] {0, 1, 2, 3}, false));
        for (int[] bad : new int[][] {{}, {1, 2, 3, 4}, {2, 2}, {0}, {5}}) {
            InvalidTrainingOptionException e = assertThrows(InvalidTrainingOptionException.class,
                    () -> PriorReorder.indicator(base, bad), Arrays.toString(bad));
            assertTrue(e.getMessage().contains("block") || e.getMessage().contains("middle"), e.getMessage());
        }
    }

    /** Middle blocks by ascending p̃ (all values distinct here). */
    private static int[] leastImportantFirst(float[] values) {
        return java.util.stream.IntStream.rangeClosed(1, values.length).boxed()
                .sorted((a, b) -> Float.compare(values[a - 1], values[b - 1])).mapToInt(Integer::intValue).toArray();
    }
}
