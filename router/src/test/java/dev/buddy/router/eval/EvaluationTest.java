package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TestData;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.FingerprintMismatchException;
import dev.buddy.router.Pooling;
import dev.buddy.router.Provenance;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.RouterFile;
import dev.buddy.router.StaticPlan;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code buddy eval} end to end on stories260K with a random BUDDY router and a static plan. */
class EvaluationTest {

    /** stories260K, the datasets folder, and two router files for it in {@code dir}: a random BUDDY router, a plan. */
    private record Fixture(Path model, Path datasets, Path buddy, Path plan) {
        static Fixture write(Path dir, long routerSeed) throws java.io.IOException {
            Path model = TestData.require("models/stories260K.gguf");
            Path datasets = TestData.require("datasets/SOURCES.md").getParent();
            BaseModelInfo info;
            try (GgufFile f = GgufFile.open(model)) {
                info = BaseModelInfo.of(f);
            }
            Path buddy = dir.resolve("random.gguf");
            RouterFile.write(RandomRouter.create(info, routerSeed, FeatureSource.VALUE, Pooling.MEAN, false), buddy);
            Path plan = dir.resolve("dppl.gguf");
            RouterFile.write(new StaticPlan("dppl", info.layerCount(), new int[] {1, 3, 2}, Map.of(),
                    new Provenance(info.fingerprint(), info.architecture(), true, new float[0], "dppl", "none")),
                    plan);
            return new Fixture(model, datasets, buddy, plan);
        }
    }

    @Test
    void evaluatesDenseAndEveryRouterAtEveryBudget(@TempDir Path dir) throws Exception {
        Fixture fx = Fixture.write(dir, 3);
        Path model = fx.model();
        Path datasets = fx.datasets();
        Path buddy = fx.buddy();
        Path plan = fx.plan();
        Path out = dir.resolve("out");
        EvalOptions options = EvalOptions.builder(model, out, datasets)
                .routers(List.of(buddy, plan))
                .budgets(EvalOptions.parseBudgets("0.8,drop2"))
                .tasks(EvalOptions.parseTasks("arc_easy,winogrande"))
                .limit(2)
                .perplexity(List.of(PerplexityCorpus.TINYSTORIES))
                .pplLimitTokens(100)
                .contextLength(128)
                .threads(1)
                .build();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        EvalReport report = Evaluation.run(options, new PrintStream(log, true, StandardCharsets.UTF_8));
        String logText = log.toString(StandardCharsets.UTF_8);
        assertTrue(logText.contains("UNTRAINED"), "untrained routers are called out: " + logText);

        assertEquals(5, report.results().size(), "dense + 2 routers x 2 budgets");
        for (ConfigurationResult r : report.results()) {
            assertEquals(2, r.tasks().get(Task.ARC_EASY).n());
            assertEquals(2, r.tasks().get(Task.WINOGRANDE).n());
            assertEquals(99, r.perplexities().get(PerplexityCorpus.TINYSTORIES).tokensScored());
            assertEquals(r.nominalFraction(), r.executedFraction(), 1e-12, r.method() + "@" + r.budget());
        }
        Map<?, ?> summary = (Map<?, ?>) Json.parse(Files.readString(out.resolve(EvalReport.SUMMARY)));
        Map<?, ?> methods = (Map<?, ?>) summary.get("methods");
        assertEquals(List.of("dense", "ppl", "random"), List.copyOf(methods.keySet()));
        // On 5 blocks: b = 0.8 runs 4 blocks; drop 2 leaves 1 middle block, 3 of 5 blocks, labelled 0.6.
        assertEquals(List.of("0.8", "0.6"), List.copyOf(((Map<?, ?>) methods.get("random")).keySet()));
        for (String file : List.of(EvalReport.MARKDOWN, EvalReport.CSV, EvalReport.JSON, EvalReport.PLOT_SVG,
                EvalReport.PLOT_PNG)) {
            assertTrue(Files.size(out.resolve(file)) > 0, file);
        }
    }

    /**
     * {@code --parallel}: three sequence states scoring examples and windows at once give the report one state gives,
     * to the last bit, for a rerouting router under {@code compute-kv} and a static plan.
     */
    @Test
    void scoringSeveralExamplesAtOnceChangesNoResult(@TempDir Path dir) throws Exception {
        Fixture fx = Fixture.write(dir, 5);
        List<List<ConfigurationResult>> runs = new java.util.ArrayList<>();
        for (int parallel : new int[] {1, 3}) {
            EvalOptions options = EvalOptions.builder(fx.model(), dir.resolve("out" + parallel), fx.datasets())
                    .routers(List.of(fx.buddy(), fx.plan()))
                    .budgets(EvalOptions.parseBudgets("0.8,0.6"))
                    .tasks(EvalOptions.parseTasks("arc_easy,hellaswag,winogrande"))
                    .limit(6)
                    .perplexity(List.of(PerplexityCorpus.TINYSTORIES))
                    .pplLimitTokens(400)
                    .contextLength(128)
                    .skippedKv(dev.buddy.engine.model.SkippedKvPolicy.COMPUTE_KV)
                    .threads(parallel)
                    .parallel(parallel)
                    .build();
            runs.add(Evaluation.run(options, new PrintStream(new ByteArrayOutputStream(), true,
                    StandardCharsets.UTF_8)).results());
            Map<?, ?> settings = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(dir.resolve("out" + parallel)
                    .resolve(EvalReport.JSON)))).get("settings");
            assertEquals(parallel, ((Number) settings.get("parallel")).intValue(), "the report says how it ran");
        }
        assertEquals(5, runs.get(0).size());
        assertEquals(runs.get(0), runs.get(1));
    }

    @Test
    void aRouterForAnotherModelIsRefused(@TempDir Path dir) throws Exception {
        Path model = TestData.require("models/stories260K.gguf");
        Path other = dir.resolve("other.gguf");
        RouterFile.write(RandomRouter.create(5, 32, "00".repeat(32), "llama", 1, FeatureSource.VALUE, Pooling.MEAN,
                false), other);
        EvalOptions options = EvalOptions.builder(model, dir.resolve("out"), dir).routers(List.of(other))
                .tasks(List.of(Task.PIQA)).perplexity(List.of()).build();
        assertThrows(FingerprintMismatchException.class, () -> Evaluation.run(options,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
    }
}
