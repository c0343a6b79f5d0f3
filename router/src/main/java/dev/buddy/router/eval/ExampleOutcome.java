package dev.buddy.router.eval;

/**
 * How one example was answered.
 *
 * @param logLikelihoods summed log-probability of each choice
 * @param predicted      the acc prediction: arg-max of {@code logLikelihoods}
 * @param predictedNorm  the acc_norm prediction (arg-max of log-likelihood per character), or -1 when the task
 *                       reports no acc_norm
 * @param label          the gold choice
 */
public record ExampleOutcome(String id, double[] logLikelihoods, int predicted, int predictedNorm, int label) {
    public ExampleOutcome {
        logLikelihoods = logLikelihoods.clone();
    }

    @Override
    public double[] logLikelihoods() {
        return logLikelihoods.clone();
    }

    public boolean correct() {
        return predicted == label;
    }

    public boolean correctNorm() {
        return predictedNorm == label;
    }

    /** Whether the prediction {@code metric} scores was right. */
    public boolean correct(Metric metric) {
        return metric == Metric.ACC ? correct() : correctNorm();
    }
}
