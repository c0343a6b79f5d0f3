package dev.buddy.router.train;

import java.util.Arrays;
import java.util.Map;

import dev.buddy.router.Priors;
import dev.buddy.router.RouterFormatException;
import dev.buddy.router.StaticPlan;

/**
 * A prior made from SLEB's greedy removal order, so that the untrained router ({@code --init prior}: every MLP score
 * 0, s' = ω·p̃) starts exactly at SLEB's plan at every budget the search covered.
 *
 * <p>SLEB removes one block at a time and never puts one back, so its block sets are nested and one ranking
 * reproduces all of them: the block removed first is the least important, the one removed last the most important of
 * the removed ones, and every block the search never removed ranks above all removed ones. Among the never-removed
 * blocks the search says nothing; they are ordered by their ΔPPL (perplexity with that block alone removed, minus the
 * full model's, on the same calibration windows), ties to the lower block, the convention of every other ranking.
 * That order matters only for budgets below the search's depth.
 *
 * <p>The raw indicator is the block's place in that order counted from the least important (0 for SLEB's first
 * removal). It goes through the same pipeline as the other priors ({@link Priors#normalize}), without the log1p step
 * (a rank has no heavy tail); the pipeline is rank-based, so p̃ keeps the order exactly and the values are distinct.
 */
public final class SlebPrior {

    private SlebPrior() {}

    /**
     * The raw SLEB-order indicator per middle block (index j is block j+1): larger is more important.
     *
     * @param middle       middle blocks, L−2
     * @param removalOrder SLEB's removals, first removed first (distinct middle blocks, fewer than {@code middle})
     * @param survivorDelta ΔPPL per middle block (index j is block j+1); read only for blocks never removed
     */
    public static double[] indicator(int middle, int[] removalOrder, double[] survivorDelta) {
        if (removalOrder.length >= middle) {
            throw new IllegalArgumentException("SLEB removed " + removalOrder.length + " of " + middle
                    + " middle blocks; at least one always runs");
        }
        if (survivorDelta.length != middle) {
            throw new IllegalArgumentException("ΔPPL has " + survivorDelta.length + " values for " + middle
                    + " middle blocks");
        }
        double[] raw = new double[middle];
        boolean[] removed = new boolean[middle + 2];
        for (int d = 0; d < removalOrder.length; d++) {
            int block = removalOrder[d];
            if (block < 1 || block > middle || removed[block]) {
                throw new IllegalArgumentException("SLEB removal order " + Arrays.toString(removalOrder)
                        + " must list distinct middle blocks 1.." + middle);
            }
            removed[block] = true;
            raw[block - 1] = d;
        }
        // Survivors from least to most important: ascending ΔPPL, ties to the higher block (so the lower one ranks
        // above it, as in every other ranking).
        Integer[] survivors = new Integer[middle - removalOrder.length];
        int s = 0;
        for (int block = 1; block <= middle; block++) {
            if (!removed[block]) {
                double delta = survivorDelta[block - 1];
                if (!Double.isFinite(delta)) {
                    throw new IllegalArgumentException("ΔPPL of block " + block + " is " + delta);
                }
                survivors[s++] = block;
            }
        }
        Arrays.sort(survivors, (a, b) -> {
            int c = Double.compare(survivorDelta[a - 1], survivorDelta[b - 1]);
            return c != 0 ? c : Integer.compare(b, a);
        });
        for (int i = 0; i < survivors.length; i++) {
            raw[survivors[i] - 1] = removalOrder.length + i;
        }
        return raw;
    }

    /** The normalised prior p̃ of {@link #indicator}. */
    public static Prior prior(double[] indicator) {
        return new Prior(PriorKind.SLEB.fileName(), Priors.normalize(indicator, PriorKind.SLEB.heavyTail()));
    }

    /**
     * SLEB's removal order recovered from a plan written by {@code buddy prune --method sleb}: its block sets are
     * nested, k = L−3 down to the search's depth, and each step removes exactly one block. A plan with a full
     * ranking (the search ran to one block) gives the ranking reversed.
     *
     * @throws RouterFormatException if the plan's sets are not one nested SLEB search
     */
    public static int[] removalOrder(StaticPlan plan) {
        int middle = plan.layerCount() - 2;
        Map<Integer, int[]> sets = plan.setsByK();
        if (sets.isEmpty() || !sets.containsKey(middle - 1)) {
            throw new RouterFormatException("plan '" + plan.name() + "' has no block set for k=" + (middle - 1)
                    + ", so it is not a SLEB search (write one with buddy prune --method sleb)");
        }
        int depth = 0;
        while (sets.containsKey(middle - 1 - depth)) {
            depth++;
        }
        if (depth != sets.size()) {
            throw new RouterFormatException("plan '" + plan.name() + "' has block sets for k=" + sets.keySet()
                    + ", not one contiguous SLEB search from k=" + (middle - 1));
        }
        int[] order = new int[depth];
        boolean[] present = new boolean[middle + 2];
        Arrays.fill(present, 1, middle + 1, true);
        for (int d = 0; d < depth; d++) {
            boolean[] next = new boolean[middle + 2];
            for (int b : sets.get(middle - 1 - d)) {
                if (!present[b]) {
                    throw new RouterFormatException("plan '" + plan.name() + "': the set for k=" + (middle - 1 - d)
                            + " runs block " + b + ", which a larger set had removed; SLEB's sets are nested");
                }
                next[b] = true;
            }
            for (int b = 1; b <= middle; b++) {
                if (present[b] && !next[b]) {
                    order[d] = b;
                }
            }
            present = next;
        }
        return order;
    }
}
