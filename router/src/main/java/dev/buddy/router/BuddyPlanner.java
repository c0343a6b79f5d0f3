package dev.buddy.router;

import dev.buddy.engine.model.LayerPlanContext;
import dev.buddy.engine.model.LayerPlanner;

import java.util.Objects;

/**
 * The engine's {@link LayerPlanner} backed by a BUDDY {@link RoutingSession}: after block 0 has run for the new
 * positions it reads their layer-0 values (or keys) from the {@link LayerPlanContext}, updates the session and clears
 * {@code runBlock} for the skipped blocks. One planner per generated sequence; not thread-safe.
 */
public final class BuddyPlanner implements LayerPlanner {
    private final RoutingPlanner core;
    private final ContextFeatures features = new ContextFeatures();

    public BuddyPlanner(RoutingSession session) {
        this.core = new RoutingPlanner(session);
    }

    /** A planner over a fresh session of {@code router}; a null budget asks the router's budget predictor. */
    public static BuddyPlanner open(Router router, Budget budget, Reroute reroute) {
        return new BuddyPlanner(router.openSession(budget, reroute));
    }

    @Override
    public void plan(LayerPlanContext ctx, boolean[] runBlock) {
        RoutingSession session = core.session();
        int width = session.featureDim();
        if (width != 0 && width != ctx.kvDim()) {
            throw new IncompatibleRouterException("router expects " + width + "-wide layer-0 features but the model's"
                    + " KV rows are " + ctx.kvDim() + " wide");
        }
        features.ctx = ctx;
        try {
            core.plan(ctx.layerCount(), ctx.startPosition(), ctx.tokenCount(), features, runBlock);
        } finally {
            features.ctx = null;
        }
    }

    public RoutingSession session() {
        return core.session();
    }

    public RoutingStats stats() {
        return core.stats();
    }

    /** Sets (or clears) the per-call listener, e.g. {@link PathTrace#printer}. */
    public BuddyPlanner listener(RouteListener listener) {
        core.listener(listener);
        return this;
    }

    /** Adapts the planning context to {@link Layer0Features} without a per-call allocation. */
    private static final class ContextFeatures implements Layer0Features {
        private LayerPlanContext ctx;

        @Override
        public void key(int position, float[] dst, int offset) {
            Objects.requireNonNull(ctx).layer0Key(position, dst, offset);
        }

        @Override
        public void value(int position, float[] dst, int offset) {
            Objects.requireNonNull(ctx).layer0Value(position, dst, offset);
        }
    }
}
