package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The aggregation logic of acc, acc_norm and WinoGrande's partial scoring, on a scorer with given log-likelihoods. */
class TaskEvaluatorTest {

    /** A scorer that answers from a table of (context, continuation) → log-likelihood and logs its requests. */
    private static final class TableScorer implements ContinuationScorer {
        private final Map<String, Double> table = new HashMap<>();
        private final List<String> requests = new ArrayList<>();

        TableScorer put(String context, String continuation, double logLikelihood) {
            table.put(context + "\u0000" + continuation, logLikelihood);
            return this;
        }

        @Override
        public double[] logLikelihoods(String context, List<String> continuations) {
            requests.add(context);
            double[] out = new double[continuations.size()];
            for (int i = 0; i < out.length; i++) {
                Double v = table.get(context + "\u0000" + continuations.get(i));
                if (v == null) {
                    throw new AssertionError("unexpected request: " + context + " / " + continuations.get(i));
                }
                out[i] = v;
            }
            return out;
        }
    }

    private static McExample standard(Task task, String id, String context, int label, String... choices) {
        List<Choice> list = new ArrayList<>();
        for (String c : choices) {
            list.add(Choice.of(context, " ", c));
        }
        return new McExample(task, id, list, label, null);
    }

    @Test
    void accTakesTheLargestSumAndAccNormTheLargestPerCharacter() {
        // "a" (1 char): -2.0 → -2.0/char; "bbbbbbbbbb" (10 chars): -5.0 → -0.5/char; "cc": -3.0 → -1.5/char.
        McExample e = standard(Task.ARC_CHALLENGE, "q1", "Question: ?\nAnswer:", 1, "a", "bbbbbbbbbb", "cc");
        TableScorer scorer = new TableScorer()
                .put("Question: ?\nAnswer:", " a", -2.0)
                .put("Question: ?\nAnswer:", " bbbbbbbbbb", -5.0)
                .put("Question: ?\nAnswer:", " cc", -3.0);
        ExampleOutcome o = TaskEvaluator.score(e, scorer);
        assertArrayEquals(new double[] {-2.0, -5.0, -3.0}, o.logLikelihoods());
        assertEquals(0, o.predicted());
        assertEquals(1, o.predictedNorm());
        assertEquals(false, o.correct());
        assertEquals(true, o.correctNorm());
        assertEquals(List.of("Question: ?\nAnswer:"), scorer.requests, "one request for a shared context");
    }

    @Test
    void tasksWithoutAccNormDoNotComputeIt() {
        McExample e = standard(Task.BOOLQ, "b", "P\nQuestion: q?\nAnswer:", 1, "no", "yes");
        TableScorer scorer = new TableScorer().put("P\nQuestion: q?\nAnswer:", " no", -1.25)
                .put("P\nQuestion: q?\nAnswer:", " yes", -0.75);
        ExampleOutcome o = TaskEvaluator.score(e, scorer);
        assertEquals(1, o.predicted());
        assertEquals(-1, o.predictedNorm());
        TaskResult r = TaskEvaluator.evaluate(Task.BOOLQ, List.of(e), scorer, ProgressListener.NONE, null);
        assertEquals(1.0, r.acc());
        assertTrue(Double.isNaN(r.accNorm()));
    }

    @Test
    void winograndeScoresTheContinuationAfterEachContext() {
        McExample e = new McExample(Task.WINOGRANDE, "w", List.of(
                new Choice("Sarah was better than Maria so Sarah", " always got the easier cases.", 36),
                new Choice("Sarah was better than Maria so Maria", " always got the easier cases.", 36)), 1, null);
        TableScorer scorer = new TableScorer()
                .put("Sarah was better than Maria so Sarah", " always got the easier cases.", -9.5)
                .put("Sarah was better than Maria so Maria", " always got the easier cases.", -7.25);
        ExampleOutcome o = TaskEvaluator.score(e, scorer);
        assertArrayEquals(new double[] {-9.5, -7.25}, o.logLikelihoods());
        assertEquals(1, o.predicted());
        assertEquals(2, scorer.requests.size(), "one request per option's context");
    }

    @Test
    void tiesGoToTheFirstChoiceAsNumpyArgmax() {
        McExample e = standard(Task.PIQA, "t", "Question: g\nAnswer:", 1, "xx", "yy");
        TableScorer scorer = new TableScorer().put("Question: g\nAnswer:", " xx", -4.0)
                .put("Question: g\nAnswer:", " yy", -4.0);
        ExampleOutcome o = TaskEvaluator.score(e, scorer);
        assertEquals(0, o.predicted());
        assertEquals(0, o.predictedNorm());
        assertEquals(1, Stats.argmax(new double[] {1, Double.NaN, Double.NaN}), "the first NaN wins");
        assertEquals(1, Stats.argmax(new double[] {1, Double.NaN, 5}));
        assertEquals(2, Stats.argmax(new double[] {-3, -2, -1}));
    }

    @Test
    void taskResultCountsBothMetricsAndReportsProgress() {
        // Four kinds of example, label 1 each: {short choice, long choice, ll0, ll1, acc right, acc_norm right}.
        //   A: "a"/"bbbb", -4/-3:  acc -3 > -4 right; norm -0.75 > -4 right.
        //   B: "aaaa"/"b", -4/-2:  acc -2 > -4 right; norm -1 > -2 picks 0, wrong.
        //   C: "a"/"bbbb", -5/-8:  acc picks 0, wrong; norm -2 > -5 right.
        //   D: "a"/"bbbb", -1/-20: both wrong.
        Object[][] kinds = {
                {"a", "bbbb", -4.0, -3.0, 3}, {"aaaa", "b", -4.0, -2.0, 2},
                {"a", "bbbb", -5.0, -8.0, 4}, {"a", "bbbb", -1.0, -20.0, 3}};
        TableScorer scorer = new TableScorer();
        List<McExample> examples = new ArrayList<>();
        int i = 0;
        for (Object[] kind : kinds) {
            for (int copy = 0; copy < (int) kind[4]; copy++, i++) {
                String ctx = "Question: " + i + "\nAnswer:";
                examples.add(standard(Task.HELLASWAG, "h" + i, ctx, 1, (String) kind[0], (String) kind[1]));
                scorer.put(ctx, " " + kind[0], (double) kind[2]).put(ctx, " " + kind[1], (double) kind[3]);
            }
        }
        long[] progress = {0};
        List<ExampleOutcome> outcomes = new ArrayList<>();
        TaskResult r = TaskEvaluator.evaluate(Task.HELLASWAG, examples, scorer, units -> progress[0] += units,
                outcomes::add);
        assertEquals(12, r.n());
        assertEquals(3 + 2, r.correct());
        assertEquals(3 + 4, r.correctNorm());
        assertEquals(12, progress[0]);
        assertEquals(12, outcomes.size());
        assertEquals(5 / 12.0, r.acc());
        assertEquals(7 / 12.0, r.accNorm());
        assertEquals(r.accNorm(), r.headline(), "HellaSwag's headline metric is acc_norm");
        assertEquals(Stats.binomialStderr(7, 12), r.headlineStderr());
    }

    /** lm-eval's mean_stderr: the sample standard deviation over sqrt(n), computed directly on the 0/1 values. */
    @Property(tries = 300)
    void stderrIsTheSampleStandardErrorOfTheMean(@ForAll @Size(min = 2, max = 400) List<Boolean> outcomes) {
        int n = outcomes.size();
        double mean = outcomes.stream().mapToDouble(b -> b ? 1 : 0).average().orElseThrow();
        double squares = outcomes.stream().mapToDouble(b -> (b ? 1 : 0) - mean).map(d -> d * d).sum();
        double expected = Math.sqrt(squares / (n - 1)) / Math.sqrt(n);
        long correct = outcomes.stream().filter(b -> b).count();
        assertEquals(expected, Stats.binomialStderr(correct, n), 1e-12);
    }

    @Property(tries = 100)
    void stderrMatchesTheClosedForm(@ForAll @IntRange(min = 2, max = 100000) int n,
                                    @ForAll @IntRange(min = 0, max = 100000) int c) {
        int correct = Math.min(c, n);
        double p = correct / (double) n;
        assertEquals(Math.sqrt(p * (1 - p) / (n - 1)), Stats.binomialStderr(correct, n), 1e-15);
    }

    @Test
    void stderrIsUndefinedForOneExample() {
        assertTrue(Double.isNaN(Stats.binomialStderr(1, 1)));
        assertThrows(IllegalArgumentException.class, () -> Stats.binomialStderr(3, 2));
    }

    @Test
    void aScorerReturningTheWrongCountIsAnError() {
        McExample e = standard(Task.PIQA, "t", "c", 0, "x", "y");
        assertThrows(IllegalStateException.class, () -> TaskEvaluator.score(e, (ctx, conts) -> new double[1]));
    }
}
