package dev.buddy.router.eval;

import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.router.Budget;
import dev.buddy.router.BuddyPlanner;
import dev.buddy.router.Reroute;
import dev.buddy.router.Router;

import java.util.Objects;

/** Makes the layer planner for each new sequence (positions counted from 0) of one evaluated configuration. */
@FunctionalInterface
public interface PlannerSource {
    /** The dense model: every block runs and no planner is consulted. */
    PlannerSource DENSE = () -> null;

    /** A fresh planner for a new sequence, or null to run every block. */
    LayerPlanner newSequence();

    /**
     * BUDDY (or a static plan) at a budget: a fresh routing session per sequence that reroutes at every forward call.
     * Holding the prefill route instead is {@link RoutingMode#PREFILL}'s business, done by the scorer.
     */
    static PlannerSource routed(Router router, Budget budget) {
        Objects.requireNonNull(router, "router");
        Objects.requireNonNull(budget, "budget");
        return () -> BuddyPlanner.open(router, budget, Reroute.everyStep());
    }
}
