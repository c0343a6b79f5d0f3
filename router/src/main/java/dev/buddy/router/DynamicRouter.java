package dev.buddy.router;

import java.util.Objects;
import java.util.Optional;

/**
 * The BUDDY router: a {@link DecisionModule} and, optionally, a {@link BudgetPredictor}, bound to one base model.
 *
 * @param name      a label for messages
 * @param decision  the Decision Module
 * @param predictor the Budget Predictor, if trained
 */
public record DynamicRouter(String name, DecisionModule decision, Optional<BudgetPredictor> predictor,
                            Provenance provenance) implements Router {
    public DynamicRouter {
        Objects.requireNonNull(name);
        Objects.requireNonNull(decision);
        Objects.requireNonNull(predictor);
        Objects.requireNonNull(provenance);
        predictor.ifPresent(p -> {
            if (p.layerCount() != decision.layerCount() || p.featureDim() != decision.featureDim()) {
                throw new IllegalArgumentException("budget predictor shape (L=" + p.layerCount() + ", d="
                        + p.featureDim() + ") does not match the decision module (L=" + decision.layerCount()
                        + ", d=" + decision.featureDim() + ")");
            }
        });
    }

    @Override
    public int layerCount() {
        return decision.layerCount();
    }

    @Override
    public String describe() {
        return Router.super.describe() + ", " + decision.featureSource().fileName() + " features, "
                + decision.pooling().fileName() + " pooling, ω=" + decision.omega() + ", prior "
                + provenance.priorKind() + (predictor.isPresent() ? ", with budget predictor" : "");
    }

    @Override
    public DynamicRoutingSession openSession(Budget budget, Reroute reroute) {
        return new DynamicRoutingSession(this, budget, reroute);
    }

    @Override
    public void requireCompatible(BaseModelInfo model) {
        Router.super.requireCompatible(model);
        int width = model.featureDim(decision.featureSource());
        if (width != decision.featureDim()) {
            throw new IncompatibleRouterException("router " + name + " expects " + decision.featureDim()
                    + "-wide layer-0 " + decision.featureSource().fileName() + " features but the model's are "
                    + width + " wide");
        }
    }
}
