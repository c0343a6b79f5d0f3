package dev.buddy.router;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.buddy.engine.generate.BatchGenerator;
import dev.buddy.engine.generate.BatchTokenListener;
import dev.buddy.engine.generate.GenerationResult;

/**
 * BUDDY routing for batched requests: every prompt gets its own {@link RoutingSession} (so its own path, rerouted
 * at every step as its reroute policy says, from its own context), and a {@link BatchGenerator} advances all of them
 * in one forward call per step, where each block runs on the subset of sequences whose route selected it.
 */
public final class BatchRouting {
    private BatchRouting() {}

    /**
     * The generations, in prompt order, and the planner that routed each (its {@link BuddyPlanner#stats()} and
     * session hold that sequence's routing statistics).
     */
    public record Result(List<GenerationResult> generations, List<BuddyPlanner> planners) {
        public Result {
            generations = List.copyOf(generations);
            planners = List.copyOf(planners);
        }
    }

    /**
     * One planner per sequence over fresh sessions of {@code router}.
     *
     * @param budget null asks the router's budget predictor, once per sequence at its prefill
     */
    public static List<BuddyPlanner> planners(Router router, Budget budget, Reroute reroute, int sequences) {
        Objects.requireNonNull(router, "router");
        List<BuddyPlanner> planners = new ArrayList<>(sequences);
        for (int i = 0; i < sequences; i++) {
            planners.add(BuddyPlanner.open(router, budget, reroute));
        }
        return planners;
    }

    /**
     * Continues {@code prompts} together, each routed by its own session of {@code router}.
     *
     * @param listener receives each sequence's tokens as they are generated
     * @param routes   receives each sequence's route per forward call (e.g. a trace), with the sequence index;
     *                 null for none
     */
    public static Result generate(BatchGenerator generator, Router router, Budget budget, Reroute reroute,
            List<String> prompts, int maxTokens, BatchTokenListener listener, SequenceRouteListener routes) {
        List<BuddyPlanner> planners = planners(router, budget, reroute, prompts.size());
        if (routes != null) {
            for (int i = 0; i < planners.size(); i++) {
                int sequence = i;
                planners.get(i).listener((start, count, phase, mask) -> routes.routed(sequence, start, count, phase,
                        mask));
            }
        }
        return new Result(generator.generate(prompts, planners, maxTokens, listener), planners);
    }

    /** A {@link RouteListener} that also learns which sequence of the batch was routed. */
    @FunctionalInterface
    public interface SequenceRouteListener {
        void routed(int sequence, int startPosition, int tokenCount, RoutingSession.Phase phase, boolean[] mask);
    }
}
