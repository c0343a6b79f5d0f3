package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.gguf.TestData;
import dev.buddy.router.Budget;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.RouterFile;
import dev.buddy.router.lora.LoraAdapters;
import dev.buddy.router.lora.LoraConfig;
import dev.buddy.router.lora.LoraFile;
import dev.buddy.router.lora.LoraTarget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short run on the 5-block TinyStories model with and without {@code --lora 4}: the same router recipe as
 * {@link StoriesRouterTrainingTest} (lr 1e-2, batch 4), 30 steps on stories 100–599, judged on stories 0–39, which
 * training never sees, by the training objective: held-out NLL per token with the trained router, averaged over the
 * training budgets, the adapters applied where trained.
 */
class LoraStoriesTrainingTest {
    private static final int THREADS = 2;

    @Test
    void loraLowersHeldOutLossBeyondTheRouterAlone(@TempDir Path tmp) throws IOException {
        Path modelFile = TestData.require("models/stories260K.gguf");
        Path text = TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        try (FrozenModel model = FrozenModel.open(modelFile)) {
            TrainingData stories = TrainingData.open(text, model.tokenizer(), 128);
            TrainingData validation = stories.slice(0, 40);
            TrainingData training = stories.slice(100, 600);
            TrainConfig config = TrainConfig.defaults(30).withOptimizer(1e-2, 5, 4).withMaxTokens(128)
                    .withThreads(THREADS).withCheckpointEvery(0).withSeed(0);
            Prior prior = Prior.none(3);
            LoraConfig lora = new LoraConfig(4, 8f, EnumSet.allOf(LoraTarget.class), 1e-3);

            double before = budgetMixNll(model, validation, RouterTrainer.initialRouter(model, config, prior), null,
                    config.budgets());
            Path plainOut = tmp.resolve("plain.gguf");
            RouterTrainer.train(model, training, config, prior, plainOut, false, null);
            double plain = budgetMixNll(model, validation, (DynamicRouter) RouterFile.load(plainOut,
                    model.baseInfo()), null, config.budgets());
            Path loraOut = tmp.resolve("lora.gguf");
            RouterTrainer.Result withLora = RouterTrainer.train(model, training, config, prior, loraOut, false, null,
                    lora);
            LoraAdapters adapters = LoraFile.read(LoraFile.besideRouter(loraOut), model.spec(),
                    model.baseInfo().fingerprint());
            double adapted = budgetMixNll(model, validation, (DynamicRouter) RouterFile.load(loraOut,
                    model.baseInfo()), adapters, config.budgets());
            System.out.printf(Locale.ROOT, "stories260K, 30 steps: held-out NLL over the training budgets %.4f at "
                    + "the start, %.4f router only, %.4f router + LoRA r4 (%.0f tok/s with LoRA)%n", before, plain,
                    adapted, withLora.tokensPerSecond());
            assertTrue(adapted < before, "held-out NLL with LoRA did not fall: " + before + " -> " + adapted);
            assertTrue(adapted < plain, "router + LoRA " + adapted + " is not below the router alone " + plain);
        }
    }

    /**
     * {@code --lr 0 --lora R}: the router keeps its initial weights bit for bit (with {@code --init prior}, the
     * prior's static plan) while the adapters train, so a static plan gets the same LoRA training as BUDDY.
     */
    @Test
    void aFrozenRouterTrainsOnlyTheAdapters(@TempDir Path tmp) throws IOException {
        Path modelFile = TestData.require("models/stories260K.gguf");
        Path text = TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        try (FrozenModel model = FrozenModel.open(modelFile)) {
            TrainingData stories = TrainingData.open(text, model.tokenizer(), 128);
            TrainingData validation = stories.slice(0, 20);
            TrainConfig config = TrainConfig.defaults(10).withOptimizer(0, 2, 4).withMaxTokens(128)
                    .withThreads(THREADS).withCheckpointEvery(0).withSeed(5).withInit(RouterInit.PRIOR);
            Prior prior = new Prior("dppl", new float[] {0.4f, -1.1f, 0.7f});
            LoraConfig lora = new LoraConfig(4, 8f, EnumSet.allOf(LoraTarget.class), 1e-2);
            DynamicRouter start = RouterTrainer.initialRouter(model, config, prior);
            Path out = tmp.resolve("frozen.gguf");
            RouterTrainer.train(model, stories.slice(100, 300), config, prior, out, false, null, lora);

            DynamicRouter kept = (DynamicRouter) RouterFile.load(out, model.baseInfo());
            assertArrayEquals(start.decision().mlp().w1(), kept.decision().mlp().w1());
            assertArrayEquals(start.decision().mlp().b1(), kept.decision().mlp().b1());
            assertArrayEquals(start.decision().mlp().w2(), kept.decision().mlp().w2());
            assertArrayEquals(start.decision().mlp().b2(), kept.decision().mlp().b2());
            LoraAdapters adapters = LoraFile.read(LoraFile.besideRouter(out), model.spec(),
                    model.baseInfo().fingerprint());
            double plain = budgetMixNll(model, validation, kept, null, config.budgets());
            double adapted = budgetMixNll(model, validation, kept, adapters, config.budgets());
            assertTrue(adapted < plain, "the adapters did not lower held-out NLL on the frozen route: " + plain
                    + " -> " + adapted);
        }
    }

    /**
     * Held-out selection ({@code --val}) with {@code --lora}: each scoring applies the adapters as trained so far, and
     * the best router's adapters are written beside it, so the kept pair scores what its scoring said.
     */
    @Test
    void heldOutSelectionScoresTheRouterWithItsAdapters(@TempDir Path tmp) throws IOException {
        Path modelFile = TestData.require("models/stories260K.gguf");
        Path text = TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        try (FrozenModel model = FrozenModel.open(modelFile)) {
            TrainingData stories = TrainingData.open(text, model.tokenizer(), 128);
            TrainingData heldOut = stories.slice(0, 10);
            TrainConfig config = TrainConfig.defaults(4).withOptimizer(1e-2, 1, 4).withMaxTokens(128)
                    .withThreads(THREADS).withCheckpointEvery(0).withSeed(7).withInit(RouterInit.PRIOR);
            Prior prior = new Prior("dppl", new float[] {0.4f, -1.1f, 0.7f});
            LoraConfig lora = new LoraConfig(4, 8f, EnumSet.allOf(LoraTarget.class), 1e-2);
            Validation validation = new Validation(heldOut, Validation.routedBudgets(config.budgets()), 2);
            Path out = tmp.resolve("r.gguf");
            RouterTrainer.Result result = RouterTrainer.train(model, stories.slice(100, 200), config, prior, out,
                    false, null, lora, validation);
            double[] budgets = validation.budgets();

            Validation.Point last = result.validation().getLast();
            assertEquals(4, last.step());
            DynamicRouter finalRouter = (DynamicRouter) RouterFile.load(out, model.baseInfo());
            LoraAdapters finalAdapters = LoraFile.read(LoraFile.besideRouter(out), model.spec(),
                    model.baseInfo().fingerprint());
            double withAdapters = budgetMixNll(model, heldOut, finalRouter, finalAdapters, budgets);
            double without = budgetMixNll(model, heldOut, finalRouter, null, budgets);
            assertEquals(withAdapters, Math.log(last.score()), 1e-9);
            assertTrue(Math.abs(without - withAdapters) > 1e-4, "the adapters changed nothing, so this test could"
                    + " not tell them apart: " + without + " vs " + withAdapters);

            Path bestPath = Validation.bestPathFor(out);
            Validation.Point best = result.bestValidation().orElseThrow();
            DynamicRouter bestRouter = (DynamicRouter) RouterFile.load(bestPath, model.baseInfo());
            LoraAdapters bestAdapters = LoraFile.read(LoraFile.besideRouter(bestPath), model.spec(),
                    model.baseInfo().fingerprint());
            assertEquals(Math.log(best.score()), budgetMixNll(model, heldOut, bestRouter, bestAdapters, budgets),
                    1e-9);
        }
    }

    /**
     * Held-out mean NLL per token, routed by {@code router} at each training budget (as RoutedEvaluation does), with
     * {@code adapters} applied when not null; averaged over the budgets.
     */
    private static double budgetMixNll(FrozenModel model, TrainingData data, DynamicRouter router,
                                       LoraAdapters adapters, double[] budgets) {
        SequenceRouting routing = SequenceRouting.of(router);
        int layers = model.spec().blockCount();
        int capacity = 1;
        for (int i = 0; i < data.size(); i++) {
            capacity = Math.max(capacity, data.example(i).length());
        }
        double sum = 0;
        try (Parallel pool = new Parallel(THREADS)) {
            ModelPass pass = new ModelPass(model, capacity, pool);
            if (adapters != null) {
                pass.attachAdapters(adapters, new double[adapters.params().length]);
            }
            int kvDim = model.spec().kvDim();
            float[] features = new float[capacity * kvDim];
            int[] targets = new int[capacity];
            float[] gates = new float[layers];
            for (double b : budgets) {
                int k = Budget.fraction(b).middleBlocks(layers);
                double nll = 0;
                long tokens = 0;
                for (int i = 0; i < data.size(); i++) {
                    TrainingExample e = data.example(i);
                    if (e.targetCount() == 0) {
                        continue;
                    }
                    int n = e.length();
                    pass.embed(e.tokens(), n);
                    pass.beginForward(n);
                    pass.layer0Features(routing.featureSource(), n, features);
                    boolean[] mask = routing.mask(features, n, kvDim, k);
                    for (int l = 0; l < layers; l++) {
                        gates[l] = mask[l] ? 1f : 0f;
                    }
                    pass.finishForward(gates, false);
                    e.targets(targets);
                    nll += pass.headLoss(targets, 1f, false);
                    tokens += e.targetCount();
                }
                sum += nll / tokens;
            }
        }
        return sum / budgets.length;
    }
}
