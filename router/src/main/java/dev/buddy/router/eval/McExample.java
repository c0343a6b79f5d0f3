package dev.buddy.router.eval;

import java.util.List;
import java.util.Objects;

/**
 * One multiple-choice question, ready to score.
 *
 * @param task    the task it belongs to
 * @param id      the dataset's id
 * @param choices the options in file order; for a {@link Task.Format#PARTIAL} task each has its own context and
 *                they share the continuation
 * @param label   index of the gold choice
 * @param subject MMLU's subject; null for other tasks
 */
public record McExample(Task task, String id, List<Choice> choices, int label, String subject) {
    public McExample {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(id, "id");
        choices = List.copyOf(choices);
        if (choices.size() < 2) {
            throw new IllegalArgumentException("example " + id + " has " + choices.size() + " choices; need >= 2");
        }
        if (label < 0 || label >= choices.size()) {
            throw new IllegalArgumentException("example " + id + " has label " + label + " outside 0.."
                    + (choices.size() - 1));
        }
    }

    /** True when every choice has the same context, so one prefill serves them all. */
    public boolean sharedContext() {
        String first = choices.getFirst().context();
        for (Choice c : choices) {
            if (!c.context().equals(first)) {
                return false;
            }
        }
        return true;
    }
}
