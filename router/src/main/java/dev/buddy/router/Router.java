package dev.buddy.router;

/**
 * A layer router for one base model: a learned {@link DynamicRouter} or a fixed {@link StaticPlan}. Immutable; each
 * generated sequence gets its own {@link RoutingSession}.
 */
public sealed interface Router permits DynamicRouter, StaticPlan {
    /** A label for messages, e.g. the file name. */
    String name();

    int layerCount();

    Provenance provenance();

    /**
     * One line for logs and the CLI. An untrained router says so first, since its routes carry no learned meaning.
     */
    default String describe() {
        Provenance p = provenance();
        return (p.trained() ? "" : "UNTRAINED ") + p.method() + " router '" + name() + "' for " + p.baseArchitecture()
                + " (" + layerCount() + " blocks, base fingerprint " + p.baseFingerprint().substring(0,
                Math.min(12, p.baseFingerprint().length())) + ")";
    }

    /**
     * A fresh per-sequence routing state.
     *
     * @param budget  the budget; null asks a dynamic router's budget predictor
     * @param reroute when to recompute the route during decoding (ignored by static plans)
     * @throws InvalidBudgetException if the budget does not fit the model, or is null and cannot be predicted
     */
    RoutingSession openSession(Budget budget, Reroute reroute);

    /**
     * Refuses a model this router was not built for: different fingerprint, depth or feature width.
     *
     * @throws FingerprintMismatchException if the tensor layout fingerprint differs
     * @throws IncompatibleRouterException  if the depth or feature width differs
     */
    default void requireCompatible(BaseModelInfo model) {
        if (!provenance().baseFingerprint().equals(model.fingerprint())) {
            throw new FingerprintMismatchException(name(), provenance().baseFingerprint(), model.fingerprint());
        }
        if (model.layerCount() != layerCount()) {
            throw new IncompatibleRouterException("router " + name() + " routes " + layerCount()
                    + " blocks but the model has " + model.layerCount());
        }
    }
}
