package dev.buddy.engine.model;

/**
 * The router's hook: decides which transformer blocks run for one forward call (a prefill chunk or one decode
 * token). Skipping a block makes it the identity on the residual stream; what its KV slot holds is the state's
 * {@link SkippedKvPolicy}.
 *
 * <p>A planner either gives the whole call one mask ({@link #plan}, the default) or, when {@link #plansPerToken()}
 * says so, each token of the call its own mask ({@link #planTokens}). With per-token masks every block runs only on
 * the rows that selected it, so a call of n tokens computes what n one-token calls with the same masks would: bit for
 * bit when the state sums attention in {@link AttentionOrder#ONE_TOKEN} order and the matrix kernels do not depend on
 * the row count (every quantised format; F32/F16/BF16 weights sum several rows in tinyBLAS's order, as llama.cpp
 * does); by default a call of several tokens sums
 * attention in llama.cpp's batch order, which differs from the one-token order in the last bits.
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

    /** True when the engine should call {@link #planTokens} instead of {@link #plan}. */
    default boolean plansPerToken() {
        return false;
    }

    /**
     * The per-token form, called instead of {@link #plan} when {@link #plansPerToken()} is true: once per forward
     * call, after block 0 has run for all of the call's positions. {@code runBlocks} holds one row of
     * {@link LayerPlanContext#layerCount()} entries per token of the call, token t (at position
     * {@code startPosition + t}) at {@code [t·L, (t+1)·L)}; the rows arrive all true (entries past
     * {@code tokenCount·L} are not read). Clear the blocks each token skips; entry 0 of every row is ignored.
     */
    default void planTokens(LayerPlanContext ctx, boolean[] runBlocks) {
        throw new UnsupportedOperationException(getClass().getName() + " plans whole calls only (plansPerToken()"
                + " is false)");
    }
}
