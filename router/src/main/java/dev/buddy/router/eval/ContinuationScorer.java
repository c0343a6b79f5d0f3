package dev.buddy.router.eval;

import java.util.List;

/**
 * lm-evaluation-harness's {@code loglikelihood} request: how likely a model finds each continuation after a context.
 * Evaluation of the multiple-choice tasks needs nothing else from a model.
 */
public interface ContinuationScorer {
    /**
     * The summed natural-log probability of each continuation's tokens given {@code context}, in order. The
     * continuations are scored independently of each other; passing several at once only lets the implementation
     * compute the shared context once.
     */
    double[] logLikelihoods(String context, List<String> continuations);
}
