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
import dev.buddy.router.lora.LoraAdapters;
import dev.buddy.router.lora.LoraConfig;
import dev.buddy.router.lora.LoraFile;
import dev.buddy.router.train.FrozenModel;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

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
     * to the last bit, for a rerouting router under {@code compute-kv} and a static plan, without and with LoRA
     * adapters (whose scratch is per thread).
     */
    @Test
    void scoringSeveralExamplesAtOnceChangesNoResult(@TempDir Path dir) throws Exception {
        Fixture fx = Fixture.write(dir, 5);
        Path lora = dir.resolve("random.lora.gguf");
        try (FrozenModel frozen = FrozenModel.open(fx.model())) {
            LoraConfig config = LoraConfig.of(4);
            float[] params = new float[LoraAdapters.parameterCount(frozen.spec(), config)];
            SplittableRandom random = new SplittableRandom(11);
            for (int i = 0; i < params.length; i++) {
                params[i] = (float) (0.2 * random.nextGaussian());
            }
            LoraFile.write(LoraAdapters.of(frozen.spec(), config, params), frozen.baseInfo().fingerprint(), lora);
        }
        List<List<ConfigurationResult>> plain = new java.util.ArrayList<>();
        List<List<ConfigurationResult>> adapted = new java.util.ArrayList<>();
        for (int parallel : new int[] {1, 3}) {
            for (Path adapters : new Path[] {null, lora}) {
                Path out = dir.resolve("out" + parallel + (adapters == null ? "" : "-lora"));
                EvalOptions options = EvalOptions.builder(fx.model(), out, fx.datasets())
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
                (adapters == null ? plain : adapted).add(Evaluation.run(options, new PrintStream(
                        new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), adapters).results());
                Map<?, ?> settings = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(out
                        .resolve(EvalReport.JSON)))).get("settings");
                assertEquals(parallel, ((Number) settings.get("parallel")).intValue(), "the report says how it ran");
            }
        }
        assertEquals(5, plain.get(0).size());
        assertEquals(plain.get(0), plain.get(1));
        assertEquals(adapted.get(0), adapted.get(1));
        double base = plain.get(0).get(0).perplexity(PerplexityCorpus.TINYSTORIES);
        double withAdapters = adapted.get(0).get(0).perplexity(PerplexityCorpus.TINYSTORIES);
        assertTrue(base != withAdapters, "the adapters change the dense perplexity: " + base);
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
