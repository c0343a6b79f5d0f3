package dev.buddy.router.eval;

import java.util.Objects;

/**
 * A perplexity measurement: {@code exp(negLogLikelihood / tokensScored)}.
 *
 * @param window           tokens per window
 * @param stride           step between window starts
 * @param tokensScored     tokens predicted (every stream token but the first)
 * @param negLogLikelihood −Σ log p over the scored tokens, natural log
 */
public record PerplexityResult(PerplexityCorpus corpus, int window, int stride, long tokensScored,
                               double negLogLikelihood) {
    public PerplexityResult {
        Objects.requireNonNull(corpus, "corpus");
        if (tokensScored < 1) {
            throw new IllegalArgumentException("a perplexity needs at least one scored token");
        }
    }

    public double perplexity() {
        return Math.exp(negLogLikelihood / tokensScored);
    }

    /** Mean negative log-likelihood per token (nats). */
    public double meanNegLogLikelihood() {
        return negLogLikelihood / tokensScored;
    }
}
