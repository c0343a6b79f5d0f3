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
        if (layerCount != this.layerCount || runBlock.length != this.layerCount) {
            throw new IncompatibleRouterException("router routes " + this.layerCount + " blocks but the model has "
                    + layerCount);
        }
        if (tokenCount < 1 || startPosition < 0) {
            throw new IllegalArgumentException("bad forward call: start " + startPosition + ", " + tokenCount
                    + " tokens");
        }
        if (startPosition != session.positions()) {
            session.reset();
            for (int p = 0; p < startPosition; p++) {
                session.observe(cache, p);
            }
        }
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
}
