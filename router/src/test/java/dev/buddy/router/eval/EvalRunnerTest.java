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
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
                EvalRunner runner = runner(mode, models);
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
    void aRunResumedFromItsCheckpointGivesWhatAnUninterruptedRunGives(@TempDir Path dir) throws IOException {
        DynamicRouter router = randomRouter();
        StaticPlan plan = plan();
        int[] stream = stream(120, 13);
        EvalRunner.Inputs whole = new EvalRunner.Inputs(
                Map.of(Task.PIQA, examples(Task.PIQA, 9), Task.BOOLQ, examples(Task.BOOLQ, 6)),
                Map.of(PerplexityCorpus.TINYSTORIES, stream), 32, 16);
        // the interrupted run finished PIQA and nothing else
        EvalRunner.Inputs finished = new EvalRunner.Inputs(Map.of(Task.PIQA, examples(Task.PIQA, 9)), Map.of(), 32,
                16);
        Map<String, String> settings = Map.of("model", "toy", "routing", "per-token");
        for (RoutingMode mode : RoutingMode.values()) {
            List<EvalConfiguration> configs = List.of(EvalConfiguration.dense(),
                    EvalConfiguration.routed("plan", plan, Budget.drop(4), LAYERS),
                    EvalConfiguration.routed("buddy", router, Budget.drop(4), LAYERS));
            for (EvalConfiguration config : configs) {
                String what = mode + " " + config.label();
                Path folder = dir.resolve(mode.key() + "-" + config.method());
                ConfigurationResult expected = runner(mode, 2).evaluate(config, whole);

                runner(mode, 1).evaluate(config, config.label(), finished, EvalCheckpoint.start(folder, settings));
                EvalCheckpoint checkpoint = EvalCheckpoint.resume(folder, settings);
                assertEquals(1, checkpoint.size(), what);
                ConfigurationResult resumed = runner(mode, 2).evaluate(config, config.label(), whole, checkpoint);
                assertEquals(expected, resumed, what);

                // everything is in the file now: a second resume scores nothing and reports the same
                EvalCheckpoint complete = EvalCheckpoint.resume(folder, settings);
                assertEquals(3, complete.size(), what);
                ToyCausalModel idle = new ToyCausalModel(60, LAYERS, 4, 40, 16);
                ConfigurationResult again = new EvalRunner(idle, new ToyCausalModel.Encoder(60), mode, false, null)
                        .evaluate(config, config.label(), whole, complete);
                assertEquals(expected, again, what);
                assertEquals(0, idle.invocations, what + ": nothing scored twice");

                // a piece keyed to other examples (another --limit) is not taken
                EvalRunner.Inputs fewer = new EvalRunner.Inputs(Map.of(Task.PIQA, examples(Task.PIQA, 8)), Map.of(),
                        32, 16);
                ToyCausalModel busy = new ToyCausalModel(60, LAYERS, 4, 40, 16);
                new EvalRunner(busy, new ToyCausalModel.Encoder(60), mode, false, null)
                        .evaluate(config, config.label(), fewer, EvalCheckpoint.resume(folder, settings));
                assertTrue(busy.invocations > 0, what);
            }
        }
    }

    @Test
    void aRunStoppedInsideATaskGoesOnFromItsLastFinishedChunk(@TempDir Path dir) throws IOException {
        DynamicRouter router = randomRouter();
        EvalRunner.Inputs whole = new EvalRunner.Inputs(
                Map.of(Task.PIQA, examples(Task.PIQA, 9), Task.BOOLQ, examples(Task.BOOLQ, 7)),
                Map.of(PerplexityCorpus.TINYSTORIES, stream(90, 7)), 32, 16);
        EvalRunner.Inputs tasksOnly = new EvalRunner.Inputs(whole.tasks(), Map.of(), 32, 16);
        Map<String, String> settings = Map.of("model", "toy");
        for (RoutingMode mode : RoutingMode.values()) {
            EvalConfiguration config = EvalConfiguration.routed("buddy", router, Budget.drop(4), LAYERS);
            ConfigurationResult expected = runner(mode, 1).evaluate(config, whole);
            ToyCausalModel counter = new ToyCausalModel(60, LAYERS, 4, 40, 16);
            new EvalRunner(counter, new ToyCausalModel.Encoder(60), mode, false, null).evaluate(config, tasksOnly);
            int allCalls = counter.invocations;
            ToyCausalModel pplCounter = new ToyCausalModel(60, LAYERS, 4, 40, 16);
            new EvalRunner(pplCounter, new ToyCausalModel.Encoder(60), mode, false, null).evaluate(config,
                    new EvalRunner.Inputs(Map.of(), whole.streams(), 32, 16));

            // stopped four fifths of the way through the tasks: PIQA (9) and BoolQ's first chunk of 3 are done
            Path folder = dir.resolve(mode.key());
            ToyCausalModel stopped = new ToyCausalModel(60, LAYERS, 4, 40, 16);
            stopped.failAtInvocation = allCalls * 4 / 5;
            EvalRunner first = new EvalRunner(stopped, new ToyCausalModel.Encoder(60), mode, false, null).chunkedBy(3);
            assertThrows(IllegalStateException.class,
                    () -> first.evaluate(config, "buddy", whole, EvalCheckpoint.start(folder, settings)));
            EvalCheckpoint checkpoint = EvalCheckpoint.resume(folder, settings);
            assertEquals(2, checkpoint.size(), mode + ": PIQA whole, and BoolQ's examples 0-3");

            ToyCausalModel rest = new ToyCausalModel(60, LAYERS, 4, 40, 16);
            ConfigurationResult resumed = new EvalRunner(rest, new ToyCausalModel.Encoder(60), mode, false, null)
                    .chunkedBy(3).evaluate(config, "buddy", whole, checkpoint);
            assertEquals(expected, resumed, mode.key());
            // every example costs the same calls here: BoolQ's last 4 of the 16 examples are a quarter of them
            // (scoring the first chunk again would make it 7 of 16)
            int taskCalls = rest.invocations - pplCounter.invocations;
            assertTrue(taskCalls > 0 && taskCalls * 16 == allCalls * 4, mode + ": " + taskCalls + " of " + allCalls);
            // finished tasks are kept whole: their chunks are gone from the file
            assertEquals(3, EvalCheckpoint.resume(folder, settings).size(), mode.key());
        }
    }

    @Test
    void aCheckpointOfOtherSettingsOrNoCheckpointAtAllIsRefusedByName(@TempDir Path dir) throws IOException {
        EvalRunner.Inputs inputs = new EvalRunner.Inputs(Map.of(Task.PIQA, examples(Task.PIQA, 3)), Map.of(), 32, 16);
        runner(RoutingMode.PER_TOKEN, 1).evaluate(EvalConfiguration.dense(), "dense@1.0", inputs,
                EvalCheckpoint.start(dir, Map.of("model", "toy", "kv_policy", "ZEROS")));
        InvalidEvalOptionException other = assertThrows(InvalidEvalOptionException.class,
                () -> EvalCheckpoint.resume(dir, Map.of("model", "toy", "kv_policy", "COMPUTE_KV")));
        assertTrue(other.getMessage().contains("kv_policy = ZEROS, not COMPUTE_KV"), other.getMessage());

        Path file = dir.resolve(EvalCheckpoint.FILE_NAME);
        String text = Files.readString(file);
        for (String broken : new String[] {text.substring(0, text.length() / 2), "[]", "{}",
                text.replace("\"outcomes\"", "\"outcome\""), text.replace("\"tokens\": ", "\"tokens\": -")}) {
            Files.writeString(file, broken);
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                    () -> EvalCheckpoint.resume(dir, Map.of("model", "toy", "kv_policy", "ZEROS")), broken);
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        }
        Files.delete(file);
        assertEquals(0, EvalCheckpoint.resume(dir, Map.of("model", "toy")).size(), "nothing to resume: a new one");
    }

    private static EvalRunner runner(RoutingMode mode, int models) {
        List<ToyCausalModel> toys = new ArrayList<>();
        for (int i = 0; i < models; i++) {
            toys.add(new ToyCausalModel(60, LAYERS, 4, 40, 16));
        }
        return new EvalRunner(toys, new ToyCausalModel.Encoder(60), mode, false, null);
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
            EvalRunner runner = runner(RoutingMode.PER_TOKEN, models);
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
