package dev.buddy.router;

import java.util.Objects;

/**
 * The engine-independent heart of the layer-planner hook: called once per forward call after block 0 has run for the
 * new positions, it feeds those positions' layer-0 features to the {@link RoutingSession}, reroutes, and clears the
 * blocks to skip. Allocation-free per call (unless a {@link RouteListener} allocates).
 *
 * <p>Positions must arrive in order. A call starting at position 0 begins a new sequence; a call starting anywhere
 * other than where the session left off (the engine rewound or reused a cached prefix) rebuilds the pool from the
 * layer-0 cache rows before it, which is the one O(context) path. A call with more than one token, or at position 0,
 * is a prefill chunk; a single token after position 0 is a decode step.
 *
 * <p>{@link #planTokens} is the per-token form for a call of several tokens: each token is observed and routed as if
 * it were its own one-token call, so token t's route pools the positions up to and including its own (causal), and a
 * batched call gets exactly the routes, statistics and listener calls that one call per token would.
 */
public final class RoutingPlanner {
    private final RoutingSession session;
    private final int layerCount;
    private final boolean[] mask;
    private final RoutingStats stats;
    private RouteListener listener;

    public RoutingPlanner(RoutingSession session) {
        this.session = Objects.requireNonNull(session);
        this.layerCount = session.layerCount();
        this.mask = new boolean[layerCount];
        this.stats = new RoutingStats(layerCount);
    }

    public RoutingSession session() {
        return session;
    }

    public RoutingStats stats() {
        return stats;
    }

    /** Sets (or clears, with null) the per-call listener, e.g. a trace printer. */
    public void listener(RouteListener listener) {
        this.listener = listener;
    }

    /**
     * Plans one forward call.
     *
     * @param layerCount    the model's block count, checked against the router's
     * @param startPosition first new position
     * @param tokenCount    number of new positions (≥ 1)
     * @param cache         layer-0 rows for every position up to {@code startPosition + tokenCount − 1}
     * @param runBlock      length L, arrives all-true; blocks to skip are cleared
     */
    public void plan(int layerCount, int startPosition, int tokenCount, Layer0Features cache, boolean[] runBlock) {
        long start = System.nanoTime();
        check(layerCount, runBlock.length, startPosition, tokenCount);
        catchUp(startPosition, cache);
        for (int p = startPosition; p < startPosition + tokenCount; p++) {
            session.observe(cache, p);
        }
        RoutingSession.Phase phase = tokenCount > 1 || startPosition == 0
                ? RoutingSession.Phase.PREFILL : RoutingSession.Phase.DECODE;
        boolean changed = session.route(phase);
        session.copyMaskTo(mask);
        for (int b = 0; b < layerCount; b++) {
            if (!mask[b]) {
                runBlock[b] = false;
            }
        }
        stats.record(tokenCount, phase, mask, changed);
        if (listener != null) {
            listener.routed(startPosition, tokenCount, phase, mask);
        }
        stats.time(start, System.nanoTime());
    }

    /**
     * Plans a call of several tokens with one route per token, each as a one-token call at its position would get:
     * observe the position, then route (a prefill route at position 0, a decode step after it).
     *
     * @param runBlocks {@code tokenCount} rows of L entries, token t's at {@code [t·L, (t+1)·L)}, arriving all true;
     *                  the blocks each token skips are cleared
     */
    public void planTokens(int layerCount, int startPosition, int tokenCount, Layer0Features cache,
            boolean[] runBlocks) {
        long start = System.nanoTime();
        check(layerCount, this.layerCount, startPosition, tokenCount);
        if (runBlocks.length < (long) tokenCount * layerCount) {
            throw new IllegalArgumentException("mask rows hold " + runBlocks.length + " entries, " + tokenCount
                    + " tokens need " + tokenCount * layerCount);
        }
        catchUp(startPosition, cache);
        for (int t = 0; t < tokenCount; t++) {
            int position = startPosition + t;
            session.observe(cache, position);
            RoutingSession.Phase phase = position == 0 ? RoutingSession.Phase.PREFILL : RoutingSession.Phase.DECODE;
            boolean changed = session.route(phase);
            session.copyMaskTo(mask);
            int row = t * layerCount;
            for (int b = 0; b < layerCount; b++) {
                if (!mask[b]) {
                    runBlocks[row + b] = false;
                }
            }
            stats.record(1, phase, mask, changed);
            if (listener != null) {
                listener.routed(position, 1, phase, mask);
            }
        }
        stats.time(start, System.nanoTime());
    }

    private void check(int modelLayers, int maskLength, int startPosition, int tokenCount) {
        if (modelLayers != this.layerCount || maskLength != this.layerCount) {
            throw new IncompatibleRouterException("router routes " + this.layerCount + " blocks but the model has "
                    + modelLayers);
        }
        if (tokenCount < 1 || startPosition < 0) {
            throw new IllegalArgumentException("bad forward call: start " + startPosition + ", " + tokenCount
                    + " tokens");
        }
    }

    /** A call that does not continue where the session left off rebuilds the pool from the cached rows before it. */
    private void catchUp(int startPosition, Layer0Features cache) {
        if (startPosition != session.positions()) {
            session.reset();
            for (int p = 0; p < startPosition; p++) {
                session.observe(cache, p);
            }
        }
    }
}
