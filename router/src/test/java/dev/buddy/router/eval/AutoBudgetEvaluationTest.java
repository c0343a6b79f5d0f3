package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TestData;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Budget;
import dev.buddy.router.BudgetPredictor;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.Provenance;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.RouterFile;
import dev.buddy.router.StaticPlan;
import dev.buddy.router.TwoLayerMlp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code buddy eval --budgets auto} on stories260K with a router that has a (random) Budget Predictor: the predictor
 * chooses each sequence's budget, the reports give the distribution of chosen budgets per task next to accuracy
 * and the measured fraction of blocks executed, routers without a predictor are skipped with a note, and auto with
 * no predictor anywhere is a one-line user error.
 */
class AutoBudgetEvaluationTest {

    private static BaseModelInfo info(Path model) throws Exception {
        try (GgufFile f = GgufFile.open(model)) {
            return BaseModelInfo.of(f);
        }
    }

    @Test
    void parsesAutoAlongsideFixedBudgets() {
        assertEquals(List.of(Budget.fraction(0.5)), EvalOptions.parseBudgets("0.5, auto"));
        assertTrue(EvalOptions.parseAuto("0.5, AUTO"));
        assertFalse(EvalOptions.parseAuto("0.5,drop2"));
        assertEquals(List.of(), EvalOptions.parseBudgets("auto"));
    }

    @Test
    void reportsTheChosenBudgetsPerTask(@TempDir Path dir) throws Exception {
        Path model = TestData.require("models/stories260K.gguf");
        Path datasets = TestData.require("datasets/SOURCES.md").getParent();
        BaseModelInfo info = info(model);
        Path withPredictor = dir.resolve("predictor.gguf");
        RouterFile.write(RandomRouter.create(info, 11, FeatureSource.VALUE, Pooling.MEAN, true), withPredictor);
        Path plan = dir.resolve("plan.gguf");
        RouterFile.write(new StaticPlan("dppl", info.layerCount(), new int[] {1, 3, 2}, Map.of(),
                new Provenance(info.fingerprint(), info.architecture(), true, new float[0], "dppl", "none")), plan);
        Path out = dir.resolve("out");
        EvalOptions options = EvalOptions.builder(model, out, datasets)
                .routers(List.of(withPredictor, plan))
                .budgets(EvalOptions.parseBudgets("auto"))
                .autoBudget(EvalOptions.parseAuto("auto"))
                .tasks(EvalOptions.parseTasks("arc_easy,piqa"))
                .limit(4)
                .perplexity(List.of())
                .contextLength(256)
                .threads(1)
                .build();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        EvalReport report = Evaluation.run(options, new PrintStream(log, true, StandardCharsets.UTF_8));
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("plan.gguf has no budget predictor"), log.toString());

        assertEquals(2, report.results().size(), "dense + the predictor router at auto");
        ConfigurationResult auto = report.results().get(1);
        assertEquals(EvalConfiguration.AUTO, auto.budget());
        assertEquals(2, auto.budgetChoices().size());
        double lowest = 1;
        double highest = 0;
        for (BudgetChoices.Distribution d : auto.budgetChoices().values()) {
            // Every example routes its context at least once (and once more per extra multi-token continuation).
            assertTrue(d.total() >= 4, "sequences counted: " + d.total());
            long[] counts = d.counts();
            for (int k = 1; k <= counts.length; k++) {
                if (counts[k - 1] > 0) {
                    lowest = Math.min(lowest, (k + 2) / 5.0);
                    highest = Math.max(highest, (k + 2) / 5.0);
                }
            }
        }
        // Each sequence runs the budget chosen for it, so the executed fraction is a mix of the chosen budgets.
        assertTrue(auto.executedFraction() >= lowest - 1e-12 && auto.executedFraction() <= highest + 1e-12,
                auto.executedFraction() + " outside the chosen budgets [" + lowest + ", " + highest + "]");

        Map<?, ?> json = (Map<?, ?>) Json.parse(Files.readString(out.resolve(EvalReport.JSON)));
        Map<?, ?> entry = (Map<?, ?>) ((List<?>) json.get("results")).get(1);
        assertEquals("auto", entry.get("budget"));
        Map<?, ?> arc = (Map<?, ?>) ((Map<?, ?>) entry.get("budget_choices")).get("arc_easy");
        long counted = 0;
        for (Object n : ((Map<?, ?>) arc.get("counts")).values()) {
            counted += ((Number) n).longValue();
        }
        assertEquals(((Number) arc.get("sequences")).longValue(), counted);
        assertEquals(auto.budgetChoices().get(Task.ARC_EASY).total(), counted);
        String markdown = Files.readString(out.resolve(EvalReport.MARKDOWN));
        assertTrue(markdown.contains("Budgets chosen by the Budget Predictor"), markdown);
        Map<?, ?> summary = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(out.resolve(EvalReport.SUMMARY))))
                .get("methods");
        assertTrue(((Map<?, ?>) summary.get("random")).containsKey("auto"), summary.toString());

        // Two sequence states at once (eval --parallel) count their choices into the one tally: the same report.
        EvalReport parallel = Evaluation.run(EvalOptions.builder(model, dir.resolve("out2"), datasets)
                .routers(options.routers()).budgets(options.budgets()).autoBudget(true).tasks(options.tasks())
                .limit(options.limit()).perplexity(List.of()).contextLength(options.contextLength()).threads(2)
                .parallel(2).build(), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertSameAuto(auto, parallel.results().get(1));

        // A run stopped after ARC-Easy, resumed from its checkpoint: the budgets chosen come back with the task.
        Path stopped = dir.resolve("out3");
        Evaluation.run(EvalOptions.builder(model, stopped, datasets).routers(options.routers())
                .budgets(options.budgets()).autoBudget(true).tasks(List.of(Task.ARC_EASY)).limit(options.limit())
                .perplexity(List.of()).contextLength(options.contextLength()).threads(1).build(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        EvalReport resumed = Evaluation.run(EvalOptions.builder(model, stopped, datasets).routers(options.routers())
                .budgets(options.budgets()).autoBudget(true).tasks(options.tasks()).limit(options.limit())
                .perplexity(List.of()).contextLength(options.contextLength()).threads(1).resume(true).build(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertSameAuto(auto, resumed.results().get(1));
    }

    private static void assertSameAuto(ConfigurationResult expected, ConfigurationResult actual) {
        assertEquals(expected.tasks(), actual.tasks());
        assertEquals(expected.executedFraction(), actual.executedFraction(), 0.0);
        assertEquals(expected.paths(), actual.paths());
        assertEquals(expected.budgetChoices().keySet(), actual.budgetChoices().keySet());
        for (Task task : expected.budgetChoices().keySet()) {
            assertEquals(expected.budgetChoices().get(task).byBudget(), actual.budgetChoices().get(task).byBudget(),
                    task.key());
        }
    }

    /**
     * A predictor that always chooses every middle block runs the dense model, so its scores are dense's bit for bit:
     * auto keeps the batched per-token path of a fixed budget. (Wrapped in a recording planner it once fell back to
     * one decode call per token, whose different kernels moved the scores by a few ulps.)
     */
    @Test
    void aPredictorThatRunsEveryBlockScoresExactlyAsDense(@TempDir Path dir) throws Exception {
        Path model = TestData.require("models/stories260K.gguf");
        Path datasets = TestData.require("datasets/SOURCES.md").getParent();
        BaseModelInfo info = info(model);
        DynamicRouter random = RandomRouter.create(info, 5, FeatureSource.VALUE, Pooling.MEAN, true);
        TwoLayerMlp p = random.predictor().orElseThrow().mlp();
        float[] b2 = new float[p.outputDim()];
        b2[b2.length - 1] = 1f; // zero weights: every context's logits are b2, whose argmax is k = L - 2
        TwoLayerMlp allBlocks = new TwoLayerMlp(p.inputDim(), p.hiddenDim(), p.outputDim(), new float[p.w1().length],
                new float[p.b1().length], new float[p.w2().length], b2);
        Path router = dir.resolve("all-blocks.gguf");
        RouterFile.write(new DynamicRouter(random.name(), random.decision(),
                Optional.of(new BudgetPredictor(info.layerCount(), allBlocks)), random.provenance()), router);
        EvalOptions options = EvalOptions.builder(model, dir.resolve("out"), datasets)
                .routers(List.of(router))
                .budgets(List.of())
                .autoBudget(true)
                .tasks(EvalOptions.parseTasks("arc_easy,hellaswag"))
                .limit(4)
                .perplexity(List.of(PerplexityCorpus.TINYSTORIES))
                .pplLimitTokens(300)
                .contextLength(256)
                .threads(1)
                .build();
        EvalReport report = Evaluation.run(options, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8));
        ConfigurationResult dense = report.results().get(0);
        ConfigurationResult auto = report.results().get(1);
        assertEquals("dense", dense.method());
        assertEquals(EvalConfiguration.AUTO, auto.budget());
        assertEquals(1.0, auto.executedFraction(), 1e-12);
        assertEquals(dense.tasks(), auto.tasks());
        PerplexityResult d = dense.perplexities().get(PerplexityCorpus.TINYSTORIES);
        PerplexityResult a = auto.perplexities().get(PerplexityCorpus.TINYSTORIES);
        assertEquals(Double.doubleToRawLongBits(d.meanNegLogLikelihood()),
                Double.doubleToRawLongBits(a.meanNegLogLikelihood()), d + " against " + a);
    }

    @Test
    void autoWithoutAnyPredictorIsRefused(@TempDir Path dir) throws Exception {
        Path model = TestData.require("models/stories260K.gguf");
        Path datasets = TestData.require("datasets/SOURCES.md").getParent();
        BaseModelInfo info = info(model);
        Path router = dir.resolve("r.gguf");
        RouterFile.write(RandomRouter.create(info, 1, FeatureSource.VALUE, Pooling.MEAN, false), router);
        EvalOptions options = EvalOptions.builder(model, dir.resolve("out"), datasets).routers(List.of(router))
                .budgets(List.of()).autoBudget(true).tasks(List.of(Task.PIQA)).limit(1).perplexity(List.of())
                .build();
        InvalidEvalOptionException e = assertThrows(InvalidEvalOptionException.class, () -> Evaluation.run(options,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("budget predictor"), e.getMessage());
    }
}
