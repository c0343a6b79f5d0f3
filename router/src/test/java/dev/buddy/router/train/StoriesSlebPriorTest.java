package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import dev.buddy.engine.model.Model;
import dev.buddy.gguf.TestData;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Budget;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.Provenance;
import dev.buddy.router.RouterFile;
import dev.buddy.router.StaticPlan;
import dev.buddy.router.baseline.CalibrationRunner;
import dev.buddy.router.baseline.CalibrationTokens;
import dev.buddy.router.baseline.Progress;
import dev.buddy.router.baseline.SlebResult;
import dev.buddy.router.baseline.StaticBaselines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code buddy prior --method sleb} on the 5-block TinyStories model (3 middle blocks), against SLEB's search as
 * {@code buddy prune} runs it; then the router that starts from that prior, and held-out checkpoint selection.
 */
class StoriesSlebPriorTest {
    private static final int TOKENS = 256;
    private static final int WINDOW = 64;
    private static final int THREADS = 2;

    @Test
    void untrainedRouterFromTheSlebPriorRoutesSlebsPlanAndAReusedPlanGivesTheSamePrior(@TempDir Path tmp)
            throws IOException {
        Path stories = TestData.require("models/stories260K.gguf");
        Path text = TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        Path out = tmp.resolve("prior-sleb.gguf");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PriorEstimator.Estimate searched = PriorCommand.run(new PriorCommand.Options(stories, text, PriorKind.SLEB,
                TOKENS, WINDOW, THREADS, out, 0, null), new PrintStream(printed, true, StandardCharsets.UTF_8), null);

        StaticPlan reference;
        try (Model model = Model.load(stories)) {
            int[] tokens = CalibrationTokens.load(text, model.tokenizer(), TOKENS);
            try (CalibrationRunner runner = new CalibrationRunner(model, tokens, WINDOW, THREADS)) {
                SlebResult sleb = new StaticBaselines(runner, Progress.NONE).sleb(2);
                BaseModelInfo info = BaseModelInfo.of(model.spec(), model.gguf());
                reference = StaticBaselines.slebPlan("sleb", 5, sleb, new Provenance(info.fingerprint(),
                        info.architecture(), true, new float[0], "sleb", "dppl"));
            }
        }
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("SLEB removal order"), printed.toString());
        // The search ran to one block, so the reference plan has a full ranking: the prior must be that ranking.
        assertArrayEquals(reference.ranking(), searched.ranking());

        try (FrozenModel model = FrozenModel.open(stories)) {
            Prior prior = PriorFile.read(out, model.baseInfo());
            assertEquals(searched.prior(), prior);
            assertEquals("sleb", prior.kind());
            DynamicRouter start = RouterTrainer.initialRouter(model,
                    TrainConfig.defaults(1).withInit(RouterInit.PRIOR).withThreads(THREADS), prior);
            SplittableRandom random = new SplittableRandom(11);
            int dim = model.spec().kvDim();
            for (int trial = 0; trial < 10; trial++) {
                float[][] features = new float[1 + random.nextInt(8)][dim];
                for (float[] row : features) {
                    for (int i = 0; i < dim; i++) {
                        row[i] = (float) random.nextGaussian() * 3;
                    }
                }
                for (int k = 1; k <= 3; k++) {
                    assertArrayEquals(reference.maskFor(k), start.decision().routeSequence(features, k), "k=" + k);
                }
            }
            // A plan written by prune --method sleb (one removal: a set only) gives the same order and the same
            // prior wherever the search went: the survivors are ranked by ΔPPL, as the full search's first step does.
            StaticPlan partial = new StaticPlan("sleb", 5, new int[0], java.util.Map.of(2, reference.setsByK().get(2)),
                    reference.provenance());
            Path plan = tmp.resolve("plan-sleb.gguf");
            RouterFile.write(partial, plan);
            PriorEstimator.Estimate reused = PriorCommand.run(new PriorCommand.Options(stories, text, PriorKind.SLEB,
                    TOKENS, WINDOW, THREADS, null, 0, plan), new PrintStream(new ByteArrayOutputStream(), true,
                    StandardCharsets.UTF_8), null);
            assertEquals(reference.ranking()[2], reused.ranking()[2], "SLEB's first removal is least important");
            for (int k = 2; k <= 3; k++) {
                assertArrayEquals(partial.maskFor(k), StaticPlan.fromScores("p", reused.prior().values(),
                        partial.provenance()).maskFor(k), "k=" + k);
            }
        }
    }

    @Test
    void heldOutSelectionKeepsTheBestScoringRouterWithoutChangingTraining(@TempDir Path tmp) throws IOException {
        Path stories = TestData.require("models/stories260K.gguf");
        Path text = TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        try (FrozenModel model = FrozenModel.open(stories)) {
            TrainingData all = TrainingData.open(text, model.tokenizer(), 48);
            TrainingData heldOut = all.slice(0, 3);
            TrainingData training = all.slice(3, 30);
            TrainConfig config = TrainConfig.defaults(4).withOptimizer(3e-2, 1, 2).withMaxTokens(48)
                    .withThreads(1).withCheckpointEvery(0).withSeed(3).withInit(RouterInit.PRIOR);
            Prior prior = new Prior("dppl", new float[] {0.4f, -1.1f, 0.7f});
            Validation validation = new Validation(heldOut, Validation.routedBudgets(config.budgets()), 2);
            Path output = tmp.resolve("r.gguf");
            RouterTrainer.Result result = RouterTrainer.train(model, training, config, prior, output, false, null,
                    validation);
            List<Validation.Point> points = result.validation();
            assertEquals(List.of(0, 2, 4), points.stream().map(Validation.Point::step).toList());
            Validation.Point best = result.bestValidation().orElseThrow();
            assertTrue(points.get(0).best(), "the start is the first best");
            double min = points.stream().mapToDouble(Validation.Point::score).min().orElseThrow();
            assertEquals(min, best.score());

            DynamicRouter kept = (DynamicRouter) RouterFile.load(Validation.bestPathFor(output), model.baseInfo());
            double nll = 0;
            double[] budgets = validation.budgets();
            for (int i = 0; i < budgets.length; i++) {
                RoutedEvaluation.Result r = RoutedEvaluation.evaluate(model, heldOut, SequenceRouting.of(kept),
                        Budget.fraction(budgets[i]), 1);
                assertEquals(best.perplexity()[i], r.perplexity(), 1e-6 * r.perplexity());
                nll += r.meanNll();
            }
            assertEquals(best.score(), Math.exp(nll / budgets.length), 1e-6 * best.score());

            Path plain = tmp.resolve("plain.gguf");
            RouterTrainer.Result without = RouterTrainer.train(model, training, config, prior, plain, false, null);
            assertArrayEquals(without.stepLosses(), result.stepLosses());
            assertArrayEquals(((DynamicRouter) RouterFile.read(plain)).decision().mlp().w2(),
                    ((DynamicRouter) RouterFile.read(output)).decision().mlp().w2());
        }
    }
}
