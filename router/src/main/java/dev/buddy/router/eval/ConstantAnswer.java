package dev.buddy.router.eval;

import java.util.List;
import java.util.Objects;

/**
 * The accuracy of always giving the same answer: the choice at the position that is most often gold among the
 * examples evaluated: what a method scores by a preference alone. On the first 20 BoolQ questions
 * (choices {@code [no, yes]}, 17 of them "yes") always answering "yes" scores 85%, and a pruned model that tips
 * from "no" to "yes" moves the 8-task mean by 8 points without reading a passage (RESULTS.md, session 21).
 *
 * @param task     the task
 * @param n        examples evaluated
 * @param position the gold position chosen (0-based; ties go to the lower position)
 * @param text     that position's choice text when every example has the same one there (BoolQ's "yes"), else null
 *                 (always null for WinoGrande, whose choices differ in their context, not their text)
 * @param accuracy the share of examples whose gold is at {@code position}, in [0, 1]
 */
public record ConstantAnswer(Task task, int n, int position, String text, double accuracy) {
    public ConstantAnswer {
        Objects.requireNonNull(task, "task");
    }

    /**
     * The constant-answer baseline of {@code examples}, all of {@code task}.
     *
     * @throws IllegalArgumentException when there are no examples
     */
    public static ConstantAnswer of(Task task, List<McExample> examples) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("no examples of " + task.key());
        }
        int positions = 0;
        for (McExample e : examples) {
            positions = Math.max(positions, e.choices().size());
        }
        int[] gold = new int[positions];
        for (McExample e : examples) {
            gold[e.label()]++;
        }
        int best = 0;
        for (int p = 1; p < positions; p++) {
            if (gold[p] > gold[best]) {
                best = p;
            }
        }
        String text = task.format() == Task.Format.PARTIAL ? null : sharedText(examples, best);
        return new ConstantAnswer(task, examples.size(), best, text, (double) gold[best] / examples.size());
    }

    /** The continuation at {@code position} without its delimiter, if every example has the same one; else null. */
    private static String sharedText(List<McExample> examples, int position) {
        String text = null;
        for (McExample e : examples) {
            if (position >= e.choices().size()) {
                return null;
            }
            String t = e.choices().get(position).continuation().strip();
            if (text == null) {
                text = t;
            } else if (!text.equals(t)) {
                return null;
            }
        }
        return text;
    }
}
