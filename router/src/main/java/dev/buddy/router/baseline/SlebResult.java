package dev.buddy.router.baseline;

/**
 * SLEB's greedy search: the blocks in the order they were removed and the perplexity after each removal.
 *
 * @param removalOrder     middle blocks, first removed first
 * @param perplexityAfter  perplexity with the first i+1 blocks of {@code removalOrder} removed
 * @param fullPerplexity   perplexity of the full model
 */
public record SlebResult(int[] removalOrder, double[] perplexityAfter, double fullPerplexity) {
    public SlebResult {
        removalOrder = removalOrder.clone();
        perplexityAfter = perplexityAfter.clone();
    }

    @Override
    public int[] removalOrder() {
        return removalOrder.clone();
    }

    @Override
    public double[] perplexityAfter() {
        return perplexityAfter.clone();
    }
}
