package dev.buddy.router.eval;

import dev.buddy.router.Budget;
import dev.buddy.router.Router;

import java.util.Objects;

/**
 * One configuration to evaluate: a method at a budget, and the planners that realise it.
 *
 * @param method          report label: {@code dense}, or the router's canonical method ({@link EvalReport#canonicalMethod})
 * @param budget          report label of the budget, e.g. {@code "0.875"}
 * @param nominalFraction (k+2)/L, the fraction of blocks the budget asks for
 * @param planners        the per-sequence planners
 * @param choices         where the planners count the budgets a predictor chose ({@code auto}), or null
 */
public record EvalConfiguration(String method, String budget, double nominalFraction, PlannerSource planners,
                                BudgetChoices choices) {
    /** The budget label of {@code --budgets auto}. */
    public static final String AUTO = "auto";

    public EvalConfiguration {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(budget, "budget");
        Objects.requireNonNull(planners, "planners");
    }

    /** A configuration with a fixed budget (no chosen-budget counts). */
    public EvalConfiguration(String method, String budget, double nominalFraction, PlannerSource planners) {
        this(method, budget, nominalFraction, planners, null);
    }

    /**
     * A router with a Budget Predictor choosing each sequence's budget ({@code auto}); the nominal fraction is
     * unknown in advance (NaN), the measured one is reported.
     */
    public static EvalConfiguration auto(String method, Router router, int layerCount) {
        BudgetChoices choices = new BudgetChoices(layerCount);
        return new EvalConfiguration(method, AUTO, Double.NaN, PlannerSource.autoBudget(router, choices), choices);
    }

    /** The full model. */
    public static EvalConfiguration dense() {
        return new EvalConfiguration("dense", "1.0", 1.0, PlannerSource.DENSE);
    }

    /**
     * A router (dynamic or static) at a budget on a model of {@code layerCount} blocks. A fraction budget keeps the
     * label the user wrote; a drop count is labelled by the fraction it executes.
     *
     * @throws dev.buddy.router.InvalidBudgetException if the budget does not fit the model
     */
    public static EvalConfiguration routed(String method, Router router, Budget budget, int layerCount) {
        int k = budget.middleBlocks(layerCount);
        double nominal = Budget.fractionForMiddleBlocks(k, layerCount);
        String label = EvalReport.budgetLabel(budget.kind() == Budget.Kind.FRACTION ? budget.fraction() : nominal);
        return new EvalConfiguration(method, label, nominal, PlannerSource.routed(router, budget));
    }

    /** {@code method@budget}, for progress lines. */
    public String label() {
        return method + "@" + budget;
    }
}
