package dev.buddy.engine.model;

/**
 * The router's hook: decides which transformer blocks run for one forward call (a prefill chunk or one decode
 * token). Skipping a block makes it the identity on the residual stream; what its KV slot holds is the state's
 * {@link SkippedKvPolicy}.
 */
@FunctionalInterface
public interface LayerPlanner {
    /** Runs every block; the output is bit-identical to a forward pass without any planner. */
    LayerPlanner ALL_BLOCKS = (ctx, runBlock) -> { };

    /**
     * Called once per forward call, after block 0 has run for the new positions. {@code runBlock} has length
     * {@link LayerPlanContext#layerCount()} and arrives all true; clear the entries of blocks to skip. Entry 0 is
     * ignored: block 0 has already run.
     */
    void plan(LayerPlanContext ctx, boolean[] runBlock);
}
