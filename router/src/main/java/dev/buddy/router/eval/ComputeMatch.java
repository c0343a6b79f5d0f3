package dev.buddy.router.eval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Issue #6's target for the Budget Predictor, stated in the paper's terms: at the same average compute, {@code auto}
 * is at least as accurate as the fixed budgets. For one method evaluated at {@code auto} and at fixed budgets on the
 * same tasks, the fixed-budget curve (mean accuracy against the fraction of blocks executed, the dense model at 1.0
 * when it was evaluated too: a router at k = L − 2 runs every block) is interpolated linearly at auto's executed
 * fraction, between the two measured budgets around it. Outside the measured range nothing is extrapolated.
 *
 * <p>Standard errors treat the configurations as independent samples (they share their examples, so the true error
 * of the difference is smaller): a mean's is {@code sqrt(Σ se_t²)/T}; the interpolated one's
 * {@code sqrt(((1−w)·se_lo)² + (w·se_hi)²)}.
 *
 * @param method          the method (its auto and fixed-budget results share the name)
 * @param autoFraction    auto's executed fraction
 * @param autoAccuracy    auto's mean accuracy in percent
 * @param autoStderr      its standard error, in points
 * @param lowerBudget     the fixed budget just below (or at) auto's compute, or null when none was measured
 * @param upperBudget     the fixed budget just above (or at) it, or null when none was measured
 * @param matchedAccuracy the fixed-budget curve's mean accuracy at auto's compute (NaN outside the measured range)
 * @param matchedStderr   its standard error (NaN outside the measured range)
 */
public record ComputeMatch(String method, double autoFraction, double autoAccuracy, double autoStderr,
                           String lowerBudget, String upperBudget, double matchedAccuracy, double matchedStderr) {
    public ComputeMatch {
        Objects.requireNonNull(method, "method");
    }

    /** auto − the fixed budgets at the same compute, in points (NaN outside the measured range). */
    public double difference() {
        return autoAccuracy - matchedAccuracy;
    }

    /** Standard error of {@link #difference()}. */
    public double differenceStderr() {
        return Math.hypot(autoStderr, matchedStderr);
    }

    /** Whether auto's compute lies inside the measured fixed budgets. */
    public boolean matched() {
        return Double.isFinite(matchedAccuracy);
    }

    /** One comparison per method that has an auto result and fixed-budget results on the same tasks. */
    static List<ComputeMatch> of(List<ConfigurationResult> results) {
        List<ComputeMatch> out = new ArrayList<>();
        ConfigurationResult dense = results.stream().filter(r -> r.method().equals("dense") && !r.tasks().isEmpty())
                .findFirst().orElse(null);
        for (ConfigurationResult auto : results) {
            if (!auto.budget().equals(EvalConfiguration.AUTO) || auto.tasks().isEmpty()) {
                continue;
            }
            List<ConfigurationResult> curve = new ArrayList<>();
            for (ConfigurationResult r : results) {
                if (r.method().equals(auto.method()) && !r.budget().equals(EvalConfiguration.AUTO)
                        && r.tasks().keySet().equals(auto.tasks().keySet())) {
                    curve.add(r);
                }
            }
            if (curve.isEmpty()) {
                continue;
            }
            if (dense != null && dense.tasks().keySet().equals(auto.tasks().keySet())
                    && curve.stream().noneMatch(r -> r.computeFraction() >= 1.0)) {
                curve.add(dense);
            }
            curve.sort(Comparator.comparingDouble(ConfigurationResult::computeFraction));
            double x = auto.computeFraction();
            ConfigurationResult lower = null;
            ConfigurationResult upper = null;
            for (ConfigurationResult r : curve) {
                if (r.computeFraction() <= x) {
                    lower = r;
                }
                if (r.computeFraction() >= x && upper == null) {
                    upper = r;
                }
            }
            double matched = Double.NaN;
            double matchedSe = Double.NaN;
            if (lower != null && upper != null) {
                double span = upper.computeFraction() - lower.computeFraction();
                double w = span > 0 ? (x - lower.computeFraction()) / span : 0;
                matched = (1 - w) * lower.meanAccuracyPercent() + w * upper.meanAccuracyPercent();
                matchedSe = Math.hypot((1 - w) * meanStderr(lower), w * meanStderr(upper));
            }
            out.add(new ComputeMatch(auto.method(), x, auto.meanAccuracyPercent(), meanStderr(auto),
                    lower == null ? null : label(lower), upper == null ? null : label(upper), matched, matchedSe));
        }
        return out;
    }

    private static String label(ConfigurationResult r) {
        return r.method().equals("dense") ? "dense" : r.budget();
    }

    /** The standard error of a mean accuracy over T tasks, in points: {@code sqrt(Σ se_t²)/T}. */
    static double meanStderr(ConfigurationResult r) {
        double sum = 0;
        for (TaskResult t : r.tasks().values()) {
            double se = 100 * t.headlineStderr();
            sum += se * se;
        }
        return Math.sqrt(sum) / r.tasks().size();
    }
}
