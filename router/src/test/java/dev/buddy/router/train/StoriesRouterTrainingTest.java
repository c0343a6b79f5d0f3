package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import dev.buddy.gguf.TestData;
import dev.buddy.router.Budget;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.RouterFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CI-sized end-to-end run: a router for the 5-block TinyStories model (3 routable middle blocks), trained for 300
 * steps on TinyStories stories 100–599 and judged on stories 0–99, which training never sees.
 *
 * <p>The learning rate is 1e-2 rather than the paper's 1e-4: at 1e-4 a few hundred Adam steps move the weights by
 * at most a few hundredths, which does not change a single route. Everything else is the paper's recipe (budgets
 * {0.5 … 1.0}, warm-up, AdamW, softmax straight-through), with batch 4 to keep the run under a minute.
 *
 * <p>What is asserted: the training objective (validation NLL averaged over the training budgets) falls, and at
 * b = 0.6 (k = 1 of 3 middle blocks) the trained router's perplexity beats the random router it started from
 * (RandomRouter with the run's seed) and the mean of the random routers with seeds 0–4.
 */
class StoriesRouterTrainingTest {
    private static final int THREADS = 2;

    @Test
    void trainedRouterBeatsRandomRoutersOnHeldOutStories(@TempDir Path tmp) throws IOException {
        Path modelFile = TestData.require("models/stories260K.gguf");
        Path text = TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        try (FrozenModel model = FrozenModel.open(modelFile)) {
            TrainingData stories = TrainingData.open(text, model.tokenizer(), 128);
            TrainingData validation = stories.slice(0, 100);
            TrainingData training = stories.slice(100, 600);
            TrainConfig config = TrainConfig.defaults(300).withOptimizer(1e-2, 20, 4).withMaxTokens(128)
                    .withThreads(THREADS).withCheckpointEvery(0).withSeed(0);
            Prior prior = Prior.none(3);
            Budget target = Budget.fraction(0.6);

            DynamicRouter initial = RouterTrainer.initialRouter(model, config, prior);
            double objectiveBefore = budgetMixNll(model, validation, initial, config.budgets());
            double initialPerplexity = perplexity(model, validation, initial, target);
            double randomMean = 0;
            StringBuilder randoms = new StringBuilder();
            for (long seed = 0; seed < 5; seed++) {
                DynamicRouter random = RandomRouter.create(model.baseInfo(), seed, FeatureSource.VALUE, Pooling.MEAN,
                        false);
                double ppl = perplexity(model, validation, random, target);
                randomMean += ppl / 5;
                randoms.append(String.format(Locale.ROOT, " %.3f", ppl));
            }

            Path output = tmp.resolve("stories-router.gguf");
            RouterTrainer.Result result = RouterTrainer.train(model, training, config, prior, output, false, null);
            DynamicRouter trained = (DynamicRouter) RouterFile.load(output, model.baseInfo());
            double objectiveAfter = budgetMixNll(model, validation, trained, config.budgets());
            RoutedEvaluation.Result after = RoutedEvaluation.evaluate(model, validation, SequenceRouting.of(trained),
                    target, THREADS);
            double full = RoutedEvaluation.evaluate(model, validation, SequenceRouting.fullDepth(), Budget.full(),
                    THREADS).perplexity();

            double[] losses = result.stepLosses();
            System.out.printf(Locale.ROOT, "stories260K router, 300 steps: validation NLL over training budgets "
                            + "%.4f -> %.4f; b=0.6 ppl: trained %.3f (blocks run %s), its random start %.3f, "
                            + "random seeds 0-4%s (mean %.3f); full depth %.3f; training loss first/last 50 steps "
                            + "%.4f/%.4f; %.0f tok/s%n", objectiveBefore, objectiveAfter, after.perplexity(),
                    Arrays.toString(after.blockRuns()), initialPerplexity, randoms, randomMean, full,
                    Arrays.stream(losses, 0, 50).average().orElseThrow(),
                    Arrays.stream(losses, losses.length - 50, losses.length).average().orElseThrow(),
                    result.tokensPerSecond());

            assertTrue(objectiveAfter < objectiveBefore, "validation NLL over the training budgets did not fall: "
                    + objectiveBefore + " -> " + objectiveAfter);
            assertTrue(after.perplexity() < initialPerplexity, "trained router " + after.perplexity()
                    + " does not beat its random start " + initialPerplexity + " at b=0.6");
            assertTrue(after.perplexity() < randomMean, "trained router " + after.perplexity()
                    + " does not beat the mean random router " + randomMean + " at b=0.6");
        }
    }

    private static double perplexity(FrozenModel model, TrainingData data, DynamicRouter router, Budget budget) {
        return RoutedEvaluation.evaluate(model, data, SequenceRouting.of(router), budget, THREADS).perplexity();
    }

    /** The training objective on held-out data: mean NLL per token, averaged over the training budgets. */
    private static double budgetMixNll(FrozenModel model, TrainingData data, DynamicRouter router, double[] budgets) {
        double sum = 0;
        for (double b : budgets) {
            sum += RoutedEvaluation.evaluate(model, data, SequenceRouting.of(router), Budget.fraction(b), THREADS)
                    .meanNll();
        }
        return sum / budgets.length;
    }
}
