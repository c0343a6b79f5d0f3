package dev.buddy.router.eval;

import java.util.Objects;

/**
 * A task's accuracy over the examples evaluated.
 *
 * @param n           examples evaluated
 * @param correct     examples whose acc prediction was right
 * @param correctNorm examples whose acc_norm prediction was right; -1 when the task reports no acc_norm
 * @param outcomes    the headline metric per example, in evaluation order, {@code '1'} right and {@code '0'} wrong,
 *                    so two methods run on the same examples can be compared pairwise ({@link PairedDifference});
 *                    empty when not recorded
 */
public record TaskResult(Task task, int n, int correct, int correctNorm, String outcomes) {
    public TaskResult {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(outcomes, "outcomes");
        if (n < 1 || correct < 0 || correct > n || correctNorm < -1 || correctNorm > n) {
            throw new IllegalArgumentException("inconsistent counts: n " + n + ", correct " + correct
                    + ", correctNorm " + correctNorm);
        }
        if ((correctNorm >= 0) != task.reportsAccNorm()) {
            throw new IllegalArgumentException(task.key() + (task.reportsAccNorm() ? " needs" : " has no")
                    + " acc_norm");
        }
        if (!outcomes.isEmpty()) {
            long right = outcomes.chars().filter(c -> c == '1').count();
            int headline = count(task.headline(), correct, correctNorm);
            if (outcomes.length() != n || outcomes.chars().anyMatch(c -> c != '0' && c != '1') || right != headline) {
                throw new IllegalArgumentException("outcomes of " + task.key() + " do not match " + headline
                        + " right of " + n);
            }
        }
    }

    /** Counts alone, the per-example outcomes not recorded. */
    public TaskResult(Task task, int n, int correct, int correctNorm) {
        this(task, n, correct, correctNorm, "");
    }

    private static int count(Metric metric, int correct, int correctNorm) {
        return metric == Metric.ACC ? correct : correctNorm;
    }

    /** acc as a fraction in [0, 1]. */
    public double acc() {
        return correct / (double) n;
    }

    public double accStderr() {
        return Stats.binomialStderr(correct, n);
    }

    /** acc_norm as a fraction, NaN when the task has none. */
    public double accNorm() {
        return correctNorm < 0 ? Double.NaN : correctNorm / (double) n;
    }

    public double accNormStderr() {
        return correctNorm < 0 ? Double.NaN : Stats.binomialStderr(correctNorm, n);
    }

    /** A metric as a fraction, NaN if the task does not report it. */
    public double value(Metric metric) {
        return metric == Metric.ACC ? acc() : accNorm();
    }

    public double stderr(Metric metric) {
        return metric == Metric.ACC ? accStderr() : accNormStderr();
    }

    /** The task's headline metric (the one averaged into the mean accuracy), as a fraction. */
    public double headline() {
        return value(task.headline());
    }

    public double headlineStderr() {
        return stderr(task.headline());
    }
}
