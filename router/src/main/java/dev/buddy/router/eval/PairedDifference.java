package dev.buddy.router.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One method's mean accuracy minus a reference's on the same examples, with the paired standard error. Two methods
 * scored on the same questions share most of their right and wrong answers, so the error of their difference is far
 * smaller than the two independent errors combined, which is what comparing two "± stderr" columns implies.
 *
 * <p>Per task, over its n examples, {@code d_i = right_i(method) − right_i(reference)} ∈ {−1, 0, 1} (headline
 * metric); the task's difference is the mean of d and its error the sample standard deviation of d over
 * {@code sqrt(n)} (lm-eval's {@code mean_stderr} applied to d). The mean over T tasks is the mean of the task
 * differences, with error {@code sqrt(Σ se_t²)/T}.
 *
 * @param method       the compared method
 * @param reference    the method it is compared with
 * @param budget       the budget both ran at
 * @param tasks        the tasks both have outcomes for, with each task's difference in points
 * @param difference   mean over those tasks, in points
 * @param pairedStderr its paired standard error, in points
 * @param unpairedStderr the error the two methods' own standard errors imply if treated as independent, in points
 */
public record PairedDifference(String method, String reference, String budget, Map<Task, Double> tasks,
                               double difference, double pairedStderr, double unpairedStderr) {
    public PairedDifference {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(budget, "budget");
        tasks = Collections.unmodifiableMap(new LinkedHashMap<>(tasks));
    }

    /**
     * The first configuration of each budget that has per-example outcomes (in a report's order, BUDDY's when it was
     * evaluated) minus every later one of that budget, where both have outcomes of the same length for at least one
     * task; in the order of {@code results}.
     */
    static List<PairedDifference> of(List<ConfigurationResult> results) {
        Map<String, ConfigurationResult> firsts = new LinkedHashMap<>();
        List<PairedDifference> out = new ArrayList<>();
        for (ConfigurationResult r : results) {
            if (r.tasks().values().stream().allMatch(t -> t.outcomes().isEmpty())) {
                continue;
            }
            ConfigurationResult first = firsts.putIfAbsent(r.budget(), r);
            if (first != null) {
                PairedDifference d = between(first, r);
                if (d != null) {
                    out.add(d);
                }
            }
        }
        return out;
    }

    /** {@code method} minus {@code reference} over the tasks both have same-length outcomes for; null if none. */
    static PairedDifference between(ConfigurationResult method, ConfigurationResult reference) {
        Map<Task, Double> tasks = new LinkedHashMap<>();
        double sum = 0;
        double pairedVariance = 0;
        double unpairedVariance = 0;
        for (Map.Entry<Task, TaskResult> e : method.tasks().entrySet()) {
            TaskResult a = e.getValue();
            TaskResult b = reference.tasks().get(e.getKey());
            if (b == null || a.outcomes().isEmpty() || a.outcomes().length() != b.outcomes().length()) {
                continue;
            }
            int n = a.n();
            double mean = 0;
            double squares = 0;
            for (int i = 0; i < n; i++) {
                int d = (a.outcomes().charAt(i) - '0') - (b.outcomes().charAt(i) - '0');
                mean += d;
                squares += d * d;
            }
            mean /= n;
            double variance = n < 2 ? Double.NaN : (squares - n * mean * mean) / (n - 1);
            tasks.put(e.getKey(), 100 * mean);
            sum += mean;
            pairedVariance += variance / n;
            unpairedVariance += square(a.headlineStderr()) + square(b.headlineStderr());
        }
        if (tasks.isEmpty()) {
            return null;
        }
        int count = tasks.size();
        return new PairedDifference(method.method(), reference.method(), method.budget(), tasks, 100 * sum / count,
                100 * Math.sqrt(pairedVariance) / count, 100 * Math.sqrt(unpairedVariance) / count);
    }

    private static double square(double v) {
        return v * v;
    }
}
