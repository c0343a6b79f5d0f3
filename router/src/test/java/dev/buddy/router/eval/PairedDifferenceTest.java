package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class PairedDifferenceTest {

    @Test
    void aHandWorkedTaskGivesTheSampleErrorOfTheDifferences() {
        // d = 0, +1, -1, 0: mean 0, sample variance 2/3, error sqrt(2/3 / 4)
        PairedDifference d = PairedDifference.between(config("a", "0.5", Map.of(Task.BOOLQ, "1100")),
                config("b", "0.5", Map.of(Task.BOOLQ, "1010")));
        assertEquals(0.0, d.difference(), 1e-12);
        assertEquals(100 * Math.sqrt(2.0 / 3 / 4), d.pairedStderr(), 1e-9);
        // each side alone: 2 of 4 right, sqrt(0.25 / 3)
        assertEquals(100 * Math.sqrt(2 * 0.25 / 3), d.unpairedStderr(), 1e-9);
    }

    @Test
    void identicalAnswersDifferByNothingWithNoError() {
        ConfigurationResult a = config("a", "0.75", Map.of(Task.BOOLQ, "10110", Task.WINOGRANDE, "01101"));
        ConfigurationResult b = config("b", "0.75", Map.of(Task.BOOLQ, "10110", Task.WINOGRANDE, "01101"));
        PairedDifference d = PairedDifference.between(a, b);
        assertEquals(0.0, d.difference(), 0.0);
        assertEquals(0.0, d.pairedStderr(), 0.0);
        assertTrue(d.unpairedStderr() > 10, "two independent errors of a 5-example task: " + d);
    }

    @Test
    void theFirstMethodOfEachBudgetIsComparedWithTheRestAndResultsWithoutOutcomesAreLeftOut() {
        ConfigurationResult dense = config("dense", "1.0", Map.of(Task.BOOLQ, "1111"));
        ConfigurationResult a = config("a", "0.5", Map.of(Task.BOOLQ, "1100"));
        ConfigurationResult counted = new ConfigurationResult("c", "0.5", 0.5, 0.5,
                Map.of(Task.BOOLQ, new TaskResult(Task.BOOLQ, 4, 1, -1)), Map.of());
        ConfigurationResult b = config("b", "0.5", Map.of(Task.BOOLQ, "0000"));
        List<PairedDifference> out = PairedDifference.of(List.of(dense, a, counted, b));
        assertEquals(1, out.size());
        assertEquals("a", out.getFirst().method());
        assertEquals("b", out.getFirst().reference());
        assertEquals(50.0, out.getFirst().difference(), 1e-12);
        assertNull(PairedDifference.between(a, counted), "no outcomes on one side: nothing to pair");
    }

    @Test
    void outcomesMustMatchTheCounts() {
        assertThrows(IllegalArgumentException.class, () -> new TaskResult(Task.BOOLQ, 4, 3, -1, "1100"));
        assertThrows(IllegalArgumentException.class, () -> new TaskResult(Task.BOOLQ, 4, 2, -1, "110"));
        assertThrows(IllegalArgumentException.class, () -> new TaskResult(Task.BOOLQ, 4, 2, -1, "11x0"));
        // PIQA's headline is acc_norm: the outcomes count correctNorm
        assertEquals("0111", new TaskResult(Task.PIQA, 4, 1, 3, "0111").outcomes());
    }

    @Property(tries = 200)
    void theDifferenceIsTheDifferenceOfMeansAndItsErrorTheSpreadOfPerExampleDifferences(
            @ForAll @IntRange(min = 2, max = 40) int n, @ForAll long seed) {
        Random random = new Random(seed);
        Map<Task, String> first = new EnumMap<>(Task.class);
        Map<Task, String> second = new EnumMap<>(Task.class);
        for (Task t : List.of(Task.BOOLQ, Task.WINOGRANDE, Task.PIQA)) {
            StringBuilder a = new StringBuilder();
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < n; i++) {
                boolean right = random.nextBoolean();
                a.append(right ? '1' : '0');
                // mostly the same answer, as two pruned models of one base mostly are
                b.append((random.nextInt(4) == 0) != right ? '1' : '0');
            }
            first.put(t, a.toString());
            second.put(t, b.toString());
        }
        ConfigurationResult a = config("a", "0.625", first);
        ConfigurationResult b = config("b", "0.625", second);
        PairedDifference d = PairedDifference.between(a, b);
        assertEquals(a.meanAccuracyPercent() - b.meanAccuracyPercent(), d.difference(), 1e-9);
        double variances = 0;
        for (Task t : first.keySet()) {
            double[] diff = new double[n];
            double mean = 0;
            for (int i = 0; i < n; i++) {
                diff[i] = first.get(t).charAt(i) - second.get(t).charAt(i);
                mean += diff[i] / n;
            }
            double ss = 0;
            for (double v : diff) {
                ss += (v - mean) * (v - mean);
            }
            variances += ss / (n - 1) / n;
            assertEquals(100 * mean, d.tasks().get(t), 1e-9);
        }
        assertEquals(100 * Math.sqrt(variances) / 3, d.pairedStderr(), 1e-9);
    }

    private static ConfigurationResult config(String method, String budget, Map<Task, String> outcomes) {
        Map<Task, TaskResult> tasks = new EnumMap<>(Task.class);
        outcomes.forEach((t, o) -> {
            int right = (int) o.chars().filter(c -> c == '1').count();
            tasks.put(t, t.reportsAccNorm() ? new TaskResult(t, o.length(), 0, right, o)
                    : new TaskResult(t, o.length(), right, -1, o));
        });
        return new ConfigurationResult(method, budget, 0.5, 0.5, tasks, Map.of());
    }
}
