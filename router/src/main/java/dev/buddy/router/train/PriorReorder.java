package dev.buddy.router.train;

import dev.buddy.router.Priors;

/**
 * A prior re-ranked by hand: the listed middle blocks become the least important, first listed first, and every other
 * block keeps its place in the base prior's order above them. It composes static plans into one prior: SmolLM2's
 * SLEB order with block 13 moved to fourth place starts a router at ShortGPT's plan at b = 0.875 (four removals)
 * and at SLEB's at 0.75, 0.625 and 0.5, whose sets contain those four (RESULTS.md, "One prior for every budget").
 *
 * <p>The normalisation pipeline ({@link Priors#normalize}) ends in rank normalisation and
 * standardisation, so p̃ depends on the order alone: the raw indicator here is each block's place in the new order
 * (0 for the first removal), built by {@link SlebPrior#indicator} (the listed blocks as its removals, the base p̃
 * ordering the rest as its ΔPPL does) and normalised without log1p as it is, and the result holds the base
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
        // The listed blocks first, then the rest least important first (ascending p̃, ties to the higher block):
        // SLEB's removals followed by its survivors ordered by ΔPPL, with p̃ in ΔPPL's place.
        double[] baseValues = new double[middle];
        for (int j = 0; j < middle; j++) {
            baseValues[j] = values[j];
        }
        return SlebPrior.indicator(middle, removalOrder, baseValues);
    }

    /** The normalised prior of {@link #indicator}, of the base's kind. */
    public static Prior prior(Prior base, int[] removalOrder) {
        return new Prior(base.kind(), Priors.normalize(indicator(base, removalOrder), false));
    }
}
