package dev.buddy.router;

/**
 * Told about every routed forward call, e.g. to print a {@link PathTrace} line per token. Called on the inference
 * thread with the planner's own mask array, which must not be kept or modified.
 */
@FunctionalInterface
public interface RouteListener {
    /**
     * @param startPosition first position of the forward call
     * @param tokenCount    positions it covers (1 for a decode step)
     * @param phase         prefill chunk or decode step
     * @param mask          the blocks that run for these positions
     */
    void routed(int startPosition, int tokenCount, RoutingSession.Phase phase, boolean[] mask);
}
