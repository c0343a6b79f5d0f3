package dev.buddy.router.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Scores multiple-choice examples with a {@link ContinuationScorer} and aggregates them as lm-evaluation-harness
 * does: acc is right when the arg-max of the summed log-probabilities is the gold choice, acc_norm when the arg-max of
 * log-probability divided by the choice's character length is (only for tasks whose lm-eval config lists acc_norm).
 */
public final class TaskEvaluator {
    private TaskEvaluator() {}

    /**
     * Scores one example. Choices that share a context are scored in one request, so an engine-backed scorer prefills
     * that context once; WinoGrande's two contexts make two requests.
     */
    public static ExampleOutcome score(McExample example, ContinuationScorer scorer) {
        List<Choice> choices = example.choices();
        double[] lls = new double[choices.size()];
        Map<String, List<Integer>> byContext = new LinkedHashMap<>();
        for (int i = 0; i < choices.size(); i++) {
            byContext.computeIfAbsent(choices.get(i).context(), c -> new ArrayList<>()).add(i);
        }
        for (Map.Entry<String, List<Integer>> group : byContext.entrySet()) {
            List<Integer> indices = group.getValue();
            List<String> continuations = new ArrayList<>(indices.size());
            for (int i : indices) {
                continuations.add(choices.get(i).continuation());
            }
            double[] scores = scorer.logLikelihoods(group.getKey(), continuations);
            if (scores.length != indices.size()) {
                throw new IllegalStateException("scorer returned " + scores.length + " log-likelihoods for "
                        + indices.size() + " continuations");
            }
            for (int j = 0; j < indices.size(); j++) {
                lls[indices.get(j)] = scores[j];
            }
        }
        int predicted = Stats.argmax(lls);
        int predictedNorm = -1;
        if (example.task().reportsAccNorm()) {
            double[] perChar = new double[lls.length];
            for (int i = 0; i < lls.length; i++) {
                // Plain IEEE division like numpy's lls / completion_len (an empty choice would give ±inf).
                perChar[i] = lls[i] / choices.get(i).normLength();
            }
            predictedNorm = Stats.argmax(perChar);
        }
        return new ExampleOutcome(example.id(), lls, predicted, predictedNorm, example.label());
    }

    /**
     * Scores every example of one task.
     *
     * @param progress told after each example
     * @param outcomes receives each example's outcome (for per-example logs); may be null
     */
    public static TaskResult evaluate(Task task, List<McExample> examples, ContinuationScorer scorer,
            ProgressListener progress, Consumer<ExampleOutcome> outcomes) {
        return evaluate(task, examples, List.of(scorer), progress, outcomes);
    }

    /**
     * Scores every example of one task, several at once: example i goes to whichever scorer is free (each scorer on
     * its own thread, driving its own sequence state), and the outcomes are tallied in example order, so the result
     * is the one a single scorer gives.
     *
     * @param progress told after each example (from the scorers' threads, one at a time)
     * @param outcomes receives each example's outcome in example order, after all are scored; may be null
     */
    public static TaskResult evaluate(Task task, List<McExample> examples, List<? extends ContinuationScorer> scorers,
            ProgressListener progress, Consumer<ExampleOutcome> outcomes) {
        if (examples.isEmpty()) {
            throw new InvalidEvalOptionException("task " + task.key() + " has no examples to evaluate");
        }
        for (McExample example : examples) {
            if (example.task() != task) {
                throw new IllegalArgumentException("example " + example.id() + " belongs to " + example.task().key()
                        + ", not " + task.key());
            }
        }
        ExampleOutcome[] scored = new ExampleOutcome[examples.size()];
        ProgressListener shared = IndexedWork.shared(progress);
        IndexedWork.run(examples.size(), scorers.size(), (worker, i) -> {
            scored[i] = score(examples.get(i), scorers.get(worker));
            shared.advance(1);
        });
        int correct = 0;
        int correctNorm = 0;
        StringBuilder headline = new StringBuilder(examples.size());
        for (ExampleOutcome outcome : scored) {
            correct += outcome.correct() ? 1 : 0;
            correctNorm += outcome.correctNorm() ? 1 : 0;
            headline.append(outcome.correct(task.headline()) ? '1' : '0');
            if (outcomes != null) {
                outcomes.accept(outcome);
            }
        }
        return new TaskResult(task, examples.size(), correct, task.reportsAccNorm() ? correctNorm : -1,
                headline.toString());
    }
}
