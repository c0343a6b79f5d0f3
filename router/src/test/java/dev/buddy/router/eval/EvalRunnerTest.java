package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.router.Budget;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.Provenance;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.StaticPlan;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class EvalRunnerTest {
    private static final int LAYERS = 10;

    private static List<McExample> examples(Task task, int n) {
        List<McExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String ctx = "Question: q" + i + "\nAnswer:";
            out.add(new McExample(task, task.key() + i, List.of(Choice.of(ctx, " ", "yes" + i),
                    Choice.of(ctx, " ", "no"), Choice.of(ctx, " ", "maybe so")), i % 3, null));
        }
        return out;
    }

    private static DynamicRouter randomRouter() {
        return RandomRouter.create(LAYERS, 4, "cd".repeat(32), "llama", 3, FeatureSource.VALUE, Pooling.MEAN, false);
    }

    private static StaticPlan plan() {
        return StaticPlan.fromScores("plan", new float[] {3f, 1f, 4f, 1f, 5f, 9f, 2f, 6f},
                new Provenance("cd".repeat(32), "llama", false, new float[0], "plan", "none"));
    }

    /** n tokens of the toy vocabulary, {@code 3 + (i * step) mod 57}. */
    private static int[] stream(int n, int step) {
        int[] stream = new int[n];
        for (int i = 0; i < n; i++) {
            stream[i] = 3 + (i * step) % 57;
        }
        return stream;
    }

    @Test
    void everyConfigurationGetsEveryTaskAndPerplexityText() {
        ToyCausalModel model = new ToyCausalModel(60, LAYERS, 4, 40, 16);
        DynamicRouter router = randomRouter();
        int[] stream = stream(90, 11);
        EvalRunner.Inputs inputs = new EvalRunner.Inputs(
                Map.of(Task.PIQA, examples(Task.PIQA, 7), Task.BOOLQ, examples(Task.BOOLQ, 5)),
                Map.of(PerplexityCorpus.TINYSTORIES, stream), 32, 16);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        EvalRunner runner = new EvalRunner(model, new ToyCausalModel.Encoder(60), RoutingMode.PER_TOKEN, false,
                new PrintStream(err, true, StandardCharsets.UTF_8));
        ConfigurationResult dense = runner.evaluate(EvalConfiguration.dense(), inputs);
        ConfigurationResult half = runner.evaluate(EvalConfiguration.routed("buddy", router, Budget.drop(4), LAYERS),
                inputs);
        assertEquals(1.0, dense.executedFraction());
        assertEquals(0.6, half.executedFraction(), 1e-12, "drop 4 of 10 blocks");
        assertEquals("0.6", half.budget());
        for (ConfigurationResult r : List.of(dense, half)) {
            assertEquals(7, r.tasks().get(Task.PIQA).n());
            assertEquals(5, r.tasks().get(Task.BOOLQ).n());
            assertEquals(89, r.perplexities().get(PerplexityCorpus.TINYSTORIES).tokensScored());
            assertTrue(Double.isFinite(r.perplexity(PerplexityCorpus.TINYSTORIES)));
        }
        String bars = err.toString(StandardCharsets.UTF_8);
        assertTrue(bars.contains("dense@1.0 piqa") && bars.contains("buddy@0.6 tinystories ppl"), bars);
        assertTrue(bars.contains("7/7 100.0%"), bars);
    }

    @Test
    void pathsCountTheMasksTheTokensRan() {
        ToyCausalModel model = new ToyCausalModel(60, LAYERS, 4, 40, 16);
        DynamicRouter router = randomRouter();
        StaticPlan plan = plan();
        int[] stream = stream(90, 7);
        EvalRunner.Inputs inputs = new EvalRunner.Inputs(Map.of(Task.PIQA, examples(Task.PIQA, 5)),
                Map.of(PerplexityCorpus.TINYSTORIES, stream), 32, 16);
        for (RoutingMode mode : RoutingMode.values()) {
            EvalRunner runner = new EvalRunner(model, new ToyCausalModel.Encoder(60), mode, false, null);
            ConfigurationResult dense = runner.evaluate(EvalConfiguration.dense(), inputs);
            ConfigurationResult fixed = runner.evaluate(EvalConfiguration.routed("plan", plan, Budget.drop(4),
                    LAYERS), inputs);
            ConfigurationResult routed = runner.evaluate(EvalConfiguration.routed("buddy", router, Budget.drop(4),
                    LAYERS), inputs);
            assertEquals(new ConfigurationResult.PathSpread(1, 1.0, 0.0, 0.0), dense.paths(), mode + ": dense");
            // a static plan skips the same 4 blocks at every token, so no later token reads their slots
            assertEquals(new ConfigurationResult.PathSpread(1, 1.0, 4.0 / LAYERS, 0.0), fixed.paths(),
                    mode + ": a static plan");
            ConfigurationResult.PathSpread spread = routed.paths();
            assertTrue(spread.distinct() >= 1 && spread.topShare() >= 1.0 / spread.distinct()
                    && spread.topShare() <= 1.0, mode + ": " + spread);
            assertEquals(4.0 / LAYERS, spread.skippedKv(), 1e-12, mode + ": k blocks skipped at every token");
            assertTrue(spread.neededKv() >= 0 && spread.neededKv() <= spread.skippedKv(), mode + ": " + spread);
            // every example's headline outcome is kept, in order, so configurations can be paired
            TaskResult piqa = routed.tasks().get(Task.PIQA);
            assertEquals(5, piqa.outcomes().length(), mode + ": " + piqa);
            assertEquals(piqa.correctNorm(), piqa.outcomes().chars().filter(c -> c == '1').count());
        }
    }

    @Test
    void severalModelsAtOnceGiveWhatOneGives() {
        DynamicRouter router = randomRouter();
        StaticPlan plan = plan();
        int[] stream = stream(150, 13);
        EvalRunner.Inputs inputs = new EvalRunner.Inputs(
                Map.of(Task.PIQA, examples(Task.PIQA, 11), Task.BOOLQ, examples(Task.BOOLQ, 6)),
                Map.of(PerplexityCorpus.TINYSTORIES, stream), 32, 16);
        for (RoutingMode mode : RoutingMode.values()) {
            List<ConfigurationResult> expected = null;
            for (int models : new int[] {1, 2, 3}) {
                List<ToyCausalModel> toys = new ArrayList<>();
                for (int i = 0; i < models; i++) {
                    toys.add(new ToyCausalModel(60, LAYERS, 4, 40, 16));
                }
                EvalRunner runner = new EvalRunner(toys, new ToyCausalModel.Encoder(60), mode, false, null);
                List<ConfigurationResult> results = List.of(runner.evaluate(EvalConfiguration.dense(), inputs),
                        runner.evaluate(EvalConfiguration.routed("plan", plan, Budget.drop(4), LAYERS), inputs),
                        runner.evaluate(EvalConfiguration.routed("buddy", router, Budget.drop(4), LAYERS), inputs));
                if (expected == null) {
                    expected = results;
                } else {
                    assertEquals(expected, results, mode + ", " + models + " models");
                }
            }
        }
    }

    @Test
    void aWindowThatDoesNotFitFailsTheSameWayOnSeveralModels() {
        int[] stream = new int[200];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = 3 + i % 50;
        }
        // the toy model has 40 positions, the window 48
        EvalRunner.Inputs inputs = new EvalRunner.Inputs(Map.of(), Map.of(PerplexityCorpus.TINYSTORIES, stream), 48,
                24);
        for (int models : new int[] {1, 2}) {
            List<ToyCausalModel> toys = new ArrayList<>();
            for (int i = 0; i < models; i++) {
                toys.add(new ToyCausalModel(60, LAYERS, 4, 40, 16));
            }
            EvalRunner runner = new EvalRunner(toys, new ToyCausalModel.Encoder(60), RoutingMode.PER_TOKEN, false,
                    null);
            assertThrows(InvalidEvalOptionException.class, () -> runner.evaluate(EvalConfiguration.dense(), inputs),
                    models + " models");
        }
    }

    @Test
    void optionsParseBudgetsTasksAndTexts() {
        assertEquals(List.of(Budget.fraction(0.875), Budget.drop(4), Budget.drop(8)),
                EvalOptions.parseBudgets("0.875, drop4,rm8"));
        assertEquals(Task.paperTasks(), EvalOptions.parseTasks("paper"));
        assertEquals(List.of(Task.ARC_EASY, Task.MMLU), EvalOptions.parseTasks("arc_easy,mmlu"));
        assertEquals(List.of(), EvalOptions.parsePerplexity("none"));
        assertEquals(List.of(PerplexityCorpus.WIKITEXT2, PerplexityCorpus.TINYSTORIES),
                EvalOptions.parsePerplexity("wikitext2,tinystories"));
        for (String bad : List.of("1.5", "0", "dropx", "fast")) {
            InvalidEvalOptionException e = assertThrows(InvalidEvalOptionException.class,
                    () -> EvalOptions.parseBudget(bad));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
        Path p = Path.of("m.gguf");
        EvalOptions defaults = EvalOptions.builder(p, Path.of("out"), Path.of("data")).build();
        assertEquals(Task.paperTasks(), defaults.tasks());
        assertEquals(EvalOptions.PAPER_BUDGETS, defaults.budgets());
        assertEquals(RoutingMode.PER_TOKEN, defaults.routingMode());
        assertThrows(InvalidEvalOptionException.class,
                () -> EvalOptions.builder(p, Path.of("out"), Path.of("data")).limit(0).build());
        assertThrows(InvalidEvalOptionException.class,
                () -> EvalOptions.builder(p, Path.of("out"), Path.of("data")).dense(false).build());
        assertThrows(InvalidEvalOptionException.class, () -> EvalOptions.builder(p, Path.of("out"), Path.of("data"))
                .tasks(List.of()).perplexity(List.of()).build());
    }
}
