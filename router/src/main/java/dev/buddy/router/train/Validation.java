package dev.buddy.router.train;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Held-out checkpoint selection for {@code train-router --val}: every {@code every} steps (and at the start and the
 * end) the router is scored on held-out text at each of {@code budgets}, and the best so far is written beside the
 * output ({@link #bestPathFor}).
 *
 * <p>The score is the held-out perplexity averaged over the budgets geometrically, {@code exp(mean_b NLL_b)}: an
 * arithmetic mean of perplexities would be decided by the smallest budget alone, whose perplexity is an order of
 * magnitude above the others'. Each window is routed once from its layer-0 features, as training routes
 * ({@link RoutedEvaluation}); the evaluation's causal per-token rerouting is not what is measured here.
 *
 * @param data    held-out sequences (never trained on)
 * @param budgets budgets to score, each in (0, 1]
 * @param every   steps between scorings, at least 1
 */
public record Validation(TrainingData data, double[] budgets, int every) {
    public Validation {
        budgets = budgets.clone();
        if (budgets.length == 0 || every < 1) {
            throw new InvalidTrainingOptionException("validation needs at least one budget and an interval of at"
                    + " least 1 step; got " + budgets.length + " budgets, every " + every);
        }
        for (double b : budgets) {
            if (!(b > 0 && b <= 1)) {
                throw new InvalidTrainingOptionException("validation budget " + b + " is outside (0, 1]");
            }
        }
    }

    @Override
    public double[] budgets() {
        return budgets.clone();
    }

    /** The training budgets below 1: at full depth every router runs the same blocks, so it says nothing. */
    public static double[] routedBudgets(double[] trainingBudgets) {
        double[] b = Arrays.stream(trainingBudgets).filter(x -> x < 1).toArray();
        return b.length > 0 ? b : trainingBudgets.clone();
    }

    /** Where the best router goes: {@code R.gguf} → {@code R.best.gguf}. */
    public static Path bestPathFor(Path output) {
        String name = output.getFileName().toString();
        String stem = name.endsWith(".gguf") ? name.substring(0, name.length() - 5) : name;
        return output.resolveSibling(stem + ".best.gguf");
    }

    /**
     * One scoring.
     *
     * @param step       optimiser steps done when scored (0: the start)
     * @param perplexity held-out perplexity per budget, in {@link #budgets()} order
     * @param score      {@code exp(mean NLL over the budgets)}, lower is better
     * @param best       whether this scoring became the best so far (and was written)
     */
    public record Point(int step, double[] perplexity, double score, boolean best) {
        public Point {
            perplexity = perplexity.clone();
        }

        @Override
        public double[] perplexity() {
            return perplexity.clone();
        }

        /** One line for the log: the step, each budget's perplexity, the score. */
        public String describe(double[] budgets) {
            StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "validation at step %d:", step));
            for (int i = 0; i < budgets.length; i++) {
                s.append(String.format(Locale.ROOT, " b=%s ppl %.3f;", budgets[i], perplexity[i]));
            }
            s.append(String.format(Locale.ROOT, " geometric mean %.4f%s", score, best ? " (best so far)" : ""));
            return s.toString();
        }
    }
}
