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
    private final LayerPlanner perToken = new PerTokenView();

    public BuddyPlanner(RoutingSession session) {
        this.core = new RoutingPlanner(session);
    }

    /** A planner over a fresh session of {@code router}; a null budget asks the router's budget predictor. */
    public static BuddyPlanner open(Router router, Budget budget, Reroute reroute) {
        return new BuddyPlanner(router.openSession(budget, reroute));
    }

    @Override
    public void plan(LayerPlanContext ctx, boolean[] runBlock) {
        checkWidth(ctx);
        features.ctx = ctx;
        try {
            core.plan(ctx.layerCount(), ctx.startPosition(), ctx.tokenCount(), features, runBlock);
        } finally {
            features.ctx = null;
        }
    }

    /**
     * The same session planning per token: a call of n tokens gets n causal routes, token t's from the positions up
     * to its own, exactly as n one-token calls through this planner would (see {@link RoutingPlanner#planTokens}).
     * Calls through either view advance the one session, so a prompt can be planned as a whole here and the tokens
     * scored after it per token there.
     */
    public LayerPlanner perToken() {
        return perToken;
    }

    private void checkWidth(LayerPlanContext ctx) {
        int width = core.session().featureDim();
        if (width != 0 && width != ctx.kvDim()) {
            throw new IncompatibleRouterException("router expects " + width + "-wide layer-0 features but the model's"
                    + " KV rows are " + ctx.kvDim() + " wide");
        }
    }

    private final class PerTokenView implements LayerPlanner {
        @Override
        public void plan(LayerPlanContext ctx, boolean[] runBlock) {
            BuddyPlanner.this.plan(ctx, runBlock);
        }

        @Override
        public boolean plansPerToken() {
            return true;
        }

        @Override
        public void planTokens(LayerPlanContext ctx, boolean[] runBlocks) {
            checkWidth(ctx);
            features.ctx = ctx;
            try {
                core.planTokens(ctx.layerCount(), ctx.startPosition(), ctx.tokenCount(), features, runBlocks);
            } finally {
                features.ctx = null;
            }
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
