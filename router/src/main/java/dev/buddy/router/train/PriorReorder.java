package dev.buddy.router.train;

import java.util.Arrays;

/**
 * A prior re-ranked by hand: the listed middle blocks become the least important, first listed first, and every other
 * block keeps its place in the base prior's order above them. It composes static plans into one prior: SmolLM2's
 * SLEB order with block 13 moved to fourth place starts a router at ShortGPT's plan at b = 0.875 (four removals)
 * and at SLEB's at 0.75, 0.625 and 0.5, whose sets contain those four (RESULTS.md, "One prior for every budget").
 *
 * <p>The normalisation pipeline ({@link dev.buddy.router.Priors#normalize}) ends in rank normalisation and
 * standardisation, so p̃ depends on the order alone: the raw indicator here is each block's place in the new order
 * (0 for the first removal), normalised without log1p as {@link SlebPrior} does, and the result holds the base
 * prior's values reassigned by rank (to the last bits: the standardisation sums in block order; for SmolLM2's
 * SLEB-256 prior the re-ranked values are bit for bit the base's). Ties in the base prior are broken towards the
 * lower block, the convention of every ranking, so every block gets its own value.
 */
public final class PriorReorder {
    private PriorReorder() {}

    /**
     * The raw indicator (index j is block j+1; larger is more important) of {@code base} re-ranked so that
     * {@code removalOrder} comes first, least important first.
     *
     * @throws InvalidTrainingOptionException if the list repeats a block, names a block outside 1..L−2, or lists
     *                                        every middle block (one must always run)
     */
    public static double[] indicator(Prior base, int[] removalOrder) {
        float[] values = base.values();
        int middle = values.length;
        if (removalOrder.length == 0 || removalOrder.length >= middle) {
            throw new InvalidTrainingOptionException("a removal order lists 1.." + (middle - 1) + " of the "
                    + middle + " middle blocks, got " + removalOrder.length);
        }
        boolean[] listed = new boolean[middle + 1];
        for (int block : removalOrder) {
            if (block < 1 || block > middle) {
                throw new InvalidTrainingOptionException("block " + block + " in the removal order is not a middle"
                        + " block (1.." + middle + ")");
            }
            if (listed[block]) {
                throw new InvalidTrainingOptionException("block " + block + " appears twice in the removal order");
            }
            listed[block] = true;
        }
        // The base order from least to most important: ascending p̃, ties to the higher block.
        Integer[] rest = new Integer[middle - removalOrder.length];
        int r = 0;
        for (int block = 1; block <= middle; block++) {
            if (!listed[block]) {
                rest[r++] = block;
            }
        }
        Arrays.sort(rest, (a, b) -> {
            int c = Float.compare(values[a - 1], values[b - 1]);
            return c != 0 ? c : Integer.compare(b, a);
        });
        double[] raw = new double[middle];
        for (int i = 0; i < removalOrder.length; i++) {
            raw[removalOrder[i] - 1] = i;
        }
        for (int i = 0; i < rest.length; i++) {
            raw[rest[i] - 1] = removalOrder.length + i;
        }
        return raw;
    }

    /** The normalised prior of {@link #indicator}, of the base's kind. */
    public static Prior prior(Prior base, int[] removalOrder) {
        return new Prior(base.kind(), dev.buddy.router.Priors.normalize(indicator(base, removalOrder), false));
    }
}
