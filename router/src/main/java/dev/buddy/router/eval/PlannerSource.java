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

    /**
     * BUDDY with no budget: each sequence's budget comes from the router's Budget Predictor ({@code --budget auto}),
     * and the k it chooses at the sequence's first routed call is counted in {@code choices}. The planner stays a
     * {@link BuddyPlanner} (the count rides on its route listener), so the scorer plans continuations per token in
     * one batched call exactly as at a fixed budget; a wrapping planner sent them one decode call per token, whose
     * different kernels put a full-depth choice a few ulps away from dense.
     */
    static PlannerSource autoBudget(Router router, BudgetChoices choices) {
        Objects.requireNonNull(router, "router");
        Objects.requireNonNull(choices, "choices");
        return () -> {
            BuddyPlanner planner = BuddyPlanner.open(router, null, Reroute.everyStep());
            boolean[] recorded = {false};
            return planner.listener((start, count, phase, mask) -> {
                if (!recorded[0]) {
                    choices.record(planner.session().middleBlocks());
                    recorded[0] = true;
                }
            });
        };
    }
}
