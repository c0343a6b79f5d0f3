package dev.buddy.router.eval;

/** How a routed configuration chooses blocks for the scored (continuation) tokens. */
public enum RoutingMode {
    /**
     * Causal and per position, exactly as in generation: the context is prefilled under the route of the whole
     * context, then every continuation token is run as a decode step whose route is recomputed from the layer-0
     * features of all positions up to and including it (the paper's KV-aware planner, "Recompute").
     */
    PER_TOKEN("per-token"),
    /**
     * The paper's prefill-routed mode ("Reuse"): one path chosen from the whole context, held for every continuation
     * token.
     */
    PREFILL("prefill");

    private final String key;

    RoutingMode(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }

    public static RoutingMode parse(String text) {
        for (RoutingMode m : values()) {
            if (m.key.equalsIgnoreCase(text.trim())) {
                return m;
            }
        }
        throw new InvalidEvalOptionException("unknown routing mode '" + text + "': expected per-token or prefill");
    }
}
